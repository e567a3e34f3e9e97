// Under 50-connection signing load on PostgreSQL, the service is killed
// with SIGKILL three times at random moments and restarted each time. Afterwards every signature
// acknowledged with 2xx is stored at the log index it was given and verifies offline with its log
// entry, the log is gapless, and the checkpoint seen before each kill is proved consistent with
// the one after the restart.
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

describe('SIGKILL under signing load', () => {
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let d: Deployment;
  let tokens: string[] = [];
  before(async () => {
    db = await createPostgresDatabase();
    d = deployment(db.url);
  });
  after(async () => {
    for (const s of d.services) await s.stop('SIGKILL');
    d.saveLogs('crash');
    await db.drop();
  });

  it('loses no acknowledged signature, keeps the log gapless and consistent across three kills', { timeout: 10 * 60_000 }, async () => {
    let current: Service = await d.start();
    const { admin, publisher } = await d.acme(current);
    tokens = [admin, publisher];

    const load = signingLoad(() => current.base, publisher, { concurrency: 50 });
    const kills: Array<{ before: number; after: number; ackedBefore: number }> = [];
    for (let kill = 0; kill < 3; kill++) {
      await sleep(1500 + randomInt(3500));
      const seen = await signedCheckpoint(current.base);
      await sleep(randomInt(300));
      const ackedBefore = load.acked().length;
      await current.stop('SIGKILL');
      current = await d.start();
      // The restarted service signs a checkpoint over whatever the dead one committed.
      let next = await signedCheckpoint(current.base);
      for (let i = 0; i < 50 && next.size < seen.size; i++) next = await sleep(100).then(() => signedCheckpoint(current.base));
      await assertConsistent(current.base, seen, next);
      kills.push({ before: seen.size, after: next.size, ackedBefore });
    }
    await sleep(2000);
    await load.stop();

    const acked = load.acked();
    const failures = load.outcomes.filter((o) => !(typeof o.status === 'number' && o.status < 300));
    console.log(`# crash: ${load.outcomes.length} requests, ${acked.length} acknowledged, ${failures.length} cut off by the kills; checkpoints around the kills: ${JSON.stringify(kills)}`);
    assert.ok(acked.length >= 500, `enough signing under load (${acked.length})`);
    for (const o of load.outcomes) {
      if (typeof o.status === 'number') assert.ok(o.status < 500 || o.status === 503, `answered ${o.status}`);
    }

    // Every acknowledged signature is stored, at the index it was given.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const ids = acked.map((o) => o.id!);
    const { rows } = await client
      .query<{ id: string; log_index: string | null }>('SELECT "id"::text AS "id", "log_index"::text AS "log_index" FROM "release_signatures" WHERE "id"::text = ANY($1::text[])', [ids])
      .finally(() => client.end());
    assert.equal(rows.length, new Set(ids).size, 'every acknowledged signature is stored');
    const stored = new Map(rows.map((r) => [r.id, r.log_index === null ? null : Number(r.log_index)]));
    for (const o of acked) if (o.logIndex !== null && o.logIndex !== undefined) assert.equal(stored.get(o.id!), o.logIndex, `${o.id} kept its log index`);

    // The restarted service completed every bundle: each verifies offline, log entry included.
    const keys = await publishedKeys(current.base);
    const trust = keySet(keys);
    let verified = 0;
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let id = queue.pop(); id; id = queue.pop()) {
          const res = await fetch(`${current.base}/v1/signatures/${id}`);
          assert.equal(res.status, 200);
          const { bundle } = (await res.json()) as { bundle: unknown };
          const verdict = verifyBundle(bundle, trust);
          assert.ok(verdict.valid, `${id}: ${JSON.stringify(verdict.reasons)}`);
          assert.equal(verdict.logIndex, stored.get(id));
          verified++;
        }
      }),
    );
    assert.equal(verified, ids.length);
    const n = await assertGaplessLog(db.url);
    console.log(`# crash: ${n} signatures in the log, 0..${n - 1} without a gap; all ${verified} acknowledged ones verify offline`);
    await assertNoSecretsIn(d.logs(), db.url, d.kek, tokens);
  });
});
