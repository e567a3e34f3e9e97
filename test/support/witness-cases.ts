// The witness cases every verifier is held to (portable, POST /v1/verify, the CLI, the console,
// and the Python client after it): each is a recipe over a "world" (a logged bundle, the log's
// signer and tree, witness keys), so the same cases run on the fixed world of the committed
// vectors (test/vectors/witness) and on a live service's own log.
import { ed25519PublicKey, ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import type { Signer } from '../../src/core/crypto/algorithm.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { formatCheckpoint, type Checkpoint } from '../../src/core/tlog/checkpoint.ts';
import { cosignatureMessage, formatCosignatureLine, witnessKeyOf } from '../../src/core/tlog/cosignature.ts';
import { signCheckpoint } from '../../src/core/tlog/log-note.ts';
import { formatTlogProof } from '../../src/core/tlog/tlog-proof.ts';
import { formatVkey, NOTE_TYPE, parseVkey } from '../../src/core/tlog/vkey.ts';
import type { Bundle } from '../../src/core/bundle.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import type { TlogEntry } from '../../src/core/tlog/tlog-entry.ts';

const entryOf = (b: Bundle) => b.verificationMaterial.tlogEntries[0] as TlogEntry;

export interface WitnessWorld {
  origin: string;
  /** The bundle's entry index, and the size of the bundle's own checkpoint (the first covering it). */
  index: number;
  firstSize: number;
  /** A later tree size: the checkpoint witnesses cosigned. */
  laterSize: number;
  /** A size smaller than firstSize (the entry may or may not be in it). */
  smallerSize: number;
  bundle: Bundle;
  root(size: number): Promise<Uint8Array>;
  inclusion(index: number, size: number): Promise<Uint8Array[]>;
  logSigner: Signer;
  /** The verifier's clock, POSIX seconds. */
  now: number;
  /** ML-DSA-44 witnesses: vkey and a cosigner for the later checkpoint. */
  pq: { vkey: string; cosign(checkpoint: Checkpoint, timestamp: number): string }[];
}

export interface WitnessCase {
  name: string;
  /** The bundle under test (some cases cosign, or forge, its own checkpoint). */
  bundle: Bundle;
  policy: string;
  proof: string | null;
  now: number;
  /** Trust as given: the world's keys, or the same with the release key revoked at this time (ISO). */
  releaseKeyCompromisedAt: string | null;
  expect: { valid: boolean; reasons: string[] };
}

const ed25519Witness = (i: number) => {
  const seed = new Uint8Array(32).fill(0x60 + i);
  const name = `witness-${i}.example.org`;
  const publicKey = ed25519PublicKey(seed);
  return { name, seed, publicKey, vkey: formatVkey(name, NOTE_TYPE.cosignatureV1, publicKey) };
};

export const ED25519_WITNESSES = Array.from({ length: 16 }, (_, i) => ed25519Witness(i));

const lineOf = formatCosignatureLine;

/** An Ed25519 cosignature/v1 line by test witness `i`. */
export function cosignEd25519(i: number, checkpoint: Checkpoint, timestamp: number): string {
  const w = ED25519_WITNESSES[i]!;
  const key = witnessKeyOf(parseVkey(w.vkey));
  return lineOf(key, timestamp, ed25519Sign(cosignatureMessage(key, timestamp, checkpoint, formatCheckpoint(checkpoint)), w.seed));
}

export { lineOf as cosignatureLine };

const withLines = (note: string, lines: string[]) => note + lines.map((l) => `${l}\n`).join('');

function flipLastChar(line: string): string {
  // Changes the signature's last bytes, not its length (the base64 stays canonical: 'A'<->'Q' keeps the padding bits zero).
  const i = line.length - (line.endsWith('==') ? 3 : line.endsWith('=') ? 2 : 1);
  const c = line[i]!;
  return line.slice(0, i) + (c === 'A' ? 'Q' : 'A') + line.slice(i + 1);
}

const policyOf = (...lines: string[]) => lines.join('\n') + '\n';
const witnessLine = (name: string, vkey: string) => `witness ${name} ${vkey}`;

export async function witnessCases(world: WitnessWorld): Promise<WitnessCase[]> {
  const { origin, index, now } = world;
  const checkpointAt = async (size: number, o = origin): Promise<Checkpoint> => ({ origin: o, size, rootHash: await world.root(size) });
  const first = await checkpointAt(world.firstSize);
  const later = await checkpointAt(world.laterSize);
  const smaller = await checkpointAt(world.smallerSize);
  const t = now - 120;
  const noteOf = (c: Checkpoint, signer = world.logSigner) => signCheckpoint(c, signer, t - 5);
  const laterNote = await noteOf(later);
  const proofWith = async (lines: string[], o: { note?: string; index?: number; pathIndex?: number; size?: number } = {}) =>
    formatTlogProof({ index: o.index ?? index, proof: await world.inclusion(o.pathIndex ?? o.index ?? index, o.size ?? world.laterSize), note: withLines(o.note ?? laterNote, lines) });
  const ed = (i: number, c: Checkpoint = later, ts = t) => cosignEd25519(i, c, ts);

  // The bundle with its own checkpoint cosigned by witnesses 0 and 1.
  const entry = entryOf(world.bundle);
  const cosignedBundle: Bundle = JSON.parse(JSON.stringify(world.bundle));
  entryOf(cosignedBundle).inclusionProof.checkpoint.envelope = withLines(entry.inclusionProof.checkpoint.envelope, [ed(0, first), ed(1, first)]);

  const W = ED25519_WITNESSES;
  const twoOfThree = policyOf('# two of three', witnessLine('w0', W[0]!.vkey), witnessLine('w1', W[1]!.vkey), witnessLine('w2', W[2]!.vkey), 'group main 2 w0 w1 w2', 'quorum main');
  const logVkey = formatVkey(origin, NOTE_TYPE.ed25519, world.logSigner.publicKey);
  const otherLog = { seed: new Uint8Array(32).fill(0x7e) };
  const otherSigner: Signer = { kid: 'other', algorithm: 'Ed25519', publicKey: ed25519PublicKey(otherLog.seed), sign: async (m) => ed25519Sign(m, otherLog.seed) };
  const pqLines = world.pq.map((p) => p.cosign(later, t));
  const allWitnesses = policyOf(...W.map((w, i) => witnessLine(`ed${i}`, w.vkey)), ...world.pq.map((p, i) => witnessLine(`pq${i}`, p.vkey)), `group everyone all ${[...W.map((_, i) => `ed${i}`), ...world.pq.map((_, i) => `pq${i}`)].join(' ')}`, 'quorum everyone');
  const thirtyTwo = [...W.map((_, i) => ed(i)), ...pqLines];
  const filler = Array.from({ length: 100 - 2 - thirtyTwo.length + 1 }, (_, i) => `\u2014 filler-${i}.example.org ${toBase64(new Uint8Array(76).fill(i))}`);
  const nested = policyOf(witnessLine('a0', W[0]!.vkey), witnessLine('a1', W[1]!.vkey), witnessLine('a2', W[2]!.vkey), 'group a 2 a0 a1 a2', witnessLine('pq0', world.pq[0]!.vkey), witnessLine('pq1', world.pq[1]!.vkey), 'group pq any pq0 pq1', 'group both all a pq', 'quorum both');
  const ok = { valid: true, reasons: [] };
  const no = (...reasons: string[]) => ({ valid: false, reasons });
  const base = { bundle: world.bundle, now, releaseKeyCompromisedAt: null, proof: null };
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const loggedAt = noteTimestamp(entry.inclusionProof.checkpoint.envelope);

  return [
    { ...base, name: 'own-checkpoint-meets-quorum', bundle: cosignedBundle, policy: twoOfThree, expect: ok },
    { ...base, name: 'quorum-none', policy: policyOf('quorum none'), expect: ok },
    { ...base, name: 'no-proof-quorum-not-met', policy: twoOfThree, expect: no('witness_quorum_not_met') },
    { ...base, name: 'proof-meets-quorum', policy: twoOfThree, proof: await proofWith([ed(0), ed(2)]), expect: ok },
    { ...base, name: 'proof-quorum-not-met', policy: twoOfThree, proof: await proofWith([ed(0), ed(5)]), expect: no('witness_quorum_not_met') },
    { ...base, name: 'forged-cosignature', policy: twoOfThree, proof: await proofWith([ed(0), flipLastChar(ed(1)), ed(2)]), expect: no('witness_signature_invalid') },
    { ...base, name: 'forged-cosignature-in-bundle', bundle: withForgedBundle(cosignedBundle), policy: twoOfThree, expect: no('witness_signature_invalid') },
    { ...base, name: 'unknown-witness-lines-ignored', policy: twoOfThree, proof: await proofWith([flipLastChar(ed(7)), ed(0), ed(1)]), expect: ok },
    { ...base, name: 'witness-key-is-log-key', policy: policyOf(witnessLine('self', formatVkey(origin, NOTE_TYPE.cosignatureV1, world.logSigner.publicKey)), 'quorum self'), proof: await proofWith([]), expect: no('witness_policy_invalid') },
    { ...base, name: 'witness-vkeys-of-type-01', policy: policyOf(witnessLine('w0', formatVkey(W[0]!.name, NOTE_TYPE.ed25519, W[0]!.publicKey)), 'quorum w0'), proof: await proofWith([ed(0)]), expect: ok },
    { ...base, name: 'timestamp-9-minutes-ahead', policy: twoOfThree, proof: await proofWith([ed(0), ed(1, later, now + 540)]), expect: ok },
    { ...base, name: 'timestamp-11-minutes-ahead', policy: twoOfThree, proof: await proofWith([ed(0), ed(1, later, now + 660)]), expect: no('witness_signature_invalid') },
    { ...base, name: 'nested-groups-met', policy: nested, proof: await proofWith([ed(0), ed(2), pqLines[1]!]), expect: ok },
    { ...base, name: 'nested-groups-not-met', policy: nested, proof: await proofWith([ed(0), ed(1), ed(2)]), expect: no('witness_quorum_not_met') },
    { ...base, name: 'ml-dsa-44-quorum', policy: policyOf(witnessLine('pq0', world.pq[0]!.vkey), witnessLine('pq1', world.pq[1]!.vkey), 'group pq all pq0 pq1', 'quorum pq'), proof: await proofWith(pqLines.slice(0, 2)), expect: ok },
    { ...base, name: 'forged-ml-dsa-44', policy: policyOf(witnessLine('pq0', world.pq[0]!.vkey), 'quorum pq0'), proof: await proofWith([flipLastChar(pqLines[0]!)]), expect: no('witness_signature_invalid') },
    { ...base, name: 'proof-for-another-entry', policy: twoOfThree, proof: await proofWith([ed(0), ed(1)], { pathIndex: index + 1 }), expect: no('witness_proof_invalid') },
    { ...base, name: 'proof-for-another-index', policy: twoOfThree, proof: await proofWith([ed(0), ed(1)], { index: index + 1 }), expect: no('witness_proof_invalid') },
    { ...base, name: 'proof-for-another-origin', policy: twoOfThree, proof: await proofWith([ed(0, await checkpointAt(world.laterSize, 'other.example.net')), ed(1, await checkpointAt(world.laterSize, 'other.example.net'))], { note: await noteOf(await checkpointAt(world.laterSize, 'other.example.net')) }), expect: no('witness_proof_invalid') },
    { ...base, name: 'proof-of-a-smaller-tree', policy: twoOfThree, proof: formatTlogProof({ index, proof: world.smallerSize > index ? await world.inclusion(index, world.smallerSize) : [], note: withLines(await noteOf(smaller), [ed(0, smaller), ed(1, smaller)]) }), expect: no('witness_proof_invalid') },
    { ...base, name: 'proof-signed-by-an-untrusted-log-key', policy: twoOfThree, proof: await proofWith([ed(0), ed(1)], { note: await noteOf(later, otherSigner) }), expect: no('witness_proof_invalid') },
    { ...base, name: 'policy-log-line-lists-the-log', policy: policyOf(`log ${logVkey}`, witnessLine('w0', W[0]!.vkey), 'quorum w0'), proof: await proofWith([ed(0)]), expect: ok },
    { ...base, name: 'policy-log-line-lists-another-log', policy: policyOf(`log ${formatVkey(origin, NOTE_TYPE.ed25519, otherSigner.publicKey)}`, witnessLine('w0', W[0]!.vkey), 'quorum w0'), proof: await proofWith([ed(0)]), expect: no('witness_policy_invalid') },
    { ...base, name: 'thirty-four-lines', policy: allWitnesses, proof: await proofWith(thirtyTwo), expect: ok },
    { ...base, name: 'one-hundred-one-lines', policy: allWitnesses, proof: await proofWith([...thirtyTwo, ...filler]), expect: no('witness_proof_invalid') },
    { ...base, name: 'revoked-after-logged-with-proof', policy: twoOfThree, proof: await proofWith([ed(0), ed(1)]), releaseKeyCompromisedAt: iso(loggedAt + 60), expect: ok },
    { ...base, name: 'revoked-before-logged-with-proof', policy: twoOfThree, proof: await proofWith([ed(0), ed(1)]), releaseKeyCompromisedAt: iso(loggedAt - 60), expect: no('key_revoked') },
  ];
}

function withForgedBundle(bundle: Bundle): Bundle {
  const out: Bundle = JSON.parse(JSON.stringify(bundle));
  const cp = entryOf(out).inclusionProof.checkpoint;
  const lines = cp.envelope.split('\n');
  lines[lines.length - 2] = flipLastChar(lines[lines.length - 2]!);
  cp.envelope = lines.join('\n');
  return out;
}

/** The log's own timestamp (its second line) in a note it signed. */
function noteTimestamp(note: string): number {
  const s = parseSignedNote(note).signatures[1]!;
  return Number(new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0));
}
