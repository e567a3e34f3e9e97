// The fixed world of the witness vectors: a log (origin log.example.com) of eight releases
// signed by a release key from a fixed seed, the bundle of the third (index 2) with the first
// checkpoint covering it (size 4), and a later tree (size 8) that witnesses cosign. Everything is
// deterministic (Ed25519 signatures are), except the ML-DSA-44 cosignatures, which pyca made once
// (make-mldsa44.py, mldsa44-pyca.json).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { toBase64, toBase64Url } from '../../../src/core/bytes.ts';
import { readClaim, readEnvelope } from '../../../src/core/read-bundle.ts';
import { CURRENT_ENTRY_KIND, leafFor } from '../../../src/core/tlog/entries/registry.ts';
import type { Checkpoint } from '../../../src/core/tlog/checkpoint.ts';
import { portableSha256, leafHash } from '../../../src/core/tlog/hash.ts';
import { signCheckpoint, verifyCheckpoint } from '../../../src/core/tlog/log-note.ts';
import { buildTlogEntry } from '../../../src/core/tlog/tlog-entry.ts';
import { equalBytes, fromBase64 } from '../../../src/core/bytes.ts';
import { testSigner } from '../../support/bundles.ts';
import { NaiveTree } from '../../support/naive-merkle.ts';
import { referenceSigner } from '../../support/signers.ts';
import type { WitnessWorld } from '../../support/witness-cases.ts';

export const ORIGIN = 'log.example.com';
export const NOW = 1_800_007_200;
const LOGGED_AT = NOW - 3600;
const INDEX = 2;

export const fileContent = (n: number) => `release ${n + 1}\n`;
/** The default ignore paths before the witness proof's name joined them: the vector releases are "old" ones. */
const OLD_DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig', '.cache/huggingface'];
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

interface PyVectors {
  origin: string;
  size: number;
  root: string;
  timestamp: number;
  witnesses: { vkey: string; line: string }[];
}

export async function vectorWorld(pyca: PyVectors = JSON.parse(readFileSync(new URL('mldsa44-pyca.json', import.meta.url), 'utf8'))) {
  const release = testSigner(0x52);
  const logSigner = referenceSigner(new Uint8Array(32).fill(0x51));
  const bundles = Array.from({ length: 8 }, (_, n) => release.sign('acme/model', `${n + 1}.0`, [{ path: 'weights.bin', sha256: sha(fileContent(n)), size: fileContent(n).length }], OLD_DEFAULT_IGNORE_PATHS));
  const leaves = bundles.map((b) => {
    const env = readEnvelope(b);
    if (!env.ok) throw new Error('bad bundle');
    const claim = readClaim(env.value.payload);
    if (!claim.ok) throw new Error('bad claim');
    return leafFor(CURRENT_ENTRY_KIND, { subject: claim.value.subject, rootDigest: claim.value.rootDigest, payloadType: env.value.payloadType, payload: env.value.payload, kid: release.kid, key: { algorithm: 'Ed25519', publicKey: release.publicKey }, signature: env.value.signature }, portableSha256);
  });
  const tree = new NaiveTree(leaves.map(leafHash));
  const firstSize = 4;
  const note = await signCheckpoint({ origin: ORIGIN, size: firstSize, rootHash: tree.root(firstSize) }, logSigner, LOGGED_AT);
  const bundle = bundles[INDEX]!;
  bundle.verificationMaterial.tlogEntries = [
    buildTlogEntry({ index: INDEX, logKid: logSigner.kid, logKey: logSigner, checkpoint: verifyCheckpoint(note, logSigner), proof: tree.inclusion(INDEX, firstSize), kindVersion: CURRENT_ENTRY_KIND, leaf: leaves[INDEX]! }),
  ];
  const jwk = (publicKey: Uint8Array, kid: string, purpose: string) => ({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey), kid, purpose, status: 'active' });
  const keys = { keys: [jwk(release.publicKey, release.kid, 'release'), jwk(logSigner.publicKey, logSigner.kid, 'log')] };
  const world: WitnessWorld = {
    origin: ORIGIN,
    index: INDEX,
    firstSize,
    laterSize: 8,
    smallerSize: 3,
    bundle,
    root: async (size) => tree.root(size),
    inclusion: async (index, size) => tree.inclusion(index, size),
    logSigner,
    now: NOW,
    pq: pyca.witnesses.map((w) => ({
      vkey: w.vkey,
      cosign(checkpoint: Checkpoint, timestamp: number) {
        const root = fromBase64(pyca.root)!;
        if (checkpoint.origin !== pyca.origin || checkpoint.size !== pyca.size || !equalBytes(checkpoint.rootHash, root) || timestamp !== pyca.timestamp) {
          throw new Error(`mldsa44-pyca.json cosigns another checkpoint; remake it: python3 make-mldsa44.py ${checkpoint.origin} ${checkpoint.size} ${toBase64(checkpoint.rootHash)} ${timestamp} 16 > mldsa44-pyca.json`);
        }
        return w.line;
      },
    })),
  };
  return { world, keys, release, logSigner };
}
