// `log monitor` passes on an honest log, and fails when the log's storage is
// rewritten (a fork: a stored leaf changed and the tree rebuilt over it) or truncated (a
// rollback). The tampering is done as a database superuser would, around the append-only
// triggers, on a log served by a fresh instance so no in-memory cache hides it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytesToHex } from '../../src/core/bytes.ts';
import { appendLeaves, packFrontier } from '../../src/core/tlog/compact-range.ts';
import { spkiPem } from '../../src/core/crypto/public-key.ts';
import { bearer, createTestApp, listenTestApp, sha, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { runCliAsync } from '../support/process.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';

const kek = testKek();

async function serve(database: TestDatabase): Promise<{ t: TestApp; url: string }> {
  const t = await createTestApp({ database, kek });
  return { t, url: await listenTestApp(t) };
}

async function sign(t: TestApp, from: number, count: number) {
  const token = await t.publisherToken('acme');
  for (let i = from; i < from + count; i++) {
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'acme/m', version: `1.${i}`, files: [{ path: 'w', sha256: sha(String(i % 10)), size: i }] } });
    assert.equal(res.statusCode, 201, res.body);
  }
}

/** Replaces the stored tree by the tree of `leaves` and drops checkpoints above `keepSize`. */
async function rewriteTree(database: TestDatabase, leaves: Uint8Array[], keepSize: number) {
  const db = database.db;
  const { edge, nodes } = appendLeaves({ size: 0, frontier: [] }, leaves);
  await db.query('ALTER TABLE "tlog_nodes" DISABLE TRIGGER "tlog_nodes_append_only"');
  await db.query('ALTER TABLE "tlog_checkpoints" DISABLE TRIGGER "tlog_checkpoints_append_only"');
  await db.query('DELETE FROM "tlog_nodes"');
  await db.query('DELETE FROM "tlog_checkpoints" WHERE "size" > $1::bigint', [String(keepSize)]);
  await db.query(`INSERT INTO "tlog_nodes" ("level", "idx", "hash") SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS t(l, i, h)`, [
    nodes.map((n) => n.level),
    nodes.map((n) => String(n.index)),
    nodes.map((n) => bytesToHex(n.hash)),
  ]);
  await db.query(`UPDATE "tlog_state" SET "size" = $1::bigint, "frontier" = decode($2, 'hex')`, [String(edge.size), bytesToHex(packFrontier(edge.frontier))]);
  await db.query('ALTER TABLE "tlog_nodes" ENABLE TRIGGER "tlog_nodes_append_only"');
  await db.query('ALTER TABLE "tlog_checkpoints" ENABLE TRIGGER "tlog_checkpoints_append_only"');
}

async function storedLeaves(database: TestDatabase): Promise<Uint8Array[]> {
  const rows = await database.db.query<{ hash: Uint8Array }>('SELECT "hash" FROM "tlog_nodes" n WHERE n."level" = 0 ORDER BY n."idx"');
  return rows.map((r) => new Uint8Array(r.hash));
}

