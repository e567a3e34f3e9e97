// A second verifier of modelsign bundles, written to sigstore-go 1.2's rules (research:
// sigstore-interop.md §1.4, §2.3) rather than to modelsign's, and sharing no code with src/: it
// uses node:crypto only. No Go toolchain can run here, so this is the stand-in for sigstore-go
// and cosign. What it does as sigstore-go does:
// - the log is looked up by the entry's logId against the trusted root's logIds, nothing else;
// - the checkpoint is verified as a sumdb note whose verifier is built from the host name of the
//   trusted root's baseUrl and the log key (key hash SHA-256(name || 0x0A || 0x01 || key)[:4]);
//   unknown signature lines are ignored, a known line that does not verify is an error, and
//   the origin must equal that host name;
// - the leaf is rebuilt from the bundle and the release key alone, never from
//   canonicalizedBody: keyDetails and hash from the key (P-256: PKIX_ECDSA_P256_SHA_256 and
//   SHA-256; Ed25519: PKIX_ED25519_PH and SHA-512, as `WithED25519ph` makes it), JCS body,
//   RFC 6962 leaf hash, inclusion proof to the checkpoint's root;
// - the DSSE signature is checked over the PAE with the key's hash.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export class GoRulesError extends Error {}

const b64 = (s: string) => Buffer.from(s, 'base64');
const sha = (alg: string, ...parts: Buffer[]) => createHash(alg).update(Buffer.concat(parts)).digest();

function fail(message: string): never {
  throw new GoRulesError(message);
}

/** RFC 9162 §2.1.3.2 inclusion verification. */
function rootFromInclusion(index: bigint, size: bigint, leaf: Buffer, proof: Buffer[]): Buffer {
  if (index >= size) fail('index beyond tree size');
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) fail('proof too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha('sha256', Buffer.from([1]), p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = sha('sha256', Buffer.from([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('proof too short');
  return r;
}

function verifyNote(note: string, host: string, logKey: KeyObject): { origin: string; size: bigint; root: Buffer } {
  const split = note.indexOf('\n\n');
  if (split < 0) fail('malformed note');
  const text = note.slice(0, split + 1);
  const raw = Buffer.from((logKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32));
  const hash = sha('sha256', Buffer.from(`${host}\n`), Buffer.from([0x01]), raw).subarray(0, 4);
  let verified = 0;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) fail(`malformed signature line ${line}`);
    const sig = b64(m[2]!);
    if (m[1] !== host || !sig.subarray(0, 4).equals(hash)) continue;
    if (!verify(null, Buffer.from(text), logKey, sig.subarray(4))) fail('note has a bad signature from the log');
    verified++;
  }
  if (verified === 0) fail('note has no verifiable signature');
  const [origin, size, root] = text.split('\n');
  if (origin !== host) fail(`checkpoint origin ${origin} is not ${host}`);
  return { origin: origin!, size: BigInt(size!), root: b64(root!) };
}

function canonicalBody(digest: Buffer, signature: Buffer, keyDetails: string, spki: Buffer): Buffer {
  // JCS: keys sorted, no spaces; every value is an ASCII string.
  return Buffer.from(
    `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"${keyDetails === 'PKIX_ED25519_PH' ? 'SHA2_512' : 'SHA2_256'}","digest":"${digest.toString('base64')}"},"signature":{"content":"${signature.toString('base64')}","verifier":{"keyDetails":"${keyDetails}","publicKey":{"rawBytes":"${spki.toString('base64')}"}}}}}}`,
  );
}

/** The leaf sigstore-go rebuilds for a DSSE bundle signed by `key`. */
export function goLeaf(bundle: any, key: KeyObject): Buffer {
  const payload = b64(bundle.dsseEnvelope.payload);
  const type = Buffer.from(bundle.dsseEnvelope.payloadType);
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
  const ed = key.asymmetricKeyType === 'ed25519';
  const digest = sha(ed ? 'sha512' : 'sha256', pae);
  const body = canonicalBody(digest, b64(bundle.dsseEnvelope.signatures[0].sig), ed ? 'PKIX_ED25519_PH' : 'PKIX_ECDSA_P256_SHA_256', key.export({ format: 'der', type: 'spki' }) as Buffer);
  return sha('sha256', Buffer.from([0]), body);
}

/** Throws GoRulesError unless sigstore-go would accept `bundle` with `trustedRoot` and the release key. */
export function verifyAsSigstoreGo(bundle: any, trustedRoot: any, releaseKeyPem: string): void {
  if (trustedRoot.mediaType !== 'application/vnd.dev.sigstore.trustedroot+json;version=0.1') fail('unsupported trusted root media type');
  const key = createPublicKey(releaseKeyPem);
  const tle = bundle?.verificationMaterial?.tlogEntries?.[0];
  if (!tle?.logId?.keyId || !tle.kindVersion || !tle.canonicalizedBody || !(BigInt(tle.logIndex) >= 0n)) fail('tlog entry missing required fields');
  const tlog = (trustedRoot.tlogs as any[]).find((t) => b64(t.logId.keyId).equals(b64(tle.logId.keyId)));
  if (!tlog) fail('not enough verified log entries from transparency log: 0 < 1');
  if (tlog.hashAlgorithm !== 'SHA2_256' || !tlog.publicKey?.validFor?.start) fail('tlog missing public key validity period');
  const host = new URL(tlog.baseUrl).hostname;
  const logKey = createPublicKey({ key: b64(tlog.publicKey.rawBytes), format: 'der', type: 'spki' });
  const checkpoint = verifyNote(tle.inclusionProof.checkpoint.envelope, host, logKey);
  const index = BigInt(tle.logIndex);
  const root = rootFromInclusion(index, checkpoint.size, goLeaf(bundle, key), (tle.inclusionProof.hashes as string[]).map(b64));
  if (!root.equals(checkpoint.root)) fail('inclusion proof does not lead to the checkpoint root');
  const payload = b64(bundle.dsseEnvelope.payload);
  const type = Buffer.from(bundle.dsseEnvelope.payloadType);
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
  if (!verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', pae, key, b64(bundle.dsseEnvelope.signatures[0].sig))) fail('signature verification failed');
}
