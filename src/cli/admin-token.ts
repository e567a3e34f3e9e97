// `modelsign admin token`: issues a token directly against the database, which is how the first
// admin token comes to exist. Prints only the JWT (or JSON with --json) on stdout.
import os from 'node:os';
import { loadConfig } from '../config.ts';
import { parseDuration } from '../core/duration.ts';
import { createLogger } from '../server/logger.ts';
import type { Role } from '../services/principal.ts';
import { parse, UsageError } from './args.ts';
import { openRuntime } from './runtime.ts';

const USAGE = `Usage: modelsign admin token --role admin|auditor --subject NAME [--ttl 30d] [--json]
       modelsign admin token --role publisher --publisher NAME_OR_ID [--ttl 30d] [--json]

Issues a token and prints it. Run it where the database is reachable (DATABASE_URL, or the
embedded database in MODELSIGN_DATA_DIR while the service is stopped).`;

const ROLES: Role[] = ['admin', 'publisher', 'auditor'];

export async function adminToken(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      role: { type: 'string' },
      subject: { type: 'string' },
      publisher: { type: 'string' },
      ttl: { type: 'string', default: '30d' },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}\n\n${USAGE}`);
  const ttlMs = parseDuration(values.ttl!);
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
  const runtime = await openRuntime(config, logger);
  try {
    const issued = await runtime.services.tokens.issue(
      { role, subject: values.subject, publisher: values.publisher, ttlMs },
      `cli:${os.userInfo().username}`,
    );
    process.stdout.write(values.json ? JSON.stringify(issued) + '\n' : issued.token + '\n');
    return 0;
  } finally {
    await runtime.close();
  }
}
