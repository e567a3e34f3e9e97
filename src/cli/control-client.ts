// The admin commands' side of src/app/control-socket.ts.
import { connect } from 'node:net';
import { ModelsignError, type ErrorCode } from '../core/errors.ts';
import type { ControlReply, IssueTokenCommand } from '../api/control.ts';

export function sendControl(socketPath: string, command: IssueTokenCommand, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let output = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('the service did not answer on its control socket')));
    socket.on('connect', () => socket.write(JSON.stringify(command) + '\n'));
    socket.on('data', (chunk: string) => (output += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        const reply = JSON.parse(output) as ControlReply;
        if (reply.ok) resolve(reply.result);
        else reject(new ModelsignError(reply.code as ErrorCode, reply.message));
      } catch {
        reject(new Error('the service sent an unreadable reply on its control socket'));
      }
    });
  });
}
