// Three instances signing concurrently on one database produce a gapless log with
// unique indexes, and every checkpoint any of them published is consistent with every other.
import { keySet } from '../../src/core/keys/key-set.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyCheckpoint, type SignedCheckpoint } from '../../src/core/tlog/log-note.ts';
import { verifyConsistency } from '../../src/core/tlog/verify-proof.ts';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { bearer, createTestApp, sha, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('three instances on one database', () => {
  let database: TestDatabase;
  let apps: TestApp[];
  before(async () => {
    database = await createTestDatabase();
    const kek = testKek();
    apps = await Promise.all([0, 1, 2].map(() => createTestApp({ database, kek, checkpointIntervalMs: 100 })));
  });
  after(async () => {
    for (const a of apps) await a.close();
    await database.drop();
  });

  it('sign concurrently into one gapless log whose checkpoints are all mutually consistent', async () => {
    const tokens = await Promise.all(apps.map((a, i) => a.publisherToken(`p${i}`)));
    // Three rounds, so that there are several checkpoints to compare whatever the timing.
    const results = [];
    for (const round of [0, 1, 2]) {
      results.push(
        ...(await Promise.all(
          apps.flatMap((a, i) =>
            Array.from({ length: 80 / 4 + round * 10 }, (_, n) =>
              a.app.inject({
                method: 'POST',
                url: '/v1/signatures',
                headers: bearer(tokens[i]!),
                payload: { model: `p${i}/m`, version: `${round}.${n}`, files: [{ path: 'w', sha256: sha(String(n % 10)), size: n }] },
              }),
            ),
          ),
        )),
      );
    }
    assert.ok(results.every((r) => r.statusCode === 201), results.find((r) => r.statusCode !== 201)?.body);
    const indexes = results.map((r) => r.json().logIndex as number).sort((a, b) => a - b);
    assert.equal(results.length, 270);
    assert.deepEqual(indexes, Array.from({ length: 270 }, (_, i) => i), 'unique and gapless');
    const rows = await database.db.query<{ i: string }>('SELECT "log_index"::text AS i FROM "release_signatures" ORDER BY "log_index"');
    assert.deepEqual(rows.map((r) => Number(r.i)), indexes);

    // Every bundle verifies offline with the keys any instance publishes.
    const keys = new Map<string, TrustedKey>();
    for (const k of apps[0]!.services.keys.list()) keys.set(k.kid, { kid: k.kid, algorithm: k.algorithm, publicKey: k.publicKey, purpose: k.purpose, status: k.status });
    for (const r of results) {
      const v = verifyBundle(r.json().bundle, keySet(keys.values()));
      assert.deepEqual(v.reasons, [], `bundle ${r.json().logIndex}`);
    }

    await Promise.all(apps.map((a) => a.services.checkpointer.waitFor(270, 5000)));
    const notes = await database.db.query<{ note: string; kid: string }>('SELECT "note", "kid" FROM "tlog_checkpoints" c ORDER BY c."size"');
    const checkpoints: SignedCheckpoint[] = notes.map((n) => verifyCheckpoint(n.note, keys.get(n.kid)!));
    assert.equal(checkpoints.at(-1)!.size, 270);
    assert.equal(new Set(checkpoints.map((c) => c.size)).size, checkpoints.length, 'one checkpoint per size');
    // Consistency between every pair (each proof served by a different instance in turn).
    let pairs = 0;
    for (let i = 0; i < checkpoints.length; i++) {
      for (let j = i + 1; j < checkpoints.length; j++) {
        const a = checkpoints[i]!;
        const b = checkpoints[j]!;
        if (a.size === 0) continue;
        const proof = await apps[pairs % 3]!.services.log.consistencyProof(a.size, b.size);
        verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash);
        pairs++;
      }
    }
    assert.ok(pairs >= 3, `${pairs} pairs of checkpoints`);
  });
});
