// `modelsign admin token`: issues a token directly against the database, which is how the first
// admin token comes to exist. Prints only the JWT (or JSON with --json) on stdout.
import { existsSync } from 'node:fs';
import { controlSocketPath, type IssueTokenCommand } from '../api/control.ts';
import { issuedTokenView } from '../api/tokens.ts';
import type { Wire } from '../api/wire.ts';
import { loadConfig } from '../config.ts';
import { parseDuration } from '../core/duration.ts';
import { isRole, ROLES } from '../core/tokens.ts';
import { DataDirLockedError } from '../app/startup-errors.ts';
import { openRuntime } from '../app/runtime.ts';
import { adminFailure, adminLogger, cliActor, heldRuntime } from './admin-context.ts';
import { parse, UsageError } from './args.ts';
import { sendControl } from './control-client.ts';
import { EXIT } from './exit-codes.ts';
import { output } from './output.ts';

const USAGE = `Usage: modelsign admin token --role admin|auditor --subject NAME [--ttl 30d] [--json]
       modelsign admin token --role publisher --publisher NAME_OR_ID [--ttl 30d] [--json]

Issues a token and prints it. Run it where the database is reachable: with DATABASE_URL, or on
the machine of the embedded database in MODELSIGN_DATA_DIR (when a service holds it, the
command asks that service through the control socket in the data folder).`;

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
  const role = values.role;
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}\n\n${USAGE}`);
  const ttlMs = parseDuration(values.ttl!);
  const request = { role, subject: values.subject, publisher: values.publisher, ttlMs };
  const actor = cliActor();
  const issued = await issue(request, actor);
  output().out(values.json ? JSON.stringify(issued) + '\n' : issued.token + '\n');
  return EXIT.ok;
}

/** On the held runtime; else on a short-lived one; else, when a service holds the embedded database, through its control socket. */
async function issue(request: Omit<IssueTokenCommand, 'op' | 'actor'>, actor: string): Promise<Wire['IssuedToken']> {
  const holding = heldRuntime();
  if (holding) {
    try {
      return issuedTokenView(await holding.services.tokens.issueFor(request, actor));
    } catch (err) {
      throw adminFailure(err) ?? err;
    }
  }
  const config = loadConfig();
  try {
    const runtime = await openRuntime(config, adminLogger(config));
    try {
      return issuedTokenView(await runtime.services.tokens.issueFor(request, actor));
    } finally {
      await runtime.close();
    }
  } catch (err) {
    // The embedded database is held by a running service: ask it through its control socket.
    const socket = err instanceof DataDirLockedError ? controlSocketPath(config.dataDir) : undefined;
    if (!socket || !existsSync(socket)) throw adminFailure(err) ?? err;
    try {
      return (await sendControl(socket, { op: 'issue-token', ...request, actor })) as Wire['IssuedToken'];
    } catch (failure) {
      throw adminFailure(failure) ?? failure;
    }
  }
}
