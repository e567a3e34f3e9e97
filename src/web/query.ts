// What a search box holds: a model (`ns/name` or `ns/name@version`), a namespace (`ns`, or `ns/`), a file or root digest
// (64 hex), a signature id (a UUID) or a log index (digits). Pure, so it is tested in Node.
export type Query =
  | { kind: 'model'; model: string; version?: string }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'digest'; sha256: string }
  | { kind: 'id'; id: string }
  | { kind: 'log-index'; index: number }
  | { kind: 'invalid'; message: string };

const MODEL = /^([a-z0-9][a-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9][A-Za-z0-9._+-]*))?$/;
const NAMESPACE = /^([a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?)\/?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseQuery(text: string): Query {
  const q = text.trim();
  if (q === '') return { kind: 'invalid', message: 'Type a model (acme/llama-7b or acme/llama-7b@1.0), a namespace (acme), a SHA-256 digest, a signature id or a log index.' };
  if (/^[0-9a-fA-F]{64}$/.test(q)) return { kind: 'digest', sha256: q.toLowerCase() };
  if (UUID.test(q)) return { kind: 'id', id: q.toLowerCase() };
  if (/^\d{1,15}$/.test(q)) return { kind: 'log-index', index: Number(q) };
  const model = MODEL.exec(q);
  if (model) return model[2] ? { kind: 'model', model: model[1]!, version: model[2] } : { kind: 'model', model: model[1]! };
  const namespace = NAMESPACE.exec(q);
  if (namespace) return { kind: 'namespace', namespace: namespace[1]! };
  return { kind: 'invalid', message: `"${q}" is not a model name (namespace/name[@version]), a namespace, a 64-hex digest, a signature id or a log index.` };
}
