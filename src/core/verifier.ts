// The portable verifier: everything a client needs to check a modelsign bundle, its transparency
// log entry, witness cosignatures and the rotation chain, with no I/O and no dependency but
// @noble/curves, @noble/hashes and @noble/post-quantum, so it bundles for a browser or any
// JavaScript runtime. The CLI and /v1/verify use these same functions.
export { verifyBundle, compareFiles, type VerifyBundleOptions, type FileDigest } from './verify-bundle.ts';
export type { TrustedKey, PublicKey } from './keys/key.ts';
export { verifyKeyChain, KeyChainError } from './keys/key-chain.ts';
export { verifyCheckpoint } from './tlog/log-note.ts';
export { verifyInclusion, verifyConsistency } from './tlog/verify-proof.ts';
export { checkTlogEntry } from './tlog/tlog-entry.ts';
export type { EntryFacts } from './tlog/entries/entry-kind.ts';
export { leafFor, CURRENT_ENTRY_KIND } from './tlog/entries/registry.ts';
export { logIdOf } from './tlog/log-id.ts';
export { parseWitnessPolicy, evaluateQuorum, POLICY_LIMITS, type WitnessPolicy } from './tlog/witness-policy.ts';
export { parseTlogProof, formatTlogProof, PROOF_FILE_NAME } from './tlog/tlog-proof.ts';
export { COSIGNATURE_CLOCK_ALLOWANCE_SECONDS, verifyCosignature } from './tlog/cosignature.ts';
export { parseVkey, formatVkey } from './tlog/vkey.ts';
export { keySet, type KeySet } from './keys/key-set.ts';
export { trustedKeysFromJwks } from './keys/jwks.ts';
export { leafHash, RFC6962 } from './tlog/hash.ts';
export { ALGORITHMS, algorithmOf } from './crypto/registry.ts';
export { parseSpkiPem, parseJwk, keyIdOf, verifySignature } from './crypto/public-key.ts';
export { rootDigest } from './manifest.ts';
export { REASON_CODES, type Verdict, type Reason } from './verdict.ts';
