// The leaf modelsign logs for a release signature, kind `modelsign-release` version `1`. The leaf
// data is derived from the bundle alone, so anyone holding a bundle can recompute its leaf and
// check it against the log, and a monitor reading the log sees which release each entry signs:
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
import { toBase64, utf8 } from '../../bytes.ts';
import type { EntryKind } from './entry-kind.ts';

const LEAF_HEADER = 'modelsign/tlog-leaf/v1';

export const MODELSIGN_RELEASE_V1: EntryKind = {
  kindVersion: { kind: 'modelsign-release', version: '1' },
  leafData: (f) => utf8(`${LEAF_HEADER}\nsubject ${f.subject}\nroot ${f.rootDigest}\npayload ${f.payloadSha256}\nkid ${f.kid}\nsig ${toBase64(f.signature)}\n`),
};
