// pino, with every place a secret could appear redacted. Requests are logged by Fastify's own
// serializers (method, url, ids), which never include headers; the redaction is a second line.
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'req.body.token',
  'body.token',
  'idToken',
  '*.idToken',
  'kek',
  '*.kek',
  'privateKey',
  '*.privateKey',
  'privateKeyCt',
  '*.privateKeyCt',
  'seed',
  '*.seed',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'modelsign' } }, destination);
}
