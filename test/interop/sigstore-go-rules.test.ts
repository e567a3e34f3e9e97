// Bundles checked the way other clients check them, where those clients cannot run here
// (research: sigstore-interop.md §8): a verifier written to sigstore-go's rules (also what
// cosign runs), the strict shape sigstore_models (model_signing's parser) enforces, and the
// ECDSA signatures through OpenSSL and pyca/cryptography, the libraries model_signing and
// Python loaders verify with. Plus known answers from outside modelsign: the research note's
// example entry and the public Rekor v2 log log2025-1.
// Runs once: it checks bundle formats against other clients' rules; which database made them does not matter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64 } from '../../src/core/bytes.ts';
import { ED25519 } from '../../src/core/crypto/ed25519.ts';
import { hasHighS } from '../../src/core/crypto/ecdsa-p256.ts';
import { preAuthEncoding } from '../../src/core/dsse.ts';
import { hashedRekordBody } from '../../src/core/tlog/entries/hashedrekord-v002.ts';
import { leafHash } from '../../src/core/tlog/hash.ts';
import { logIdOf } from '../../src/core/tlog/log-id.ts';
import { verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { verifyInclusion } from '../../src/core/tlog/verify-proof.ts';
import { clone, flipBase64 } from '../support/bundles.ts';
import { pythonWithCryptography } from '../support/python.ts';
import { bundleShapeProblems } from './support/bundle-shape.ts';
import { fixtureFile } from './support/files.ts';
import { interopFixture, type InteropFixture } from './support/fixture.ts';
import { goLeaf, GoRulesError, verifyAsSigstoreGo } from './support/sigstore-go-rules.ts';

const known = JSON.parse(readFileSync(fixtureFile('research-examples.json'), 'utf8'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('known answers from outside modelsign', () => {
  it('rebuilds the research example body byte for byte, and its leaf is the one its inclusion proof commits to', () => {
    const e = known.example;
    const body = hashedRekordBody({ digest: b64(e.digest), signature: b64(e.signature), keyDetails: 'PKIX_ECDSA_P256_SHA_256', spki: b64(e.releaseSpki) });
    assert.equal(Buffer.from(body).toString('utf8'), e.body);
    verifyInclusion(e.logIndex, e.treeSize, leafHash(body), e.hashes.map(b64), b64(e.rootHash));
    const logKey = { algorithm: 'Ed25519' as const, publicKey: ED25519.fromSpki(b64(e.logPublicKey))! };
    const checkpoint = verifyCheckpoint(e.checkpoint, logKey);
    assert.deepEqual(checkpoint.rootHash, b64(e.rootHash));
    assert.equal(Buffer.from(logIdOf(e.origin, logKey)).toString('base64'), e.logId);
  });

  it("computes log2025-1's log ID (zxGZ…) from its key and origin", () => {
    const l = known['log2025-1'];
    const key = { algorithm: 'Ed25519' as const, publicKey: ED25519.fromSpki(b64(l.publicKey))! };
    assert.equal(Buffer.from(logIdOf(l.origin, key)).toString('base64'), l.logId);
    assert.ok(l.logId.startsWith('zxGZ'));
  });
});

describe('modelsign bundles under other clients\' rules', () => {
  let f: InteropFixture;
  let dir: string;
  const ecdsa = () => f.bundles.filter((b) => b.algorithm === 'ecdsa-p256');
  before(async () => {
    f = await interopFixture();
    dir = mkdtempSync(path.join(tmpdir(), 'modelsign-interop-'));
  });
  after(async () => {
    await f.t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sigstore-go rules: every ECDSA bundle of a new log verifies, the leaf rebuilt without reading canonicalizedBody', () => {
    assert.equal(ecdsa().length, 3);
    const host = new URL(f.trustedRoot.tlogs[0].baseUrl).hostname;
    assert.equal(host, f.t.services.log.origin, 'a new log is named after the public URL\'s host');
    for (const b of ecdsa()) {
      const blind = clone(b.bundle) as any;
      blind.verificationMaterial.tlogEntries[0].canonicalizedBody = Buffer.from('not read').toString('base64');
      assert.doesNotThrow(() => verifyAsSigstoreGo(blind, f.trustedRoot, f.pems.get(b.kid)!), b.name);
      // The rebuilt leaf is the stored body's leaf.
      const stored = b64((b.bundle.verificationMaterial.tlogEntries[0] as any).canonicalizedBody);
      assert.deepEqual(new Uint8Array(goLeaf(b.bundle, createPublicKey(f.pems.get(b.kid)!))), leafHash(stored));
    }
  });

  it('sigstore-go rules: Ed25519 bundles do not verify (sigstore-go rebuilds an Ed25519ph leaf), as the README says', () => {
    for (const b of f.bundles.filter((x) => x.algorithm === 'ed25519')) {
      assert.throws(() => verifyAsSigstoreGo(b.bundle, f.trustedRoot, f.pems.get(b.kid)!), GoRulesError);
    }
  });

  const tampers: [string, (b: any) => void][] = [
    ['a flipped payload byte', (b) => (b.dsseEnvelope.payload = flipBase64(b.dsseEnvelope.payload, 40))],
    ['a flipped signature byte', (b) => (b.dsseEnvelope.signatures[0].sig = flipBase64(b.dsseEnvelope.signatures[0].sig, 20))],
    ['a flipped proof hash', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = flipBase64(b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0], 5))],
    ['a changed note body', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope.replace(/\n(\d+)\n/, (_m: string, n: string) => `\n${Number(n) + 1}\n`))],
    [
      "a flipped byte of the note's signature line",
      (b) => {
        const p = b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
        const line = p.envelope.split('\n').find((l: string) => l.startsWith('\u2014'))!;
        const sig = line.split(' ')[2]!;
        p.envelope = p.envelope.replace(sig, flipBase64(sig, 30));
      },
    ],
    ['another log ID', (b) => (b.verificationMaterial.tlogEntries[0].logId.keyId = flipBase64(b.verificationMaterial.tlogEntries[0].logId.keyId, 0))],
  ];
  for (const [what, tamper] of tampers) {
    it(`sigstore-go rules: refuses ${what}`, () => {
      for (const b of ecdsa()) {
        const bad = clone(b.bundle);
        tamper(bad);
        assert.throws(() => verifyAsSigstoreGo(bad, f.trustedRoot, f.pems.get(b.kid)!), GoRulesError, b.name);
      }
    });
  }

  it('meets the strict shape rules (string uint64s, no unknown field, treeSize > logIndex, padded base64) in every bundle', () => {
    for (const b of f.bundles) assert.deepEqual(bundleShapeProblems(b.bundle), [], b.name);
    const bad = clone(f.bundles[0]!.bundle) as any;
    bad.verificationMaterial.tlogEntries[0].logIndex = Number(bad.verificationMaterial.tlogEntries[0].logIndex);
    bad.verificationMaterial.extra = 1;
    bad.dsseEnvelope.signatures[0].sig = bad.dsseEnvelope.signatures[0].sig.replace(/=+$/, '');
    assert.equal(bundleShapeProblems(bad).length, 3, 'the check itself catches each rule');
  });

  it('signs ECDSA low-S, and OpenSSL and pyca/cryptography verify the signatures', () => {
    for (const [i, b] of ecdsa().entries()) {
      const sig = fromBase64(b.bundle.dsseEnvelope.signatures[0]!.sig)!;
      assert.equal(hasHighS(sig), false, `${b.name}: low-S`);
      const files = { pae: path.join(dir, `pae-${i}`), sig: path.join(dir, `sig-${i}`), pem: path.join(dir, `key-${i}.pem`) };
      writeFileSync(files.pae, preAuthEncoding(b.bundle.dsseEnvelope.payloadType, fromBase64(b.bundle.dsseEnvelope.payload)!));
      writeFileSync(files.sig, sig);
      writeFileSync(files.pem, f.pems.get(b.kid)!);
      const openssl = spawnSync('openssl', ['dgst', '-sha256', '-verify', files.pem, '-signature', files.sig, files.pae], { encoding: 'utf8' });
      assert.equal(openssl.stdout.trim(), 'Verified OK', openssl.stderr);
      const python = pythonWithCryptography();
      if (python) {
        const script = [
          'import sys',
          'from cryptography.hazmat.primitives import hashes, serialization',
          'from cryptography.hazmat.primitives.asymmetric import ec',
          'key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())',
          'key.verify(open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read(), ec.ECDSA(hashes.SHA256()))',
          'print("ok")',
        ].join('\n');
        const py = spawnSync(python, ['-c', script, files.pem, files.sig, files.pae], { encoding: 'utf8' });
        assert.equal(py.stdout.trim(), 'ok', py.stderr);
      } else {
        assert.notEqual(process.env.MODELSIGN_TEST_REQUIRE_PYTHON, '1', 'python3 with cryptography is required');
      }
      // The hint is model_signing's: SHA-256 of the SPKI PEM text.
      assert.equal(createHash('sha256').update(f.pems.get(b.kid)!).digest('hex'), b.bundle.verificationMaterial.publicKey.hint);
    }
  });
});
