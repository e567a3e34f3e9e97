// The transparency log against the service's own storage: proofs equal a naive
// RFC 6962 tree for every pair up to 300 leaves; an acknowledged signature is always in a
// gapless log, even with failures injected inside the storing transaction; bundles verify
// offline with the release and log keys alone, and every alteration is refused with a reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from '../../src/core/bundle.ts';
import { readClaim, readEnvelope } from '../../src/core/read-bundle.ts';
import { checkTlogEntry } from '../../src/core/tlog/tlog-entry.ts';
import { leafHash } from '../../src/core/tlog/hash.ts';
import type { EntryFacts } from '../../src/core/tlog/entries/entry-kind.ts';
import { keySet } from '../../src/core/keys/key-set.ts';
import { portableSha256 } from '../../src/core/tlog/hash.ts';
import { CURRENT_ENTRY_KIND, leafFor } from '../../src/core/tlog/entries/registry.ts';
import { verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { hashRanges, nodeKey } from '../../src/core/tlog/proof-build.ts';
import { consistencyRanges, inclusionRanges } from '../../src/core/tlog/tree-math.ts';
import { verifyConsistency, verifyInclusion } from '../../src/core/tlog/verify-proof.ts';
import type { ReasonCode } from '../../src/core/verdict.ts';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { TileHashes } from '../../src/services/tile-hashes.ts';
import { LogReader } from '../../src/services/log-reader.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { clone, flipBase64 } from '../support/bundles.ts';
import { NaiveTree } from '../support/naive-merkle.ts';


function leafOfBundle(bundle: Bundle, t: TestApp): Uint8Array {
  return leafFor(CURRENT_ENTRY_KIND, factsOfBundle(bundle, t), portableSha256);
}

function factsOfBundle(bundle: Bundle, t: TestApp): EntryFacts {
  const env = readEnvelope(bundle);
  assert.ok(env.ok);
  const claim = readClaim(env.value.payload);
  assert.ok(claim.ok);
  const key = t.services.keys.get(env.value.hint)!;
  return {
    subject: claim.value.subject,
    rootDigest: claim.value.rootDigest,
    payloadType: env.value.payloadType,
    payload: env.value.payload,
    kid: env.value.hint,
    key: { algorithm: key.algorithm, publicKey: key.publicKey },
    signature: env.value.signature,
  };
}

/** A reader of the service's log without any cache: every read goes to the database. */
const coldReader = (t: TestApp) => {
  const reader = new LogReader(t.database.db, t.services.keys, nodeLogHasher, new TileHashes(t.database.db, 0), { nodeCacheSize: 0 });
  reader.startWithOrigin(t.services.log.origin);
  return reader;
};

async function signMany(t: TestApp, token: string, prefix: string, count: number, wave = 50) {
  const results: { status: number; body: any }[] = [];
  for (let start = 0; start < count; start += wave) {
    const n = Math.min(wave, count - start);
    const batch = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/signatures',
          headers: bearer(token),
          payload: { model: 'acme/tlog', version: `${prefix}.${start + i}`, files: [{ path: 'w.bin', sha256: sha(String((start + i) % 10)), size: start + i }] },
        }),
      ),
    );
    results.push(...batch.map((r) => ({ status: r.statusCode, body: r.json() })));
  }
  return results;
}

async function storedLog(t: TestApp) {
  const rows = await t.database.db.query<{ i: string; id: string }>('SELECT "log_index"::text AS i, "id"::text AS id FROM "release_signatures" ORDER BY "log_index"');
  const [state] = await t.database.db.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_state"');
  return { indexes: rows.map((r) => Number(r.i)), ids: rows.map((r) => r.id), size: Number(state!.size) };
}