/** An HTTP proxy to `target` that records each request's path and query. */
async function recordingProxy(target: string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('modelsign log monitor', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'modelsign-monitor-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on an honest log, run after run, and pins the log key', async () => {
    const database = await createTestDatabase();
    const { t, url } = await serve(database);
    try {
      const state = path.join(dir, 'honest.json');
      await sign(t, 0, 5);
      const first = await runCliAsync(['log', 'monitor', '--server', url, '--state', state]);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /first run, pinned tlog\.modelsign\.test at 5 entries/);
      await sign(t, 5, 12);
      const second = await runCliAsync(['log', 'monitor', '--server', url, '--state', state, '--json']);
      assert.equal(second.status, 0, second.stderr + second.stdout);
      const report = JSON.parse(second.stdout);
      assert.deepEqual([report.ok, report.previousSize, report.size], [true, 5, 17]);
      const again = await runCliAsync(['log', 'monitor', '--server', url, '--state', state]);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(JSON.parse(readFileSync(state, 'utf8')).size, 17);

      // Entries are asked for only inside the checkpoint the monitor verified (the service would
      // answer a range past it with what there is; the monitor must not depend on that).
      const proxy = await recordingProxy(url);
      try {
        await sign(t, 17, 4);
        const paged = await runCliAsync(['log', 'monitor', '--server', proxy.url, '--state', state]);
        assert.equal(paged.status, 0, paged.stderr);
        const asked = proxy.seen.filter((u) => u.startsWith('/v1/log/entries'));
        assert.ok(asked.length > 0, 'the monitor read entries');
        for (const u of asked) assert.ok(Number(new URL(u, 'http://x').searchParams.get('end')) <= 21, `${u} stays inside the verified checkpoint (21)`);
      } finally {
        await proxy.close();
      }

      // A pinned key that is not the log's: the checkpoint is refused as untrusted.
      const pinned = path.join(dir, 'wrong-key.pem');
      const release = t.services.keys.list().find((k) => k.purpose === 'release')!;
      writeFileSync(pinned, spkiPem(release));
      const untrusted = await runCliAsync(['log', 'monitor', '--server', url, '--state', path.join(dir, 'other.json'), '--log-key', pinned]);
      assert.equal(untrusted.status, EXIT.untrusted, untrusted.stderr);
      assert.match(untrusted.stderr, /not signed by a trusted log key/);
    } finally {
      await t.close();
      await database.drop();
    }
  });

  it('fails on a fork: a stored leaf rewritten and the tree rebuilt over it', async () => {
    const database = await createTestDatabase();
    let served = await serve(database);
    const state = path.join(dir, 'fork.json');
    try {
      await sign(served.t, 0, 9);
      assert.equal((await runCliAsync(['log', 'monitor', '--server', served.url, '--state', state])).status, 0);
      await served.t.close();
      const leaves = await storedLeaves(database);
      leaves[3] = new Uint8Array(32).fill(0xee);
      await rewriteTree(database, leaves, 0);
      served = await serve(database);
      await sign(served.t, 9, 3);
      const saved = readFileSync(state, 'utf8');
      const res = await runCliAsync(['log', 'monitor', '--server', served.url, '--state', state]);
      assert.equal(res.status, EXIT.history, res.stderr + res.stdout);
      assert.match(res.stderr, /fork/);
      assert.equal(readFileSync(state, 'utf8'), saved, 'the saved checkpoint is kept');
    } finally {
      await served.t.close();
      await database.drop();
    }
  });

  /**
   * Signs 4 entries, lets the monitor save them, signs 4 more, rewrites entry 6 behind the
   * service's back (the trigger that guards it disabled) with `rewrite`, and runs the monitor again.
   */
  async function monitorAfterRewrite(stateName: string, rewrite: string) {
    const database = await createTestDatabase();
    const { t, url } = await serve(database);
    const state = path.join(dir, stateName);
    try {
      await sign(t, 0, 4);
      assert.equal((await runCliAsync(['log', 'monitor', '--server', url, '--state', state])).status, 0);
      await sign(t, 4, 4);
      await database.db.query('ALTER TABLE "release_signatures" DISABLE TRIGGER "release_signatures_log_index_fixed"');
      await database.db.query(`UPDATE "release_signatures" SET ${rewrite} WHERE "log_index" = 6`);
      return await runCliAsync(['log', 'monitor', '--server', url, '--state', state]);
    } finally {
      await t.close();
      await database.drop();
    }
  }

  it('fails when a new entry is rewritten after its checkpoint (entries do not match the root)', async () => {
    // The signed payload changed (still the same release): its entry's body, and so its leaf, change.
    const res = await monitorAfterRewrite('entry.json', `"payload" = "payload" || '\\x20'::bytea`);
    assert.equal(res.status, EXIT.history, res.stderr + res.stdout);
    assert.match(res.stderr, /do not hash to the root/);
  });

  it('fails when an entry is served under another release than its payload signs (the label is checked against the body)', async () => {
    const res = await monitorAfterRewrite('label.json', `"version" = '9.9.9'`);
    assert.equal(res.status, EXIT.history, res.stderr + res.stdout);
    assert.match(res.stderr, /entry 6 \(acme\/m@9\.9\.9\): its payload signs "acme\/m@1\.\d+", not acme\/m@9\.9\.9/);
  });

  it('fails on a rollback: the log truncated', async () => {
    const database = await createTestDatabase();
    let served = await serve(database);
    const state = path.join(dir, 'rollback.json');
    try {
      await sign(served.t, 0, 10);
      assert.equal((await runCliAsync(['log', 'monitor', '--server', served.url, '--state', state])).status, 0);
      await served.t.close();
      const leaves = await storedLeaves(database);
      await database.db.query('DELETE FROM "release_signatures" WHERE "log_index" >= 6');
      await rewriteTree(database, leaves.slice(0, 6), 6);
      served = await serve(database);
      const res = await runCliAsync(['log', 'monitor', '--server', served.url, '--state', state]);
      assert.equal(res.status, EXIT.history, res.stderr + res.stdout);
      assert.match(res.stderr, /rollback: the log shrank from 10 to 6/);
    } finally {
      await served.t.close();
      await database.drop();
    }
  });

  it('says in one line when the server cannot be reached or the arguments are wrong', async () => {
    const down = await runCliAsync(['log', 'monitor', '--server', 'http://127.0.0.1:9', '--state', path.join(dir, 'x.json')]);
    assert.equal(down.status, EXIT.service);
    assert.match(down.stderr, /^modelsign log monitor: cannot reach http:\/\/127\.0\.0\.1:9/);
    assert.equal(down.stderr.trim().split('\n').length, 1);
    const usage = await runCliAsync(['log', 'monitor', '--server', 'ftp://x']);
    assert.equal(usage.status, 2);
  });
});
