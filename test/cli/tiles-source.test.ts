// The HTTP reader of `log mirror --from` and `log monitor --tiles` (cli/tiles-source.ts), against a
// plain node:http server that answers as static hosts and CDNs do: identity and gzip bodies, the
// redirects object stores and pages hosts send, 404s, and the answers a hostile host could send
// (a decompression bomb, an endless redirect chain, an encoding it was not offered). Every failure
// is one line and exit 5; a resource is read over one kept-alive connection, not one per file.
// Tier: quick
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CliFailure, EXIT } from '../../src/cli/exit-codes.ts';
import { MAX_RESOURCE_BYTES, TilesSource } from '../../src/cli/tiles-source.ts';
import { freePort } from '../support/process.ts';

const tile = new Uint8Array(8192).map((_, i) => (i * 7) % 251);

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/log/tile/0/000': (_req, res) => res.end(tile),
  '/log/tile/entries/000': (req, res) => {
    // Gzipped only when asked, as nginx's `gzip on` does.
    if (!/\bgzip\b/.test(String(req.headers['accept-encoding']))) return void res.end(tile);
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync(tile));
  },
  '/log/moved': (_req, res) => res.writeHead(302, { location: '/elsewhere/tile' }).end(),
  '/elsewhere/tile': (_req, res) => res.end(tile),
  '/log/loop': (_req, res) => res.writeHead(301, { location: '/log/loop' }).end(),
  '/log/to-ftp': (_req, res) => res.writeHead(302, { location: 'ftp://example.test/x' }).end(),
  '/log/broken': (_req, res) => res.writeHead(500).end('oops'),
  '/log/bomb': (_req, res) => {
    res.setHeader('content-encoding', 'gzip');
    res.end(gzipSync(Buffer.alloc(MAX_RESOURCE_BYTES + 1024)));
  },
  '/log/huge': (_req, res) => {
    // Sent in 1 MiB writes without a length: only the reader's count can stop it.
    const chunk = Buffer.alloc(1024 * 1024);
    let sent = 0;
    const more = () => {
      while (sent <= MAX_RESOURCE_BYTES) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
  },
  '/log/brotli': (_req, res) => res.writeHead(200, { 'content-encoding': 'br' }).end('not brotli'),
  '/log/bad-gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip'),
};

async function failure(p: Promise<unknown>): Promise<CliFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CliFailure, `not a CliFailure: ${String(err)}`);
    return err;
  }
  assert.fail('no failure');
}

describe('TilesSource (the tiles reader of log mirror and log monitor)', () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const encodings: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      encodings.push(String(req.headers['accept-encoding']));
      const route = routes[req.url ?? ''];
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
  });
  after(() => server.close());

  it('reads a resource as sent, and a gzipped one decoded, asking for gzip', async () => {
    const source = new TilesSource(base);
    assert.deepEqual(await source.bytes('tile/0/000'), tile);
    assert.deepEqual(await source.bytes('tile/entries/000'), tile);
    assert.match(encodings.at(-1)!, /gzip/);
  });

  it('reads many resources over kept-alive connections, not one connection each', async () => {
    const source = new TilesSource(base);
    const before = connections;
    for (let i = 0; i < 40; i++) assert.equal((await source.bytes('tile/0/000')).length, 8192);
    assert.equal(connections - before, 1);
  });

  it('follows redirects to http(s), and refuses a chain longer than five or another scheme', async () => {
    const source = new TilesSource(base);
    assert.deepEqual(await source.bytes('moved'), tile);
    const loop = await failure(source.bytes('loop'));
    assert.equal(loop.exitCode, EXIT.service);
    assert.match(loop.message, /more than 5 redirects/);
    const ftp = await failure(source.bytes('to-ftp'));
    assert.equal(ftp.exitCode, EXIT.service);
    assert.match(ftp.message, /ftp:, not http\(s\)/);
  });

  it('answers undefined for an optional 404, and exit 5 naming the URL and status otherwise', async () => {
    const source = new TilesSource(base);
    assert.equal(await source.bytes('tile/0/999', true), undefined);
    const missing = await failure(source.bytes('tile/0/999'));
    assert.equal(missing.exitCode, EXIT.service);
    assert.equal(missing.message, `${base}/tile/0/999 answered 404`);
    const broken = await failure(source.bytes('broken', true));
    assert.equal(broken.message, `${base}/broken answered 500`);
  });

  it('refuses a body over the cap or that decodes past it, an encoding it did not offer, and gzip that is not', async () => {
    const source = new TilesSource(base);
    const bomb = await failure(source.bytes('bomb'));
    assert.equal(bomb.exitCode, EXIT.service);
    assert.match(bomb.message, new RegExp(`does not decode within ${MAX_RESOURCE_BYTES} bytes`));
    const huge = await failure(source.bytes('huge'));
    assert.equal(huge.exitCode, EXIT.service);
    assert.match(huge.message, new RegExp(`more than ${MAX_RESOURCE_BYTES} bytes`));
    const br = await failure(source.bytes('brotli'));
    assert.match(br.message, /Content-Encoding br, not gzip/);
    const bad = await failure(source.bytes('bad-gzip'));
    assert.equal(bad.exitCode, EXIT.service);
    // The source still reads after those (its connections were not left in a broken state).
    assert.deepEqual(await source.bytes('tile/0/000'), tile);
  });

  it('says connection refused when nothing listens, exit 5', async () => {
    const source = new TilesSource(`http://127.0.0.1:${await freePort()}/log`);
    const refused = await failure(source.bytes('checkpoint'));
    assert.equal(refused.exitCode, EXIT.service);
    assert.match(refused.message, /connection refused/);
  });
});
