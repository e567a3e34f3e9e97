// The baseline for bench/sign.ts and bench/verify.ts: the least a signing service could do per
// request — a bare Fastify route that signs the body with node:crypto and inserts one row with
// pg; one that parses a bundle and checks its DSSE signature once with node:crypto (keys given in
// VERIFY_KEYS, a JSON object of kid to SPKI PEM) — a bare hello route for reads, and for
// bench/tiles.ts a tile route answering every path with 8 KiB from memory and one reading a tile
// as one row from PostgreSQL. Not part of the product.
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const url = process.env.DATABASE_URL!;
const port = Number(process.env.PORT);
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.POOL_SIZE ?? 20) });
await pool.query('CREATE TABLE IF NOT EXISTS bench_baseline (id uuid PRIMARY KEY, body jsonb NOT NULL, signature bytea NOT NULL)');
// One route per signature algorithm, so each of modelsign's is compared with the same algorithm.
const keys = {
  ed25519: { key: generateKeyPairSync('ed25519').privateKey, digest: null },
  'ecdsa-p256': { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, digest: 'sha256' },
};

const app = Fastify({ logger: false });
for (const [name, { key, digest }] of Object.entries(keys)) {
  app.post(`/sign/${name}`, async (request, reply) => {
    const body = JSON.stringify(request.body);
    const signature = sign(digest, Buffer.from(body), { key, dsaEncoding: 'der' });
    const id = randomUUID();
    await pool.query('INSERT INTO bench_baseline (id, body, signature) VALUES ($1, $2, $3)', [id, body, signature]);
    reply.code(201);
    return { id, signature: signature.toString('base64') };
  });
}
const verifyKeys = new Map<string, KeyObject>(Object.entries(JSON.parse(process.env.VERIFY_KEYS ?? '{}') as Record<string, string>).map(([kid, pem]) => [kid, createPublicKey(pem)]));
app.post('/verify', async (request) => {
  const { bundle } = request.body as { bundle: { verificationMaterial: { publicKey: { hint: string } }; dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] } } };
  const key = verifyKeys.get(bundle.verificationMaterial.publicKey.hint)!;
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
  const type = Buffer.from(bundle.dsseEnvelope.payloadType);
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
  const valid = verify(key.asymmetricKeyType === 'ec' ? 'sha256' : null, pae, key, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'));
  return { valid };
});
app.get('/hello', async () => ({ hello: 'world' }));
// Random bytes, as a hash tile's are, and other bytes for each path, as each tile's are: the load
// generator (autocannon 8) decodes every response body to a string (`req.body += data`), and that
// costs it more for bytes that are not ASCII, and far more for a body it has not decoded before:
// 14 us for one 8 KiB random buffer decoded again and again, 95 us for 64 different ones, in a
// loop in one process (a raw node:http server: 73,000 req/s with zeros, 30,000 with one random
// body, 8,900 with one of 64). A baseline sending one fixed body measured the generator, not the
// service (the service's cached tiles ran at 0.29x of it, and at the generator's own ceiling). So
// the bare route answers each path with 8 KiB of its own, made on first request and kept (32 MiB
// for the 3,921 full tiles of a 1,000,000-entry log).
const TILES = new Map<string, Buffer>();
app.get('/v1/log/tile/*', async (request, reply) => {
  const path = (request.params as { '*': string })['*'];
  let tile = TILES.get(path);
  if (!tile) TILES.set(path, (tile = randomBytes(8192)));
  return reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/octet-stream').send(tile);
});
// bench/tiles.ts's floor for a tile read from the database: level-0 tile N as one row of
// bench_tiles (made by the bench from the log's own nodes), by primary key, with a prepared
// statement and no cache: the least a route that reads PostgreSQL per request can cost.
app.get('/db/tile/0/*', async (request, reply) => {
  const index = Number((request.params as { '*': string })['*'].replace(/x/g, '').replace(/\//g, ''));
  const { rows } = await pool.query({ name: 'bench-tile', text: 'SELECT "hashes" FROM bench_tiles WHERE "idx" = $1', values: [index] });
  if (rows.length === 0) return reply.code(404).send();
  return reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/octet-stream').send(rows[0].hashes);
});
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
