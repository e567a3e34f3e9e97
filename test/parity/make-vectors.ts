// The parity vectors: bundles and their mutated copies, trust (key sets, pinned keys with rotation
// chains), files present, witness policies and tlog-proofs, each with the verdict every verifier
// must give: the TypeScript verifier (core/verify-bundle.ts) and the Python one (python/), held to
// it by test/parity/parity.test.ts and python/tests/test_parity.py. Expectations are written here
// by hand, per mutation: neither implementation's output is copied into them.
//
//   node --import tsx test/parity/make-vectors.ts > test/parity/vectors.json
//
// The witness vectors of [witness-verify] (test/vectors/witness/cases.json) are part of the suite
// as they are; the counts (each reason code at least three times) are over both files.
import type { Bundle } from '../../src/core/bundle.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { spkiPem } from '../../src/core/crypto/public-key.ts';
import { REASON_CODES } from '../../src/core/verdict.ts';
import { formatTlogProof } from '../../src/core/tlog/tlog-proof.ts';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { ED25519_WITNESSES } from '../support/witness-cases.ts';
import {
  chainKey,
  chainLink,
  editedStatement,
  FILE_DIGESTS,
  HASHEDREKORD,
  jwks,
  LOG,
  logged,
  LOGGED_AT,
  MODELSIGN_V1,
  ORIGIN,
  OTHER_LOG,
  RELEASE,
  RELEASE_ECDSA,
  RELEASE_NEXT,
  statementBytes,
  trustEntry,
  WORLD_TRUST,
  type LoggedOptions,
  type TrustEntry,
} from './world.ts';

type Trust = { keys: TrustEntry[] } | { jwks: unknown } | { pin: string; chain: unknown };

export interface ParityCase {
  name: string;
  class: string;
  bundle: unknown;
  trust: Trust;
  files: { path: string; sha256: string }[] | null;
  skipTlog: boolean;
  witness: { policy: string; proof: string | null; now: number } | null;
  expect: { valid: boolean; reasons: string[] } | { error: string };
}

/** Reason codes only the service gives (online verification): no offline vector can hold them. */
export const ONLINE_ONLY_CODES = ['signature_unrecorded'];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const entryOf = (b: any) => b.verificationMaterial.tlogEntries[0];
const flip = (b64: string, i: number) => {
  const bytes = fromBase64(b64)!;
  bytes[(i + bytes.length) % bytes.length]! ^= 0x01;
  return toBase64(bytes);
};

interface Base {
  label: string;
  options: LoggedOptions;
}
const BASES: Base[] = [
  { label: 'ed25519', options: { signer: RELEASE, kind: HASHEDREKORD } },
  { label: 'ecdsa', options: { signer: RELEASE_ECDSA, kind: HASHEDREKORD } },
  { label: 'ed25519-v1', options: { signer: RELEASE, kind: MODELSIGN_V1 } },
];

