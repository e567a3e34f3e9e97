// What the log stores for a release signature. The leaf data is derived from the bundle alone,
// so anyone holding a bundle can recompute its leaf and check it against the log, and a monitor
// reading the log sees which release each entry signs:
//
//   modelsign/tlog-leaf/v1\n
//   subject <in-toto subject name: namespace/name@version>\n
//   root <subject sha256 digest, lowercase hex>\n
//   payload <SHA-256 of the DSSE payload bytes, lowercase hex>\n
//   kid <publicKey.hint>\n
//   sig <the DSSE signature, standard base64>\n
//
// (UTF-8, each line ending in one newline.) The payload hash binds everything signed; the subject
// and root lines repeat what the payload says so that monitors need not fetch payloads.
// The leaf hash is RFC 6962's SHA-256(0x00 || leaf data).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, toBase64, utf8 } from '../bytes.ts';

export const LEAF_HEADER = 'modelsign/tlog-leaf/v1';

export interface LeafFields {
  subject: string;
  rootDigest: string;
  payload: Uint8Array;
  kid: string;
  signature: Uint8Array;
}

export function leafData(f: LeafFields): Uint8Array {
  const { payload, ...rest } = f;
  return leafDataFromDigest({ ...rest, payloadSha256: bytesToHex(sha256(payload)) });
}

/** The same, from the payload's hex SHA-256 (so a log reader need not load whole payloads). */
export function leafDataFromDigest(f: Omit<LeafFields, 'payload'> & { payloadSha256: string }): Uint8Array {
  return utf8(`${LEAF_HEADER}\nsubject ${f.subject}\nroot ${f.rootDigest}\npayload ${f.payloadSha256}\nkid ${f.kid}\nsig ${toBase64(f.signature)}\n`);
}
