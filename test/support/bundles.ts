// Bundles made in tests with the reference signer, and ways to damage them.
import { buildBundle, type Bundle } from '../../src/core/bundle.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../../src/core/dsse.ts';
import { ed25519PublicKey, ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { keyIdOf } from '../../src/core/crypto/public-key.ts';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { buildManifest, type ManifestFile } from '../../src/core/manifest.ts';
import { subjectName } from '../../src/core/release-name.ts';
import { buildStatement, encodeStatement } from '../../src/core/statement.ts';

export function testSigner(seedByte = 7) {
  const seed = new Uint8Array(32).fill(seedByte);
  const publicKey = ed25519PublicKey(seed);
  const kid = keyIdOf({ algorithm: 'Ed25519', publicKey });
  const trusted: TrustedKey = { kid, algorithm: 'Ed25519', publicKey, purpose: 'release', status: 'active' };
  return {
    kid,
    publicKey,
    trusted,
    sign(model: string, version: string, files: ManifestFile[], ignorePaths: string[] = []): Bundle {
      const payload = encodeStatement(buildStatement(subjectName(model, version), buildManifest(files, ignorePaths)));
      return buildBundle({ payload, signature: ed25519Sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), seed), kid });
    },
  };
}

export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Flips one bit of byte `index` of a base64 field. */
export function flipBase64(text: string, index: number): string {
  const bytes = fromBase64(text)!;
  bytes[index]! ^= 0x01;
  return toBase64(bytes);
}

/** Rewrites the payload with `edit` applied to the statement (leaving the old signature). */
export function editStatement(bundle: Bundle, edit: (statement: any) => void): Bundle {
  const out = clone(bundle);
  const statement = JSON.parse(Buffer.from(out.dsseEnvelope.payload, 'base64').toString('utf8'));
  edit(statement);
  out.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  return out;
}
