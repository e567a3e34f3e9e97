// The leaf modelsign logged for a release signature before version 0.2, kind `modelsign-release`
// version `1`. New signatures are logged as Rekor v2 `hashedrekord` entries (hashedrekord-v002.ts);
// entries of this kind stay in the log (it is append-only) and their bundles keep verifying, so
// the kind stays readable. The leaf data is derived from the bundle alone:
//
//   modelsign/tlog-leaf/v1\n
//   subject <in-toto subject name: namespace/name@version>\n
//   root <subject sha256 digest, lowercase hex>\n
//   payload <SHA-256 of the DSSE payload bytes, lowercase hex>\n
//   kid <publicKey.hint>\n
//   sig <the DSSE signature, standard base64>\n
//
// (UTF-8, each line ending in one newline.)
import { bytesToHex, toBase64, utf8 } from '../../bytes.ts';
import type { EntryKind } from './entry-kind.ts';

const LEAF_HEADER = 'modelsign/tlog-leaf/v1';

export const MODELSIGN_RELEASE_V1: EntryKind = {
  kindVersion: { kind: 'modelsign-release', version: '1' },
  style: 'modelsign-v1',
  leafData: (f, sha256) =>
    utf8(`${LEAF_HEADER}\nsubject ${f.subject}\nroot ${f.rootDigest}\npayload ${bytesToHex(sha256(f.payload))}\nkid ${f.kid}\nsig ${toBase64(f.signature)}\n`),
};
