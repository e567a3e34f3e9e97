// The leaf modelsign logs for a release signature: a Rekor v2 `hashedrekord` 0.0.2 entry, the
// only kind Rekor v2 stores, built exactly as Rekor v2 builds it (rekor-tiles `ToEntryHash`):
// protojson field names, enums by name, bytes in padded standard base64, then RFC 8785
// canonical JSON. Every value is an ASCII string, so an object whose keys are written in sorted
// order and serialised by JSON.stringify is already canonical:
//
//   {"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{
//     "data":{"algorithm":"SHA2_256","digest":<b64 SHA-256(DSSE PAE)>},
//     "signature":{"content":<b64 DSSE signature>,
//                  "verifier":{"keyDetails":<e.g. PKIX_ECDSA_P256_SHA_256>,"publicKey":{"rawBytes":<b64 DER SPKI>}}}}}}
//
// The digest is SHA-256 of the DSSE pre-authentication encoding for both algorithms: what
// sigstore-js compares for any key, and what sigstore-go and cosign rebuild for ECDSA P-256. For
// Ed25519 they rebuild SHA-512 with PKIX_ED25519_PH, which no pure Ed25519 signature can match,
// so only sigstore-js checks Ed25519 entries (research: sigstore-interop.md §1.5).
import { toBase64, utf8 } from '../../bytes.ts';
import { algorithmOf } from '../../crypto/registry.ts';
import { preAuthEncoding } from '../../dsse.ts';
import type { PublicKey } from '../../keys/key.ts';
import type { EntryKind } from './entry-kind.ts';

/** The canonical body of a hashedrekord 0.0.2 entry (exported for the tests' known answers). */
export function hashedRekordBody(b: { digest: Uint8Array; signature: Uint8Array; keyDetails: string; spki: Uint8Array }): Uint8Array {
  const body = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: toBase64(b.digest) },
        signature: { content: toBase64(b.signature), verifier: { keyDetails: b.keyDetails, publicKey: { rawBytes: toBase64(b.spki) } } },
      },
    },
  };
  return utf8(JSON.stringify(body));
}

// A key's SPKI, by its raw public key object: a signer passes the same bytes for every
// signature, and encoding a P-256 key checks the point (far costlier than the rest of a leaf).
const spkiCache = new WeakMap<Uint8Array, Uint8Array>();

function spkiOf(key: PublicKey): Uint8Array {
  let spki = spkiCache.get(key.publicKey);
  if (!spki) {
    spki = algorithmOf(key.algorithm).spki(key.publicKey);
    spkiCache.set(key.publicKey, spki);
  }
  return spki;
}

export const HASHEDREKORD_V002: EntryKind = {
  kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
  style: 'rekor-v2',
  leafData: (f, sha256) =>
    hashedRekordBody({ digest: sha256(preAuthEncoding(f.payloadType, f.payload)), signature: f.signature, keyDetails: algorithmOf(f.key.algorithm).keyDetails, spki: spkiOf(f.key) }),
};
