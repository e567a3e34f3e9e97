// Exits 0 when the PostgreSQL server for tests answers, 1 otherwise.
import pg from 'pg';
import { ADMIN_URL } from './db.ts';

const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
try {
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
  process.exit(0);
} catch {
  process.exit(1);
}
