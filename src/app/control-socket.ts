// The embedded database belongs to the serving process, so while it runs the admin commands
// cannot open the database themselves. They ask the service instead, over a Unix socket in the
// data folder (mode 0600, in a 0700 folder): whoever can use it can already read the database
// files and the KEK beside it, so the socket grants nothing new. One JSON line in, one out.
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { controlSocketPath, type ControlReply, type IssueTokenCommand } from '../api/control.ts';
import { issuedTokenView } from '../api/tokens.ts';
import { isModelsignError } from '../core/errors.ts';
import type { Services } from '../services/index.ts';

export async function startControlSocket(dataDir: string, services: Services, warn: (m: string) => void): Promise<Server | undefined> {
  const file = controlSocketPath(dataDir);
  if (!file) {
    warn(`the data folder path is too long for a control socket; stop the service to run admin commands`);
    return undefined;
  }
  // The data folder is locked by this process, so a socket file left here is stale.
  if (existsSync(file)) rmSync(file);
  const server = createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      if (input.includes('\n')) return; // one command per connection
      input += chunk;
      if (input.length > 64 * 1024) return socket.destroy();
      const end = input.indexOf('\n');
      if (end >= 0) void handle(input.slice(0, end)).then((reply) => socket.end(JSON.stringify(reply) + '\n'));
    });
  });

  async function handle(line: string): Promise<ControlReply> {
    try {
      const command = JSON.parse(line) as IssueTokenCommand;
      if (command.op !== 'issue-token') return { ok: false, code: 'unknown_op', message: `unknown operation ${JSON.stringify(command.op)}` };
      const { role, subject, publisher, ttlMs, actor } = command;
      return { ok: true, result: issuedTokenView(await services.tokens.issueFor({ role, subject, publisher, ttlMs }, String(actor))) };
    } catch (err) {
      return isModelsignError(err) ? { ok: false, code: err.code, message: err.message } : { ok: false, code: 'internal_error', message: 'the service could not do this; see its log' };
    }
  }

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(file, () => resolve()));
  chmodSync(file, 0o600);
  server.on('close', () => rmSync(file, { force: true }));
  return server;
}
