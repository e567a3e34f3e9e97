// The transparency log, read-only and public: the latest signed checkpoint, proofs against any
// tree size it covers, and the entries themselves for monitors. Every bound is checked against
// the latest signed checkpoint, so nothing is served about a tree no checkpoint commits to (a
// range of entries past it is cut there, as RFC 6962 logs cut it).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseTilePath, type TileAddress } from '../../../core/tlog/tile-path.ts';
import { TlogError } from '../../../core/tlog/tlog-error.ts';
import type { CatchAllRouteOf, RouteOf } from '../../../api/wire.ts';
import { toBase64 } from '../../../core/bytes.ts';
import { logEntryView } from '../../../api/log-entries.ts';
import { ModelsignError } from '../../../core/errors.ts';
import { formatVkey, keyIdHex, NOTE_TYPE } from '../../../core/tlog/vkey.ts';

// Entries per page of GET /v1/log/entries at most.
const MAX_ENTRIES_PAGE = 1000;

/** Refuses a range the signed log does not cover, in the words of the route's parameters. */
function assertRange(ok: boolean, message: string): void {
  if (!ok) throw new ModelsignError('log_range_invalid', message);
}

// A CDN must not keep a "not yet" (a tile beyond the tree, a bundle still being backfilled) or a refusal.
function noStoreErrors(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  if (reply.statusCode >= 400) reply.header('cache-control', 'no-store');
  done(null, payload);
}

export default async function logRoutes(app: FastifyInstance) {
  const tlog = app.services.log;

  // The checkpoint is also the tiles API's `<prefix>/checkpoint` (C2SP tlog-tiles, prefix /v1/log):
  // revalidated on every use (no-cache, with an ETag), readable from any origin (security plugin).
  app.get('/log/checkpoint', { schema: app.openapi.routeSchema('getCheckpoint'), onSend: noStoreErrors }, async (request, reply) => {
    const checkpoint = await tlog.servedCheckpoint();
    const etag = `"${createHash('sha256').update(checkpoint.note).digest('hex').slice(0, 32)}"`;
    reply.header('cache-control', 'no-cache').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/plain; charset=utf-8').send(checkpoint.note);
  });

  app.get('/log/checkpoint/latest', { schema: app.openapi.routeSchema('getLatestCheckpoint'), onSend: noStoreErrors }, async (_request, reply) => {
    const checkpoint = await tlog.latestCheckpoint();
    return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(checkpoint.note);
  });

  app.get('/log/vkey', { schema: app.openapi.routeSchema('getLogVkey') }, async (_request, reply) => {
    const key = app.services.keys.list().find((k) => k.purpose === 'log' && k.status === 'active');
    if (!key) throw new ModelsignError('unavailable', 'the log has no active key');
    return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(`${formatVkey(tlog.origin, NOTE_TYPE.ed25519, key.publicKey)}\n`);
  });

  app.get('/log/witnesses', { schema: app.openapi.routeSchema('getLogWitnesses') }, async () => {
    const w = app.services.witnesses;
    if (!w) return { configured: false, witnesses: [], alarms: [] };
    const states = await w.client.states();
    return {
      configured: true,
      policy: w.config.text,
      witnesses: w.client.targets.map((t) => {
        const keyId = keyIdHex(t.key.keyId);
        const state = states.find((s) => s.name === t.name && s.keyId === keyId);
        return { name: t.name, keyId, url: t.url, paceSeconds: t.paceMs / 1000, status: state?.status ?? 'new', cosignedSize: state?.cosignedSize ?? null, cosignedAt: state?.cosignedAt ?? null };
      }),
      alarms: [...w.client.alarms.values()],
    };
  });

  app.get<RouteOf<'getInclusionProof'>>(
    '/log/proofs/inclusion',
    { schema: app.openapi.routeSchema('getInclusionProof') },
    async (request) => {
      const signed = (await tlog.servedCheckpoint()).size;
      const { index } = request.query;
      const treeSize = request.query.treeSize ?? signed;
      assertRange(treeSize <= signed, `treeSize ${treeSize} is beyond the latest signed checkpoint (size ${signed})`);
      assertRange(index < treeSize, `index ${index} is not inside a tree of size ${treeSize}`);
      const { proof, root } = await tlog.inclusionProofWithRoot(index, treeSize);
      return { index, treeSize, rootHash: toBase64(root), hashes: proof.map(toBase64) };
    },
  );

  app.get<RouteOf<'getConsistencyProof'>>(
    '/log/proofs/consistency',
    { schema: app.openapi.routeSchema('getConsistencyProof') },
    async (request) => {
      const signed = (await tlog.servedCheckpoint()).size;
      const { from } = request.query;
      const to = request.query.to ?? signed;
      assertRange(to <= signed, `to ${to} is beyond the latest signed checkpoint (size ${signed})`);
      assertRange(from >= 1, 'from must be at least 1: nothing is proved from the empty tree');
      assertRange(from <= to, `from (${from}) is larger than to (${to})`);
      const { proof, fromRoot, toRoot } = await tlog.consistencyProofWithRoots(from, to);
      return { from, to, fromRoot: toBase64(fromRoot), toRoot: toBase64(toRoot), hashes: proof.map(toBase64) };
    },
  );

  app.get<RouteOf<'getLogEntries'>>('/log/entries', { schema: app.openapi.routeSchema('getLogEntries') }, async (request, reply) => {
    const treeSize = (await tlog.servedCheckpoint()).size;
    const { start } = request.query;
    const requestedEnd = request.query.end ?? start + 100;
    assertRange(start <= requestedEnd, `start (${start}) is larger than end (${requestedEnd})`);
    // As RFC 6962 logs answer: the entries that exist in the range, up to the signed tree (none
    // past its end); `end` says where this page stopped and `treeSize` what it was cut to.
    const end = Math.max(start, Math.min(requestedEnd, treeSize, start + MAX_ENTRIES_PAGE));
    // A range that reaches past the tree will hold more later: not to be cached.
    if (requestedEnd > treeSize) reply.header('cache-control', 'no-cache');
    const entries = end > start ? await tlog.entries(start, end) : [];
    return { start, end, treeSize, entries: entries.map(logEntryView) };
  });

  // C2SP tlog-tiles under /v1/log: hash tiles and entry bundles, immutable once served (a partial
  // too: its content is fixed by its width). One catch-all route, since a tile index holds slashes
  // (openapi.yaml documents it as one operation; test/server/openapi.test.ts maps the two).
  const { params: _documentedAsOneSegment, ...tileSchema } = app.openapi.routeSchema('getTile');
  app.get<CatchAllRouteOf<'getTile'>>('/log/tile/*', { schema: tileSchema, onSend: noStoreErrors }, async (request, reply) => {
    let address: TileAddress;
    try {
      address = parseTilePath(request.params['*']);
    } catch (err) {
      if (err instanceof TlogError) throw new ModelsignError('tile_path_invalid', err.message);
      throw err;
    }
    const tile = await app.services.tiles.read(address);
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/octet-stream');
    if (tile.encoding) reply.header('content-encoding', tile.encoding);
    return reply.send(tile.body);
  });
}