describe('transparency log storage', () => {
  let t: TestApp;
  let token: string;
  let signed: { status: number; body: any }[];
  before(async () => {
    t = await createTestApp();
    token = await t.publisherToken('acme');
    signed = await signMany(t, token, '1', 300);
  });
  after(() => t.close());

  it('numbers the signatures 0..n-1 with no gap, and each stored leaf is the bundle\'s leaf', async () => {
    assert.ok(signed.every((s) => s.status === 201));
    const log = await storedLog(t);
    assert.deepEqual(log.indexes, Array.from({ length: 300 }, (_, i) => i));
    assert.equal(log.size, 300);
    const leaves = await coldReader(t).nodes(log.indexes.map((index) => ({ level: 0, index })));
    for (const s of signed) {
      assert.equal(typeof s.body.logIndex, 'number');
      assert.deepEqual(leaves({ level: 0, index: s.body.logIndex }), leafHash(leafOfBundle(s.body.bundle, t)));
    }
  });

  it('builds from its storage the same proofs as a naive tree, for every pair up to 300 leaves', async () => {
    const log = await storedLog(t);
    const leafLookup = await coldReader(t).nodes(log.indexes.map((index) => ({ level: 0, index })));
    const naive = new NaiveTree(log.indexes.map((index) => leafLookup({ level: 0, index })!));
    const rows = await t.database.db.query<{ level: number; idx: string; hash: Uint8Array }>('SELECT "level", "idx"::text AS "idx", "hash" FROM "tlog_nodes"');
    const stored = new Map(rows.map((r) => [`${r.level}/${r.idx}`, new Uint8Array(r.hash)]));
    // 300 leaves make 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1 perfect subtrees.
    assert.equal(stored.size, 596);
    const lookup = (id: { level: number; index: number }) => stored.get(nodeKey(id));
    for (let size = 1; size <= 300; size++) {
      const root = naive.root(size);
      for (let index = 0; index < size; index++) {
        const proof = hashRanges(inclusionRanges(index, size), lookup);
        assert.deepEqual(proof, naive.inclusion(index, size), `inclusion ${index}/${size}`);
        verifyInclusion(index, size, naive.leaves[index]!, proof, root);
      }
      for (let from = 1; from <= size; from++) {
        const proof = hashRanges(consistencyRanges(from, size), lookup);
        assert.deepEqual(proof, naive.consistency(from, size), `consistency ${from}->${size}`);
        verifyConsistency(from, size, proof, naive.root(from), root);
      }
    }
    // And through the service's own read path (one query a proof, no cache) on a sample of pairs.
    const pairs: [number, number][] = [];
    for (const size of [1, 2, 3, 7, 8, 9, 127, 128, 129, 255, 256, 257, 299, 300]) for (const index of [0, Math.floor(size / 2), size - 1]) pairs.push([index, size]);
    for (let i = 0; i < 200; i++) {
      const size = 1 + Math.floor(Math.random() * 300);
      pairs.push([Math.floor(Math.random() * size), size]);
    }
    const cold = coldReader(t);
    for (const [index, size] of pairs) {
      assert.deepEqual(await cold.inclusionProof(index, size), naive.inclusion(index, size), `db inclusion ${index}/${size}`);
      const from = index + 1;
      assert.deepEqual(await cold.consistencyProof(from, size), naive.consistency(from, size), `db consistency ${from}->${size}`);
      assert.deepEqual(await cold.rootAt(size), naive.root(size));
    }
  });

  it('signs checkpoints that verify with the log key, match the tree and are mutually consistent', async () => {
    const rows = await t.database.db.query<{ size: string; note: string; kid: string; timestamp: string }>(
      'SELECT "size"::text AS "size", "note", "kid", "timestamp"::text AS "timestamp" FROM "tlog_checkpoints" c ORDER BY c."size"',
    );
    assert.ok(rows.length >= 2, `${rows.length} checkpoints`);
    assert.equal(rows[0]!.size, '0', 'the empty tree is checkpointed at start');
    const logKey = t.services.keys.get(rows.at(-1)!.kid)!;
    assert.equal(logKey.purpose, 'log');
    const checkpoints = rows.map((r) => verifyCheckpoint(r.note, logKey));
    for (const [i, c] of checkpoints.entries()) {
      assert.equal(c.origin, 'tlog.modelsign.test');
      assert.equal(c.size, Number(rows[i]!.size));
      assert.equal(c.timestamp, Number(rows[i]!.timestamp));
      assert.deepEqual(c.rootHash, await t.services.log.rootAt(c.size));
      if (i > 0) {
        assert.ok(c.timestamp! >= checkpoints[i - 1]!.timestamp!, 'signed time never goes back');
        const prev = checkpoints[i - 1]!;
        if (prev.size > 0) verifyConsistency(prev.size, c.size, await t.services.log.consistencyProof(prev.size, c.size), prev.rootHash, c.rootHash);
      }
    }
  });

  it('gives a bundle that verifies offline with only the release key and the log key', async () => {
    const bundle: Bundle = signed[123]!.body.bundle;
    const [entry] = bundle.verificationMaterial.tlogEntries as any[];
    const index: number = signed[123]!.body.logIndex;
    assert.equal(entry.logIndex, String(index));
    const keys = new Map<string, TrustedKey>();
    for (const k of t.services.keys.list()) if (k.purpose !== 'token') keys.set(k.kid, { kid: k.kid, algorithm: k.algorithm, publicKey: k.publicKey, purpose: k.purpose, status: k.status });
    const trust = keySet(keys.values());
    const ok = verifyBundle(JSON.parse(JSON.stringify(bundle)), trust);
    assert.deepEqual(ok.reasons, []);
    assert.equal(ok.logIndex, index);
    assert.ok(ok.integratedTime! > 1_700_000_000);

    const edits: [string, (e: any) => void, ReasonCode][] = [
      ...(entry.inclusionProof.hashes as string[]).map((_h, i): [string, (e: any) => void, ReasonCode] => [`proof hash ${i}`, (e) => (e.inclusionProof.hashes[i] = flipBase64(e.inclusionProof.hashes[i], 7)), 'inclusion_proof_invalid']),
      ['a proof hash removed', (e) => e.inclusionProof.hashes.pop(), 'inclusion_proof_invalid'],
      ['the log index', (e) => ((e.logIndex = String(index + 1)), (e.inclusionProof.logIndex = String(index + 1))), 'inclusion_proof_invalid'],
      ['the tree size', (e) => (e.inclusionProof.treeSize = String(Number(e.inclusionProof.treeSize) + 1)), 'checkpoint_mismatch'],
      ['the root hash', (e) => (e.inclusionProof.rootHash = flipBase64(e.inclusionProof.rootHash, 3)), 'checkpoint_mismatch'],
      ['the integrated time', (e) => (e.integratedTime = String(Number(e.integratedTime) - 100)), 'checkpoint_mismatch'],
      ['the checkpoint text (size)', (e) => (e.inclusionProof.checkpoint.envelope = e.inclusionProof.checkpoint.envelope.replace(`\n${e.inclusionProof.treeSize}\n`, `\n${Number(e.inclusionProof.treeSize) + 1}\n`)), 'checkpoint_signature_invalid'],
      // The log ID is derived from the origin: another origin names no trusted log.
      ['the checkpoint text (origin)', (e) => (e.inclusionProof.checkpoint.envelope = e.inclusionProof.checkpoint.envelope.replace('tlog.modelsign', 'evil.modelsign')), 'log_key_unknown'],
      ['the checkpoint signature', (e) => {
        const note: string = e.inclusionProof.checkpoint.envelope;
        const line = note.split('\n').find((l) => l.startsWith('\u2014'))!;
        const sig = line.split(' ')[2]!;
        e.inclusionProof.checkpoint.envelope = note.replace(sig, flipBase64(sig, 20));
      }, 'checkpoint_signature_invalid'],
      ['the timestamp cosignature', (e) => {
        const note: string = e.inclusionProof.checkpoint.envelope;
        const line = note.split('\n').filter((l) => l.startsWith('\u2014'))[1]!;
        const sig = line.split(' ')[2]!;
        e.inclusionProof.checkpoint.envelope = note.replace(sig, flipBase64(sig, 6));
      }, 'checkpoint_signature_invalid'],
      ['the body', (e) => (e.canonicalizedBody = flipBase64(e.canonicalizedBody, 30)), 'tlog_body_mismatch'],
      ['the log id', (e) => (e.logId.keyId = flipBase64(e.logId.keyId, 1)), 'log_key_unknown'],
      ['the inclusion proof object', (e) => delete e.inclusionProof, 'tlog_entry_malformed'],
    ];
    for (const [what, edit, expected] of edits) {
      const b = clone(bundle) as any;
      edit(b.verificationMaterial.tlogEntries[0]);
      const v = verifyBundle(b, trust);
      assert.equal(v.valid, false, what);
      assert.deepEqual(v.reasons.map((r) => r.code), [expected], `${what}: ${JSON.stringify(v.reasons)}`);
    }
    const none = clone(bundle);
    none.verificationMaterial.tlogEntries = [];
    assert.deepEqual(verifyBundle(none, trust).reasons.map((r) => r.code), ['tlog_entry_missing']);
    // A log key that is not trusted (only the release key given) proves nothing.
    const releaseOnly = keySet([...keys.values()].filter((k) => k.purpose === 'release'));
    assert.deepEqual(verifyBundle(bundle, releaseOnly).reasons.map((r) => r.code), ['log_key_unknown']);
  });

  it('keeps a revoked key\'s signature valid only when the log proves it predates the compromise', async () => {
    const bundle: Bundle = signed[5]!.body.bundle;
    const keys = new Map<string, TrustedKey>();
    for (const k of t.services.keys.list()) keys.set(k.kid, { kid: k.kid, algorithm: k.algorithm, publicKey: k.publicKey, purpose: k.purpose, status: k.status });
    const revokedAt = (ms: number) => keySet([...keys.values()].map((k) => (k.purpose === 'release' ? { ...k, status: 'revoked' as const, compromisedAt: new Date(ms) } : k)));
    const time = verifyBundle(bundle, keySet(keys.values())).integratedTime!;
    assert.deepEqual(verifyBundle(bundle, revokedAt((time + 1) * 1000)).reasons, []);
    const later = verifyBundle(bundle, revokedAt(time * 1000 + 999));
    assert.deepEqual(later.reasons.map((r) => r.code), ['key_revoked']);
    assert.match(later.reasons[0]!.message, /logged at/);
    const unlogged = clone(bundle);
    unlogged.verificationMaterial.tlogEntries = [];
    assert.ok(verifyBundle(unlogged, { ...revokedAt((time + 100) * 1000), requireTlog: false }).reasons.some((r) => r.code === 'key_revoked'));
  });

  it('checkTlogEntry finds no log key when the trusted one is another key than the log ID names', async () => {
    const bundle: Bundle = signed[0]!.body.bundle;
    const other = t.services.keys.list().find((k) => k.purpose === 'release')!;
    const forged = t.services.keys.list().map((k) => (k.purpose === 'log' ? { ...k, publicKey: other.publicKey } : k));
    // A Rekor v2 log ID is derived from the key itself, so another key never answers to it.
    const r = checkTlogEntry(bundle.verificationMaterial.tlogEntries[0], factsOfBundle(bundle, t), keySet(forged));
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.reasons.map((x) => x.code), ['log_key_unknown']);
  });
});

