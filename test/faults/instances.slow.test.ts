// Three instances on one PostgreSQL database for 60 s, with signing spread
// over all three, key rotations (release, log, token) on random instances, revocation of
// retired release keys, and token revocations. Throughout: at most one active key per purpose
// and algorithm (sampled every 50 ms from the database), and a revoked token refused by every instance within
// 1 s. Afterwards: no duplicate or missing log index, and every acknowledged bundle verifies.
import { keySet } from '../../src/core/keys/key-set.ts';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { createPostgresDatabase } from '../support/db.ts';
import type { Service } from '../support/process.ts';
import { assertGaplessLog, assertNoSecretsIn, deployment, signingLoad, sleep, type Deployment } from './support/harness.ts';
import { assertConsistent, publishedKeys, signedCheckpoint } from './support/log-client.ts';

const DURATION_MS = Number(process.env.MODELSIGN_FAULT_DURATION_MS ?? 60_000);

describe('three instances, 60 s of concurrent signing, rotation, revocation and token revocation', () => {
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let d: Deployment;
  before(async () => {
    db = await createPostgresDatabase();
    d = deployment(db.url);
  });
  after(async () => {
    for (const s of d.services) await s.stop('SIGKILL');
    d.saveLogs('instances');
    await db.drop();
  });

  it('keeps every promise', { timeout: 10 * 60_000 }, async () => {
    const first = await d.start();
    const instances: Service[] = [first, ...(await Promise.all([d.start(), d.start()]))];
    const pick = () => instances[randomInt(instances.length)]!;
    const { admin, publisher } = await d.acme(first);
    const call = (s: Service, method: string, url: string, token: string, body?: object) =>
      fetch(`${s.base}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const startCheckpoint = await signedCheckpoint(first.base);

    let running = true;
    const until = Date.now() + DURATION_MS;
    const load = signingLoad((w) => instances[w % instances.length]!.base, publisher, { concurrency: 12, pauseMs: 80 });

    // At most one active key per purpose and algorithm (release keys come in two), every 50 ms.
    const sampler = (async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      let samples = 0;
      let worst = 0;
      while (running) {
        const { rows } = await client.query<{ purpose: string; n: number }>(`SELECT "purpose"::text AS purpose, count(*)::int AS n FROM "keys" WHERE "status" = 'active' GROUP BY "purpose", "algorithm"`);
        for (const r of rows) worst = Math.max(worst, r.n);
        assert.equal(rows.length, 4, 'every purpose (and each release algorithm) has an active key');
        samples++;
        await sleep(50);
      }
      await client.end();
      return { samples, worst };
    })();

    // Rotations on random instances, every 2-4 s, of a random purpose.
    const rotations: Array<{ purpose: string; status: number }> = [];
    const retiredAt = new Map<string, number>();
    const rotator = (async () => {
      while (Date.now() < until) {
        await sleep(2000 + randomInt(2000));
        const purpose = (['release', 'release', 'log', 'token'] as const)[randomInt(4)]!;
        const res = await call(pick(), 'POST', '/v1/admin/keys/rotate', admin, { purpose });
        const body = (await res.json()) as { previous?: { kid: string } };
        rotations.push({ purpose, status: res.status });
        if (res.status === 200 && purpose === 'release') retiredAt.set(body.previous!.kid, Date.now());
      }
    })();

    // Revocation of release keys retired at least 5 s ago: everything they signed was logged
    // before the compromise time, so every bundle must still verify.
    const revocations: string[] = [];
    const revoker = (async () => {
      while (Date.now() < until) {
        await sleep(5000 + randomInt(3000));
        const due = [...retiredAt].find(([, at]) => Date.now() - at >= 5000);
        if (!due) continue;
        retiredAt.delete(due[0]);
        const res = await call(pick(), 'POST', `/v1/admin/keys/${due[0]}/revoke`, admin, { compromisedAt: new Date().toISOString(), reason: 'fault test' });
        assert.equal(res.status, 200, await res.text());
        revocations.push(due[0]);
      }
    })();

    // Token revocation: a fresh auditor token used on all three instances, revoked on one; every
    // instance must refuse it within 1 s.
    const refusalMs: number[] = [];
    const tokenRevoker = (async () => {
      while (Date.now() < until) {
        const issued = await call(pick(), 'POST', '/v1/admin/tokens', admin, { role: 'auditor', subject: `watcher-${randomInt(1e9)}`, ttl: '1h' });
        assert.equal(issued.status, 201);
        const { token, jti } = (await issued.json()) as { token: string; jti: string };
        for (const s of instances) assert.equal((await call(s, 'GET', '/v1/admin/publishers', token)).status, 200);
        const revokedAt = Date.now();
        assert.equal((await call(pick(), 'DELETE', `/v1/admin/tokens/${jti}`, admin)).status, 204);
        await Promise.all(
          instances.map(async (s) => {
            for (;;) {
              const res = await call(s, 'GET', '/v1/admin/publishers', token);
              if (res.status === 401) {
                assert.equal(((await res.json()) as { code: string }).code, 'token_revoked');
                refusalMs.push(Date.now() - revokedAt);
                return;
              }
              assert.equal(res.status, 200);
              assert.ok(Date.now() - revokedAt < 5000, 'refused eventually');
              await sleep(20);
            }
          }),
        );
        await sleep(1000 + randomInt(2000));
      }
    })();

    await Promise.all([rotator, revoker, tokenRevoker]);
    await load.stop();
    running = false;
    const { samples, worst } = await sampler;

    const acked = load.acked();
    const statuses: Record<string, number> = {};
    for (const o of load.outcomes) statuses[String(o.status)] = (statuses[String(o.status)] ?? 0) + 1;
    console.log(
      `# instances: ${acked.length} signatures acknowledged (${JSON.stringify(statuses)}); ${rotations.filter((r) => r.status === 200).length} rotations ${JSON.stringify(rotations.map((r) => r.purpose))}; ` +
        `${revocations.length} release keys revoked; ${refusalMs.length / 3} tokens revoked, refused after max ${Math.max(...refusalMs)} ms (median ${refusalMs.sort((a, b) => a - b)[Math.floor(refusalMs.length / 2)]} ms); ` +
        `${samples} samples of the key table, at most ${worst} active key per purpose and algorithm`,
    );
    assert.deepEqual(Object.keys(statuses).filter((s) => s !== '201'), [], 'every signing request succeeded');
    assert.ok(rotations.filter((r) => r.status === 200).length >= 10, 'rotations happened');
    assert.ok(revocations.length >= 3, 'revocations happened');
    assert.ok(refusalMs.length >= 30, 'token revocations happened');
    for (const ms of refusalMs) assert.ok(ms <= 1000, `a revoked token was accepted for ${ms} ms`);
    assert.equal(worst, 1, 'never two active keys of one purpose and algorithm');
    assert.ok(samples >= DURATION_MS / 100);

    await assertGaplessLog(db.url);
    // Every instance's list: a rotation in the last moments of the run may not have reached the
    // first instance's state poll yet (seen once in CI: a checkpoint by a log key it did not list).
    const keys = [...new Map((await Promise.all(instances.map((s) => publishedKeys(s.base)))).flat().map((k) => [k.kid, k])).values()];
    const trust = keySet(keys);
    const queue = acked.map((o) => o.id!);
    let verified = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, w) => {
        for (let id = queue.pop(); id; id = queue.pop()) {
          const res = await fetch(`${instances[w % 3]!.base}/v1/signatures/${id}`);
          assert.equal(res.status, 200);
          const verdict = verifyBundle(((await res.json()) as { bundle: unknown }).bundle, trust);
          assert.ok(verdict.valid, `${id}: ${JSON.stringify(verdict.reasons)}`);
          verified++;
        }
      }),
    );
    assert.equal(verified, acked.length);
    for (const s of instances) await assertConsistent(s.base, startCheckpoint, await signedCheckpoint(s.base, keys));
    console.log(`# instances: all ${verified} acknowledged bundles verify offline; the log is gapless and every instance proves it consistent with the start`);
    await assertNoSecretsIn(d.logs(), db.url, d.kek, [admin, publisher]);
  });
});
