// Configuration for the Prisma CLI (generate, and migrate where Prisma's engine is available).
// The service itself never reads this file: it builds its own client (src/db/client.ts) and
// applies prisma/migrations with its own runner (src/db/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
