// sigstore-js (@sigstore/verify, the Sigstore client npm ships) verifies modelsign bundles of both
// algorithms with trust material built from GET /v1/trusted-root and a key finder over
// GET /v1/keys/{kid}, as the README's "Verifying with other tools" shows; and refuses each
// tamper case. The packages are pinned exactly (4.1.3 / 5.0.1 / 0.5.2): they declare Node 22 in
// `engines` but run on Node 20.20, which is what these tests run on.
// Runs once: it checks bundle formats against another client; which database made them does not matter.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { keySet } from '../../src/core/keys/key-set.ts';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { loggedAt, verifyWithSigstoreJs as verifyExample } from '../../examples/sigstore-js/verify-bundle.mjs';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { listenTestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { clone, flipBase64 } from '../support/bundles.ts';
import { interopFixture, type InteropFixture } from './support/fixture.ts';

/** The README's verification with sigstore-js: thresholds {tlog 1, ctlog 0, timestamp 0}. */
function verifyWithSigstoreJs(bundleJson: unknown, trustedRootJson: unknown, keyPem: (hint: string) => string): void {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRootJson), (hint) => ({ publicKey: createPublicKey(keyPem(hint)), validFor: () => true }));
  new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundleJson)));
}

/** Replaces the first signature line of the checkpoint note (the Ed25519 0x01 one) with `edit` of it. */
function editNote(bundle: any, edit: (note: string) => string): void {
  const proof = bundle.verificationMaterial.tlogEntries[0].inclusionProof;
  proof.checkpoint.envelope = edit(proof.checkpoint.envelope);
}

function signatureLine(note: string, n: number): string {
  return note.split('\n').filter((l) => l.startsWith('\u2014'))[n]!;
}

describe('sigstore-js verifies modelsign bundles', () => {
  let f: InteropFixture;
  const pem = (hint: string) => {
    const p = f.pems.get(hint);
    if (!p) throw new Error(`unknown key ${hint}`);
    return p;
  };
  before(async () => {
    f = await interopFixture();
  });
  after(() => f.t.close());

  it('accepts every bundle of both algorithms, including those signed before a release-key and a log-key rotation', () => {
    assert.equal(f.bundles.length, 6);
    assert.equal(f.trustedRoot.tlogs.length, 2, 'the retired log key and the active one');
    for (const b of f.bundles) {
      assert.doesNotThrow(() => verifyWithSigstoreJs(b.bundle, f.trustedRoot, pem), b.name);
      assert.deepEqual((b.bundle.verificationMaterial.tlogEntries[0] as { kindVersion: unknown }).kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    }
  });

  const tampers: [string, (b: any) => void][] = [
    ['a flipped payload byte', (b) => (b.dsseEnvelope.payload = flipBase64(b.dsseEnvelope.payload, 40))],
    ['a flipped signature byte', (b) => (b.dsseEnvelope.signatures[0].sig = flipBase64(b.dsseEnvelope.signatures[0].sig, 20))],
    ['a flipped proof hash', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = flipBase64(b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0], 5))],
    ['a flipped byte of the note body', (b) => editNote(b, (note) => note.replace(/\n(\d+)\n/, (_m, size) => `\n${Number(size) + 1}\n`))],
    [
      "a flipped byte of the note's Ed25519 signature line",
      (b) =>
        editNote(b, (note) => {
          const line = signatureLine(note, 0);
          const sig = line.split(' ')[2]!;
          return note.replace(line, line.replace(sig, flipBase64(sig, 30)));
        }),
    ],
  ];
  for (const [what, tamper] of tampers) {
    it(`refuses ${what}, for both algorithms`, () => {
      for (const b of f.bundles.filter((x) => x.name.endsWith('signed last'))) {
        const bad = clone(b.bundle);
        tamper(bad);
        assert.throws(() => verifyWithSigstoreJs(bad, f.trustedRoot, pem), b.name);
      }
    });
  }

  it('refuses a bundle checked against another trusted root (another log key, or another origin)', async () => {
    const b = f.bundles.at(-1)!.bundle;
    const other = clone(f.trustedRoot);
    for (const tlog of other.tlogs) tlog.publicKey.rawBytes = 'MCowBQYDK2VwAyEAuY/nanlM7PuqC3y7M8BAolgQ0zTzZNXcSNILFyCX5/c=';
    assert.throws(() => verifyWithSigstoreJs(b, other, pem));
    const elsewhere = clone(f.trustedRoot);
    for (const tlog of elsewhere.tlogs) tlog.baseUrl = 'https://tlog.elsewhere.example';
    assert.throws(() => verifyWithSigstoreJs(b, elsewhere, pem));
  });

  it('`modelsign trust export` saves the trusted root the service serves', async () => {
    const server = await listenTestApp(f.t);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'modelsign-trust-')), 'trusted_root.json');
    const res = await runCliAsync(['trust', 'export', '--server', server, '--out', out]);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), (await f.t.app.inject({ url: '/v1/trusted-root' })).json());
    assert.match(res.stderr, /2 log keys/);
    const refused = await runCliAsync(['trust', 'export', '--server', 'http://127.0.0.1:1']);
    assert.equal(refused.status, EXIT.service);
  });

  it('the README example (examples/sigstore-js) refuses a revoked key\'s signatures logged after its compromise, and keeps earlier ones', async () => {
    const server = `http://127.0.0.1:${(f.t.app.server.address() as { port: number }).port}`;
    const ec = f.bundles.filter((b) => b.algorithm === 'ecdsa-p256');
    const active = ec.at(-1)!;
    for (const b of f.bundles) await verifyExample(b.bundle, server);
    // Compromised one second after its signature's checkpoint: that one stays valid.
    const logged = loggedAt(active.bundle, f.trustedRoot);
    // A compromise time must not be in the future: wait until that second has passed.
    await new Promise((r) => setTimeout(r, Math.max(0, (logged + 1) * 1000 - Date.now() + 50)));
    const earlier = await f.t.app.inject({
      method: 'POST',
      url: `/v1/admin/keys/${active.kid}/revoke`,
      headers: { authorization: `Bearer ${f.admin}` },
      payload: { compromisedAt: new Date((logged + 1) * 1000).toISOString(), reason: 'test' },
    });
    assert.equal(earlier.statusCode, 200, earlier.body);
    await verifyExample(active.bundle, server);
    // Had the compromise been before that second ended, the signature would be refused: moved
    // there in the database, as an admin who learnt of an earlier compromise would record it.
    const db = f.t.services.db;
    await db.query('UPDATE "keys" SET "compromised_at" = $1 WHERE "kid" = $2', [new Date(logged * 1000), active.kid]);
    await f.t.services.keys.reload();
    await assert.rejects(verifyExample(active.bundle, server), /revoked/);
  });

  it('ignores a flipped cosignature line, which modelsign\'s own verifier refuses', () => {
    const b = clone(f.bundles.at(-2)!.bundle);
    editNote(b, (note) => {
      const line = signatureLine(note, 1);
      const sig = line.split(' ')[2]!;
      return note.replace(line, line.replace(sig, flipBase64(sig, 40)));
    });
    assert.doesNotThrow(() => verifyWithSigstoreJs(b, f.trustedRoot, pem));
    const verdict = verifyBundle(b, keySet(f.t.services.keys.list().map(trustedKeyOf)));
    assert.deepEqual(verdict.reasons.map((r) => r.code), ['checkpoint_signature_invalid']);
  });
});
