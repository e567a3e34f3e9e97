// Readers for the shared Ed25519 vector files.
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../src/core/bytes.ts';
import { VECTORS } from './vectors.ts';

export interface SignVector {
  seed: Uint8Array;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** RFC 8032 / SUPERCOP lines: `sk‖pk:pk:msg:sig‖msg:`. */
export function signVectors(): SignVector[] {
  return readFileSync(`${VECTORS}ed25519/sign.input.txt`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [skpk, pk, msg, sigmsg] = line.split(':') as [string, string, string, string];
      return { seed: hexToBytes(skpk.slice(0, 64)), publicKey: hexToBytes(pk), message: hexToBytes(msg), signature: hexToBytes(sigmsg.slice(0, 128)) };
    });
}

export interface VerifyVector {
  id: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  valid: boolean;
}

export function wycheproofVectors(): VerifyVector[] {
  const doc = JSON.parse(readFileSync(`${VECTORS}ed25519/wycheproof-eddsa.json`, 'utf8')) as {
    testGroups: { key: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
  };
  return doc.testGroups.flatMap((g) =>
    g.tests.map((t) => ({
      id: `wycheproof ${t.tcId}`,
      publicKey: hexToBytes(g.key.pk),
      message: hexToBytes(t.msg),
      // A few invalid cases have odd-length hex: not decodable, hence not a signature.
      signature: t.sig.length % 2 === 0 ? hexToBytes(t.sig) : new Uint8Array(0),
      valid: t.result === 'valid',
    })),
  );
}

export function edgeCaseVectors(): { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }[] {
  const doc = JSON.parse(readFileSync(`${VECTORS}ed25519/edge-cases.json`, 'utf8')) as { message: string; pub_key: string; signature: string }[];
  return doc.map((c) => ({ publicKey: hexToBytes(c.pub_key), message: hexToBytes(c.message), signature: hexToBytes(c.signature) }));
}
