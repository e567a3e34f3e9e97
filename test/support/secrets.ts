// The forms a leaked secret would take in text, for tests that search logs and tables for them:
// each private key (Ed25519 seed, P-256 scalar) raw in hex, base64 and base64url, as PKCS#8 DER
// in base64 and as the first line of its PEM; the KEK in hex and base64; each token, and its
// signature alone.
import { bytesToHex, toBase64, toBase64Url } from '../../src/core/bytes.ts';
import type { PublicKey } from '../../src/core/keys/key.ts';
import type { Kek } from '../../src/services/key-backends/kek.ts';
import { privateKeyOf } from '../../src/services/key-backends/node-keys.ts';

export function secretForms(input: { keys: { key: PublicKey; material: Uint8Array }[]; kek: Kek; tokens: string[] }): string[] {
  const forms: string[] = [];
  for (const { key, material: seed } of input.keys) {
    const pkcs8 = privateKeyOf(key, seed);
    forms.push(bytesToHex(seed), toBase64(seed), toBase64Url(seed), toBase64(new Uint8Array(pkcs8.export({ format: 'der', type: 'pkcs8' }))));
    forms.push(String(pkcs8.export({ format: 'pem', type: 'pkcs8' })).split('\n')[1]!);
  }
  forms.push(input.kek.key.toString('hex'), input.kek.key.toString('base64'));
  for (const token of input.tokens) forms.push(token, token.split('.')[2]!);
  return forms;
}
