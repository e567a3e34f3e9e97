// Every signature algorithm modelsign knows, by id. Adding one: a record beside ed25519.ts, its
// id in AlgorithmId, and a line here (docs/design/README.md lists the rest: a node signer, tests).
import type { AlgorithmId, SignatureAlgorithm } from './algorithm.ts';
import { ECDSA_P256 } from './ecdsa-p256.ts';
import { ED25519 } from './ed25519.ts';

export const ALGORITHMS: Readonly<Record<AlgorithmId, SignatureAlgorithm>> = { Ed25519: ED25519, 'ECDSA P-256': ECDSA_P256 };

/** What a new key gets unless asked otherwise, and what every log and token key is. */
export const DEFAULT_ALGORITHM: AlgorithmId = ED25519.id;

export const ALGORITHM_IDS = Object.keys(ALGORITHMS) as AlgorithmId[];

export function isAlgorithmId(value: unknown): value is AlgorithmId {
  return typeof value === 'string' && Object.hasOwn(ALGORITHMS, value);
}

/** The record of an algorithm id; throws TypeError for one this version does not know. */
export function algorithmOf(id: string): SignatureAlgorithm {
  if (!isAlgorithmId(id)) throw new TypeError(`unknown signature algorithm ${JSON.stringify(id)}`);
  return ALGORITHMS[id];
}

/** The algorithm an admin names (`ed25519`, `ecdsa-p256`), if any. */
export function algorithmNamed(name: unknown): SignatureAlgorithm | undefined {
  return Object.values(ALGORITHMS).find((a) => a.name === name);
}

export const ALGORITHM_NAMES = Object.values(ALGORITHMS).map((a) => a.name);

/** The algorithm whose JWS `alg` this is, if any. */
export function algorithmOfJws(alg: unknown): SignatureAlgorithm | undefined {
  return Object.values(ALGORITHMS).find((a) => a.jwsAlg === alg);
}