describe('acknowledged signatures and injected failures', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('never acknowledges a signature that is not in the log, and leaves no gap', async () => {
    const token = await t.publisherToken('acme');
    await signMany(t, token, '0', 10);
    // Fail some storing transactions at different steps: after the signatures are inserted
    // (the node insert fails) and when the signatures themselves are inserted.
    await t.database.db.query(`CREATE SEQUENCE fault_seq`);
    await t.database.db.query(`CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF nextval('fault_seq') % 3 = 0 THEN RAISE EXCEPTION 'injected fault in %', TG_TABLE_NAME; END IF; RETURN NULL; END $$`);
    await t.database.db.query('CREATE TRIGGER fault_nodes AFTER INSERT ON "tlog_nodes" FOR EACH STATEMENT EXECUTE FUNCTION fault()');
    await t.database.db.query('CREATE TRIGGER fault_sigs AFTER INSERT ON "release_signatures" FOR EACH STATEMENT EXECUTE FUNCTION fault()');
    const results = await signMany(t, token, '2', 300, 60);
    await t.database.db.query('DROP TRIGGER fault_nodes ON "tlog_nodes"');
    await t.database.db.query('DROP TRIGGER fault_sigs ON "release_signatures"');
    const acknowledged = results.filter((r) => r.status === 201);
    const failed = results.filter((r) => r.status >= 500);
    assert.ok(failed.length > 0 && acknowledged.length > 0, `${acknowledged.length} acknowledged, ${failed.length} failed`);
    assert.equal(acknowledged.length + failed.length, results.length);
    for (const f of failed) assert.equal(f.body.code, 'internal_error');

    const log = await storedLog(t);
    assert.deepEqual(log.indexes, Array.from({ length: log.indexes.length }, (_, i) => i), 'gapless');
    assert.equal(log.size, log.indexes.length, 'the tree has exactly the stored signatures');
    const stored = new Set(log.ids);
    for (const a of acknowledged) {
      assert.ok(stored.has(a.body.id), `acknowledged ${a.body.id} is stored`);
      assert.equal(log.ids[a.body.logIndex], a.body.id, 'at the index it was given');
    }
    // The tree is exactly the tree of the stored leaves, and the next checkpoint commits to it.
    const next = await signMany(t, token, '3', 1);
    assert.equal(next[0]!.status, 201);
    const all = await storedLog(t);
    const leaves = await coldReader(t).nodes(all.indexes.map((index) => ({ level: 0, index })));
    const naive = new NaiveTree(all.indexes.map((index) => leaves({ level: 0, index })!));
    const checkpoint = await t.services.log.latestCheckpoint();
    assert.equal(checkpoint.size, all.size);
    assert.deepEqual(checkpoint.rootHash, naive.root(all.size));
  });
});

