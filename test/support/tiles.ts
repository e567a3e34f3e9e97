// Reading C2SP tlog-tiles responses in tests.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { RFC6962 } from '../../src/core/tlog/hash.ts';

/** The entries of an entry bundle (gunzipped): each a big-endian uint16 length, then the leaf data. */
export function splitBundle(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = body.readUInt16BE(at);
    out.push(body.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

/** Entry i of a bundle hashes, as an RFC 6962 leaf, to hash i of the level-0 tile. */
export function assertEntriesHashToTile(entries: readonly Buffer[], tile: Buffer, label = 'entry'): void {
  entries.forEach((leaf, i) => assert.deepEqual(Buffer.from(RFC6962.hashLeaf(leaf)), tile.subarray(32 * i, 32 * i + 32), `${label} ${i}`));
}

/**
 * The entries and level-0 tile of the newest checkpoint's first partial tile, once the start-up
 * backfill of leaf data has reached them (it runs in the background: 503 until then).
 */
export async function backfilledEntries(app: FastifyInstance): Promise<{ size: number; entries: Buffer[]; tile: Buffer }> {
  const size = Number((await app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
  let bundle = await app.inject({ url: `/v1/log/tile/entries/000.p/${size}` });
  for (let i = 0; i < 100 && bundle.statusCode === 503; i++) {
    await new Promise((r) => setTimeout(r, 50));
    bundle = await app.inject({ url: `/v1/log/tile/entries/000.p/${size}` });
  }
  assert.equal(bundle.statusCode, 200, bundle.body);
  const tile = (await app.inject({ url: `/v1/log/tile/0/000.p/${size}` })).rawPayload;
  return { size, entries: splitBundle(gunzipSync(bundle.rawPayload)), tile };
}

/**
 * A proxy in front of `base` that flips one bit of byte `offset` of the answer to `path` (and
 * passes everything else through): a tile tampered with on the way.
 */
export async function tamperingProxy(base: string, path: string, offset: number): Promise<{ server: Server; url: string }> {
  const target = new URL(base);
  const server = createServer((req, res) => {
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === path) body[offset]! ^= 0x01;
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** A plain static server of a folder (what nginx or an object store would be): 200 with the file, else 404. */
export function serveFolder(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}
