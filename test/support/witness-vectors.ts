// The committed witness vectors (test/vectors/witness/cases.json) and how a case's trust is read.
import { readFileSync } from 'node:fs';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { trustedKeysFromJwks } from '../../src/core/keys/jwks.ts';
import type { WitnessCase } from './witness-cases.ts';

export interface WitnessVectors {
  keys: { keys: Record<string, unknown>[] };
  files: Record<string, string>;
  cases: WitnessCase[];
}

export const WITNESS_VECTORS_URL = new URL('../vectors/witness/cases.json', import.meta.url);

export function witnessVectors(): WitnessVectors {
  return JSON.parse(readFileSync(WITNESS_VECTORS_URL, 'utf8')) as WitnessVectors;
}

/** The case's JWKS: the vectors' keys, with the release key revoked when the case says so. */
export function caseJwks(vectors: WitnessVectors, c: WitnessCase): { keys: Record<string, unknown>[] } {
  return {
    keys: vectors.keys.keys.map((k) => (k.purpose === 'release' && c.releaseKeyCompromisedAt ? { ...k, status: 'revoked', compromisedAt: c.releaseKeyCompromisedAt } : k)),
  };
}

export function caseKeys(vectors: WitnessVectors, c: WitnessCase): TrustedKey[] {
  return trustedKeysFromJwks(caseJwks(vectors, c))!;
}

export const codesOf = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code);