describe('late integration', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ tlogWaitMs: 50 });
  });
  after(() => t.close());

  it('returns the index when no checkpoint arrives in time, and the complete bundle later', async () => {
    const token = await t.publisherToken('acme');
    t.services.checkpointer.pauseCheckpoints(true);
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'acme/late', version: '1', files: [{ path: 'a', sha256: sha('a'), size: 1 }] } });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.logIndex, 0);
    assert.deepEqual(body.bundle.verificationMaterial.tlogEntries, []);
    const early = await t.app.inject({ url: '/v1/models/acme/late/versions/1/bundle' });
    assert.deepEqual(early.json().verificationMaterial.tlogEntries, []);
    const verdict = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: body.bundle } });
    assert.deepEqual(verdict.json().reasons.map((r: { code: string }) => r.code), ['tlog_entry_missing']);

    t.services.checkpointer.pauseCheckpoints(false);
    await t.services.checkpointer.waitFor(1, 5000);
    const later = await t.app.inject({ url: '/v1/models/acme/late/versions/1/bundle' });
    const complete = later.json();
    assert.equal(complete.verificationMaterial.tlogEntries.length, 1);
    assert.deepEqual({ ...complete, verificationMaterial: { ...complete.verificationMaterial, tlogEntries: [] } }, body.bundle);
    // The bundle saved early is completed from the log by online verification.
    const online = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: body.bundle } });
    assert.equal(online.json().valid, true, online.body);
    assert.equal(online.json().logIndex, 0);
  });

  it('puts signatures stored before the log existed into it at start', async () => {
    const token = await t.publisherToken('acme');
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'acme/old', version: '1', files: [{ path: 'a', sha256: sha('b'), size: 1 }] } });
    const id = res.json().id;
    // Make it look like a pre-log row: a new signature row without an index (the trigger that
    // pins indexes is what a real pre-log row never met).
    await t.database.db.query('ALTER TABLE "release_signatures" DISABLE TRIGGER "release_signatures_log_index_fixed"');
    await t.database.db.query(`INSERT INTO "release_signatures" ("id", "model", "version", "root_digest", "files", "file_digests", "ignore_paths", "payload", "signature", "kid", "publisher_id", "created_at")
      SELECT gen_random_uuid(), "model", '0.9', "root_digest", "files", "file_digests", "ignore_paths", "payload", "signature", "kid", "publisher_id", "created_at" FROM "release_signatures" WHERE "id" = $1`, [id]);
    await t.database.db.query('ALTER TABLE "release_signatures" ENABLE TRIGGER "release_signatures_log_index_fixed"');
    const before = (await storedLog(t)).size;
    assert.equal(await t.services.backfill.run(), 1);
    const log = await storedLog(t);
    assert.equal(log.size, before + 1);
    assert.deepEqual(log.indexes, Array.from({ length: log.size }, (_, i) => i));
  });
});