export async function parityVectors() {
  const cases: ParityCase[] = [];
  const add = (c: Omit<ParityCase, 'trust' | 'files' | 'skipTlog' | 'witness'> & Partial<ParityCase>) =>
    cases.push({ trust: { keys: WORLD_TRUST }, files: FILE_DIGESTS, skipTlog: false, witness: null, ...c });
  const ok = { valid: true, reasons: [] };
  const bad = (...reasons: string[]) => ({ valid: false, reasons });

  for (const base of BASES) {
    const b = (name: string) => `${name}/${base.label}`;
    const good = await logged(statementBytes(), base.options);
    const mutate = (edit: (x: any) => void): Bundle => {
      const x = clone(good);
      edit(x);
      return x;
    };
    const resign = (payload: Uint8Array) => logged(payload, base.options);
    const isV1 = base.options.kind === MODELSIGN_V1;
    const sigMalformedNote = base.options.signer === RELEASE_ECDSA;

    add({ name: b('valid'), class: 'valid', bundle: good, expect: ok });
    add({ name: b('valid-saved-jwks'), class: 'valid', bundle: good, trust: { jwks: jwks(WORLD_TRUST) }, expect: ok });
    add({ name: b('valid-no-log-key-skipped'), class: 'valid', bundle: good, trust: { keys: WORLD_TRUST.filter((k) => k.purpose === 'release') }, skipTlog: true, expect: ok });

    // The envelope.
    add({ name: b('hint-not-a-string'), class: 'envelope', bundle: mutate((x) => (x.verificationMaterial.publicKey.hint = 7)), expect: bad('bundle_malformed') });
    add({ name: b('payload-not-base64'), class: 'envelope', bundle: mutate((x) => (x.dsseEnvelope.payload += '!')), expect: bad('bundle_malformed') });
    add({ name: b('tlog-entries-not-array'), class: 'envelope', bundle: mutate((x) => (x.verificationMaterial.tlogEntries = {})), expect: bad('bundle_malformed') });
    add({ name: b('media-type'), class: 'envelope', bundle: mutate((x) => (x.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2')), expect: bad('bundle_media_type') });
    add({ name: b('payload-type'), class: 'envelope', bundle: mutate((x) => (x.dsseEnvelope.payloadType = 'application/json')), expect: bad('payload_type') });
    add({ name: b('two-signatures'), class: 'envelope', bundle: mutate((x) => x.dsseEnvelope.signatures.push(clone(x.dsseEnvelope.signatures[0]))), expect: bad('signature_count') });
    add({ name: b('signature-not-canonical-base64'), class: 'signature', bundle: mutate((x) => (x.dsseEnvelope.signatures[0].sig = x.dsseEnvelope.signatures[0].sig.replace(/=+$/, ''))), expect: bad('signature_malformed') });
    // A signature of the wrong shape for the key: 63 bytes, or (ECDSA) DER with a trailing byte.
    add({
      name: b('signature-wrong-shape'),
      class: 'signature',
      bundle: mutate((x) => {
        const sig = fromBase64(x.dsseEnvelope.signatures[0].sig)!;
        x.dsseEnvelope.signatures[0].sig = toBase64(sigMalformedNote ? Uint8Array.of(...sig, 0) : sig.slice(0, 63));
      }),
      // The log entry binds the exact signature bytes: it no longer matches either.
      expect: bad('signature_malformed', 'tlog_body_mismatch'),
    });
    add({
      name: b('signature-flipped'),
      class: 'signature',
      bundle: mutate((x) => (x.dsseEnvelope.signatures[0].sig = flip(x.dsseEnvelope.signatures[0].sig, sigMalformedNote ? -2 : 10))),
      expect: bad('signature_invalid', 'tlog_body_mismatch'),
    });
    add({
      name: b('payload-swapped'),
      class: 'signature',
      bundle: mutate((x) => (x.dsseEnvelope.payload = toBase64(statementBytes('acme/model@9.9')))),
      expect: bad('signature_invalid', 'tlog_body_mismatch'),
    });

    // The key.
    add({ name: b('key-unknown'), class: 'key', bundle: good, trust: { keys: WORLD_TRUST.filter((k) => k.kid !== base.options.signer!.kid) }, expect: bad('key_unknown') });
    const own = trustEntry(base.options.signer!);
    const others = WORLD_TRUST.filter((k) => k.kid !== own.kid);
    // The kid names another (Ed25519) key: an ECDSA signature is then malformed for it, and a
    // hashedrekord leaf (which holds the key) differs; a first-format leaf names only the kid.
    add({
      name: b('key-mismatch'),
      class: 'key',
      bundle: good,
      trust: { keys: [...others, { ...own, jwk: trustEntry(RELEASE_NEXT).jwk }] },
      expect: bad('key_mismatch', sigMalformedNote ? 'signature_malformed' : 'signature_invalid', ...(isV1 ? [] : ['tlog_body_mismatch'])),
    });
    add({ name: b('key-wrong-purpose'), class: 'key', bundle: good, trust: { keys: [...others, { ...own, purpose: 'log' }] }, expect: bad('key_wrong_purpose') });
    add({ name: b('key-pending'), class: 'key', bundle: good, trust: { keys: [...others, { ...own, status: 'pending' }] }, expect: bad('key_not_active') });
    add({ name: b('key-retired'), class: 'key', bundle: good, trust: { keys: [...others, { ...own, status: 'retired' }] }, expect: ok });
    // Revocation by logged time: the log signed at LOGGED_AT (09:00:00Z), so the entry is proven older than 09:00:01.
    add({ name: b('revoked-no-time'), class: 'revocation', bundle: good, trust: { keys: [...others, { ...own, status: 'revoked' }] }, expect: bad('key_revoked') });
    add({ name: b('revoked-before-logged'), class: 'revocation', bundle: good, trust: { keys: [...others, { ...own, status: 'revoked', compromisedAt: '2027-01-15T08:59:59.000Z' }] }, expect: bad('key_revoked') });
    add({ name: b('revoked-same-second'), class: 'revocation', bundle: good, trust: { keys: [...others, { ...own, status: 'revoked', compromisedAt: '2027-01-15T09:00:00.500Z' }] }, expect: bad('key_revoked') });
    add({ name: b('revoked-after-logged'), class: 'revocation', bundle: good, trust: { jwks: jwks([...others, { ...own, status: 'revoked', compromisedAt: '2027-01-15T09:00:01.000Z' }]) }, expect: ok });
    add({ name: b('revoked-no-log-key'), class: 'revocation', bundle: good, trust: { keys: [{ ...own, status: 'revoked', compromisedAt: '2027-01-15T10:00:00.000Z' }] }, skipTlog: true, expect: bad('key_revoked') });

    // The statement (re-signed and re-logged, so only the statement is wrong).
    add({ name: b('payload-not-json'), class: 'statement', bundle: await resign(new TextEncoder().encode('{"_type": ')), expect: bad('payload_malformed') });
    add({ name: b('payload-not-utf8'), class: 'statement', bundle: await resign(Uint8Array.of(0x7b, 0xff, 0x7d)), expect: bad('payload_malformed') });
    add({ name: b('statement-type'), class: 'statement', bundle: await resign(editedStatement((s) => (s._type = 'https://in-toto.io/Statement/v0.1'))), expect: bad('statement_unsupported') });
    add({ name: b('predicate-type'), class: 'statement', bundle: await resign(editedStatement((s) => (s.predicateType = 'https://model_signing/Digests/v0.1'))), expect: bad('statement_unsupported') });
    add({ name: b('serialization-method'), class: 'statement', bundle: await resign(editedStatement((s) => (s.predicate.serialization.method = 'shards'))), expect: bad('statement_unsupported') });
    add({ name: b('ignore-paths-not-strings'), class: 'statement', bundle: await resign(editedStatement((s) => (s.predicate.serialization.ignore_paths = [1]))), expect: bad('statement_unsupported') });
    add({ name: b('two-subjects'), class: 'statement', bundle: await resign(editedStatement((s) => s.subject.push(s.subject[0]))), expect: bad('subject_malformed') });
    add({ name: b('subject-digest-uppercase'), class: 'statement', bundle: await resign(editedStatement((s) => (s.subject[0].digest.sha256 = s.subject[0].digest.sha256.toUpperCase()))), expect: bad('subject_malformed') });
    add({ name: b('subject-name-not-a-release'), class: 'statement', bundle: await resign(statementBytes('Acme/model@1.0')), expect: { valid: false, reasons: ['subject_malformed'] } });
    add({ name: b('root-digest'), class: 'statement', bundle: await resign(editedStatement((s) => (s.subject[0].digest.sha256 = '0'.repeat(64)))), expect: bad('root_digest_mismatch') });

    // Resource names, checked before any file is opened.
    const withName = (name: string) => resign(editedStatement((s) => (s.predicate.resources[0].name = name)));
    add({ name: b('resource-algorithm'), class: 'resource', bundle: await resign(editedStatement((s) => (s.predicate.resources[0].algorithm = 'sha512'))), expect: bad('resource_malformed') });
    add({ name: b('resource-twice'), class: 'resource', bundle: await resign(editedStatement((s) => s.predicate.resources.push(s.predicate.resources[0]))), expect: bad('resource_malformed') });
    add({ name: b('resource-parent'), class: 'resource', bundle: await withName('../../etc/passwd'), expect: bad('resource_unsafe') });
    add({ name: b('resource-absolute'), class: 'resource', bundle: await withName('/etc/passwd'), expect: bad('resource_unsafe') });
    add({ name: b('resource-backslash'), class: 'resource', bundle: await withName('weights\\..\\x'), expect: bad('resource_unsafe') });
    add({ name: b('resource-drive'), class: 'resource', bundle: await withName('C:x'), expect: bad('resource_unsafe') });
    add({ name: b('resource-not-nfc'), class: 'resource', bundle: await withName('cafe\u0301.bin'), expect: bad('resource_unsafe') });
    add({ name: b('resource-control'), class: 'resource', bundle: await withName('a\u0085b'), expect: bad('resource_unsafe') });
    add({ name: b('resource-empty-segment'), class: 'resource', bundle: await withName('weights//x'), expect: bad('resource_unsafe') });
    add({ name: b('resource-long-segment'), class: 'resource', bundle: await withName('x'.repeat(256)), expect: bad('resource_unsafe') });
    add({ name: b('resource-rlo'), class: 'resource', bundle: await withName('model\u202Egpj.exe'), expect: bad('invisible_character') });
    add({ name: b('resource-zero-width'), class: 'resource', bundle: await withName('\u200Bconfig.json'), expect: bad('invisible_character') });
    add({ name: b('resource-hangul-filler'), class: 'resource', bundle: await withName('config\u3164.json'), expect: bad('invisible_character') });
    add({ name: b('resource-tag-character'), class: 'resource', bundle: await withName('config.json\u{E0041}'), expect: bad('invisible_character') });
    add({ name: b('resource-unicode-ok'), class: 'valid', bundle: await logged(statementBytes('acme/model@1.0', [{ path: 'modèle/权重.bin', sha256: FILE_DIGESTS[0]!.sha256 }]), base.options), files: [{ path: 'modèle/权重.bin', sha256: FILE_DIGESTS[0]!.sha256 }], expect: ok });

    // The files present.
    const [first, second] = FILE_DIGESTS as [{ path: string; sha256: string }, { path: string; sha256: string }];
    add({ name: b('file-changed'), class: 'files', bundle: good, files: [first, { ...second, sha256: '1'.repeat(64) }], expect: bad('file_changed') });
    add({ name: b('file-missing'), class: 'files', bundle: good, files: [second], expect: bad('file_missing') });
    add({ name: b('file-extra'), class: 'files', bundle: good, files: [...FILE_DIGESTS, { path: 'evil.pkl', sha256: '2'.repeat(64) }], expect: bad('file_extra') });
    add({ name: b('file-extra-proof-ignored'), class: 'files', bundle: good, files: [...FILE_DIGESTS, { path: 'model.sig.tlog-proof', sha256: '3'.repeat(64) }], expect: ok });
    const ignoring = await logged(statementBytes('acme/model@1.0', FILE_DIGESTS, ['logs']), base.options);
    add({ name: b('file-under-ignored-path'), class: 'files', bundle: ignoring, files: [...FILE_DIGESTS, { path: 'logs/run-1.txt', sha256: '4'.repeat(64) }], expect: ok });
    add({ name: b('file-beside-ignored-path'), class: 'files', bundle: ignoring, files: [...FILE_DIGESTS, { path: 'logs2', sha256: '4'.repeat(64) }], expect: bad('file_extra') });

    // The log entry.
    add({ name: b('tlog-entries-empty'), class: 'tlog-entry', bundle: mutate((x) => (x.verificationMaterial.tlogEntries = [])), expect: bad('tlog_entry_missing') });
    add({ name: b('tlog-entries-absent'), class: 'tlog-entry', bundle: mutate((x) => delete x.verificationMaterial.tlogEntries), expect: bad('tlog_entry_missing') });
    add({ name: b('tlog-entries-two'), class: 'tlog-entry', bundle: mutate((x) => x.verificationMaterial.tlogEntries.push(clone(entryOf(x)))), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-index-leading-zero'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).logIndex = '02')), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-index-number'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).logIndex = 2)), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-kind-unknown'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).kindVersion = { kind: 'dsse', version: '0.0.2' })), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-log-id-short'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).logId.keyId = toBase64(fromBase64(entryOf(x).logId.keyId)!.slice(0, 31)))), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-proof-index-differs'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).inclusionProof.logIndex = '3')), expect: bad('tlog_entry_malformed') });
    add({ name: b('tlog-body-altered'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).canonicalizedBody = flip(entryOf(x).canonicalizedBody, 20))), expect: bad('tlog_body_mismatch') });
    add({ name: b('tlog-body-null'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).canonicalizedBody = null)), expect: bad('tlog_body_mismatch') });
    add({ name: b('tlog-body-absent'), class: 'valid', bundle: mutate((x) => delete entryOf(x).canonicalizedBody), expect: ok });
    add({ name: b('tlog-kind-swapped'), class: 'tlog-entry', bundle: mutate((x) => (entryOf(x).kindVersion = isV1 ? { kind: 'hashedrekord', version: '0.0.2' } : { kind: 'modelsign-release', version: '1' })), expect: bad('tlog_body_mismatch') });

    // The log key and the checkpoint.
    add({ name: b('log-key-untrusted'), class: 'log-key', bundle: good, trust: { keys: WORLD_TRUST.filter((k) => k.purpose === 'release') }, expect: bad('log_key_unknown') });
    add({ name: b('log-key-revoked'), class: 'log-key', bundle: good, trust: { keys: [...WORLD_TRUST.filter((k) => k.purpose === 'release'), trustEntry(LOG, 'log', 'revoked', '2027-01-16T00:00:00.000Z')] }, expect: bad('log_key_unknown') });
    add({ name: b('log-key-retired'), class: 'log-key', bundle: good, trust: { keys: [...WORLD_TRUST.filter((k) => k.purpose === 'release'), trustEntry(LOG, 'log', 'retired')] }, expect: ok });
    add({ name: b('log-other-key'), class: 'log-key', bundle: await logged(statementBytes(), { ...base.options, log: OTHER_LOG }), expect: bad('log_key_unknown') });
    const note = (x: any) => entryOf(x).inclusionProof.checkpoint;
    add({ name: b('checkpoint-signature-flipped'), class: 'checkpoint', bundle: mutate((x) => (note(x).envelope = note(x).envelope.replace(/(\u2014 \S+ )(\S+)\n/, (_m: string, h: string, s: string) => `${h}${flip(s, 12)}\n`))), expect: bad('checkpoint_signature_invalid') });
    add({ name: b('checkpoint-not-a-note'), class: 'checkpoint', bundle: mutate((x) => (note(x).envelope = note(x).envelope.replace('\n\n', '\n'))), expect: bad('checkpoint_signature_invalid') });
    add({ name: b('checkpoint-timestamp-line-only'), class: 'checkpoint', bundle: mutate((x) => (note(x).envelope = note(x).envelope.replace(/\u2014 [^\n]*\n/, ''))), expect: bad('checkpoint_signature_invalid') });
    add({ name: b('checkpoint-control-character'), class: 'checkpoint', bundle: mutate((x) => (note(x).envelope = note(x).envelope.replace('\n\n', '\n\r\n'))), expect: bad('checkpoint_signature_invalid') });
    add({ name: b('proof-tree-size'), class: 'checkpoint', bundle: mutate((x) => (entryOf(x).inclusionProof.treeSize = '6')), expect: bad('checkpoint_mismatch') });
    add({ name: b('proof-root-hash'), class: 'checkpoint', bundle: mutate((x) => (entryOf(x).inclusionProof.rootHash = flip(entryOf(x).inclusionProof.rootHash, 0))), expect: bad('checkpoint_mismatch') });
    add({ name: b('integrated-time'), class: 'checkpoint', bundle: mutate((x) => (entryOf(x).integratedTime = String(LOGGED_AT + 1))), expect: bad('checkpoint_mismatch') });
    add({ name: b('inclusion-hash-flipped'), class: 'inclusion', bundle: mutate((x) => (entryOf(x).inclusionProof.hashes[0] = flip(entryOf(x).inclusionProof.hashes[0], 3))), expect: bad('inclusion_proof_invalid') });
    add({ name: b('inclusion-hash-dropped'), class: 'inclusion', bundle: mutate((x) => entryOf(x).inclusionProof.hashes.pop()), expect: bad('inclusion_proof_invalid') });
    add({
      name: b('inclusion-other-index'),
      class: 'inclusion',
      bundle: mutate((x) => {
        entryOf(x).logIndex = '3';
        entryOf(x).inclusionProof.logIndex = '3';
      }),
      expect: bad('inclusion_proof_invalid'),
    });
    add({ name: b('inclusion-index-beyond-tree'), class: 'inclusion', bundle: mutate((x) => ((entryOf(x).logIndex = '5'), (entryOf(x).inclusionProof.logIndex = '5'))), expect: bad('inclusion_proof_invalid') });

    // Several things at once: every reason is listed, in the verifier's order.
    add({ name: b('many-at-once'), class: 'compound', bundle: mutate((x) => (entryOf(x).inclusionProof.hashes[0] = flip(entryOf(x).inclusionProof.hashes[0], 3))), trust: { keys: [...others, { ...own, status: 'revoked' }] }, files: [second, { path: 'extra.bin', sha256: '5'.repeat(64) }], expect: bad('inclusion_proof_invalid', 'key_revoked', 'file_missing', 'file_extra') });
  }

  // Witnesses on this world's log (more are in test/vectors/witness/cases.json).
  const good = await logged(statementBytes());
  const logVkey = formatVkey(ORIGIN, NOTE_TYPE.ed25519, LOG.publicKey);
  const w = ED25519_WITNESSES.slice(0, 2);
  const policy = (lines: string[]) => lines.join('\n') + '\n';
  const witnessPolicy = policy([...w.map((x, i) => `witness w${i} ${x.vkey}`), 'group all-of 2 w0 w1', 'quorum all-of']);
  add({ name: 'witness/quorum-none', class: 'witness', bundle: good, witness: { policy: policy(['quorum none']), proof: null, now: LOGGED_AT }, expect: ok });
  add({ name: 'witness/not-cosigned', class: 'witness', bundle: good, witness: { policy: witnessPolicy, proof: null, now: LOGGED_AT }, expect: bad('witness_quorum_not_met') });
  add({ name: 'witness/log-key-as-witness', class: 'witness', bundle: good, witness: { policy: policy([`witness self ${formatVkey(ORIGIN, NOTE_TYPE.cosignatureV1, LOG.publicKey)}`, 'quorum self']), proof: null, now: LOGGED_AT }, expect: bad('witness_policy_invalid') });
  add({ name: 'witness/log-line-other-log', class: 'witness', bundle: good, witness: { policy: policy([`log ${formatVkey(ORIGIN, NOTE_TYPE.ed25519, OTHER_LOG.publicKey)}`, 'quorum none']), proof: null, now: LOGGED_AT }, expect: bad('witness_policy_invalid') });
  add({ name: 'witness/log-line-this-log', class: 'witness', bundle: good, witness: { policy: policy([`log ${logVkey}`, 'quorum none']), proof: null, now: LOGGED_AT }, expect: ok });
  add({ name: 'witness/no-log-key', class: 'witness', bundle: good, trust: { keys: WORLD_TRUST.filter((k) => k.purpose === 'release') }, skipTlog: true, witness: { policy: policy(['quorum none']), proof: null, now: LOGGED_AT }, expect: bad('witness_quorum_not_met') });
  const e = entryOf(good);
  const proofText = formatTlogProof({ index: 2, proof: e.inclusionProof.hashes.map((h: string) => fromBase64(h)!), note: e.inclusionProof.checkpoint.envelope });
  add({ name: 'witness/proof-not-cosigned', class: 'witness', bundle: good, witness: { policy: witnessPolicy, proof: proofText, now: LOGGED_AT }, expect: bad('witness_quorum_not_met') });
  add({ name: 'witness/proof-garbled', class: 'witness', bundle: good, witness: { policy: witnessPolicy, proof: proofText.replace('index 2', 'index two'), now: LOGGED_AT }, expect: bad('witness_proof_invalid') });

  // Trust from a pinned key and the rotation chain (GET /v1/keys/chain).
  const pin = spkiPem(RELEASE);
  const links = [chainLink(1, RELEASE, LOG, 'log'), chainLink(2, RELEASE, RELEASE_NEXT, 'release')];
  const chain = { keys: [chainKey(RELEASE, 'release', 'retired'), chainKey(LOG, 'log'), chainKey(RELEASE_NEXT, 'release')], links };
  const next = await logged(statementBytes('acme/model@2.0'), { signer: RELEASE_NEXT });
  add({ name: 'chain/next-key-from-pin', class: 'chain', bundle: next, trust: { pin, chain }, expect: ok });
  add({ name: 'chain/old-key-still-verifies', class: 'chain', bundle: good, trust: { pin, chain }, expect: ok });
  add({ name: 'chain/link-missing', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, links: links.slice(0, 1) } }, expect: bad('key_unknown') });
  add({ name: 'chain/log-link-missing', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, links: links.slice(1) } }, expect: bad('log_key_unknown') });
  add({ name: 'chain/next-revoked', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, keys: [chain.keys[0], chain.keys[1], chainKey(RELEASE_NEXT, 'release', 'revoked', '2027-01-15T08:00:00.000Z')] } }, expect: bad('key_revoked') });
  // A revoked pin introduces nothing after it (not even the log key; with no trusted key for the bundle, its entry is not examined).
  add({ name: 'chain/pin-revoked', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, keys: [chainKey(RELEASE, 'release', 'revoked', '2027-01-02T00:00:00.000Z'), chain.keys[1], chain.keys[2]] } }, expect: bad('key_unknown') });
  const forged = clone(links);
  forged[1]!.envelope.signatures[0]!.sig = flip(forged[1]!.envelope.signatures[0]!.sig, 5);
  add({ name: 'chain/link-forged', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, links: forged } }, expect: { error: 'chain_link_invalid' } });
  const swapped = clone(links);
  swapped[1]!.kid = RELEASE_ECDSA.kid;
  add({ name: 'chain/link-names-another-key', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, links: swapped } }, expect: { error: 'chain_link_invalid' } });
  add({ name: 'chain/pin-not-in-chain', class: 'chain', bundle: next, trust: { pin: spkiPem(RELEASE_ECDSA), chain }, expect: { error: 'chain_pin_unknown' } });
  add({ name: 'chain/no-links', class: 'chain', bundle: next, trust: { pin, chain: { keys: chain.keys } }, expect: { error: 'chain_malformed' } });
  add({ name: 'chain/bad-compromise-time', class: 'chain', bundle: next, trust: { pin, chain: { ...chain, keys: [chain.keys[0], chain.keys[1], chainKey(RELEASE_NEXT, 'release', 'revoked', 'yesterday')] } }, expect: { error: 'chain_malformed' } });

  return {
    description: 'Parity vectors: every verifier (TypeScript core/verify-bundle.ts, Python modelsign_verify) gives each case the expected verdict; see make-vectors.ts',
    reasonCodes: Object.keys(REASON_CODES),
    onlineOnlyCodes: ONLINE_ONLY_CODES,
    cases,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(await parityVectors(), null, 1) + '\n');
}
