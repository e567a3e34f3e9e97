// The control socket's protocol (src/app/control-socket.ts serves it, src/cli/control-client.ts
// speaks it): one JSON line in, one out.
import type { Role } from '../core/tokens.ts';

export const CONTROL_SOCKET = 'control.sock';
// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 100;

/** The socket in a data folder, or undefined when its path is too long for a Unix socket. */
export function controlSocketPath(dataDir: string): string | undefined {
  const file = `${dataDir.replace(/\/+$/, '')}/${CONTROL_SOCKET}`;
  return new TextEncoder().encode(file).length <= MAX_SOCKET_PATH ? file : undefined;
}

export interface IssueTokenCommand {
  op: 'issue-token';
  role: Role;
  subject?: string | undefined;
  publisher?: string | undefined;
  ttlMs: number;
  actor: string;
}

export type ControlReply = { ok: true; result: unknown } | { ok: false; code: string; message: string };
