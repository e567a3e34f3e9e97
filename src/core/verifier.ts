// The portable verifier: everything a client needs to check a modelsign bundle, its transparency
// log entry and the rotation chain, with no I/O and no dependency but @noble/curves and
// @noble/hashes, so it bundles for a browser or any JavaScript runtime. The CLI and
// /v1/verify use these same functions.
export { verifyBundle, compareFiles, type TrustedKey, type VerifyBundleOptions, type FileDigest } from './verify-bundle.ts';
export { verifyKeyChain, KeyChainError } from './key-chain.ts';
export { verifyCheckpoint } from './tlog/log-note.ts';
export { verifyInclusion, verifyConsistency } from './tlog/verify-proof.ts';
export { checkTlogEntry } from './tlog/tlog-entry.ts';
export { leafData } from './tlog/leaf.ts';
export { leafHash } from './tlog/hash.ts';
export { ed25519Verify } from './ed25519.ts';
export { parseSpkiPem, parseJwk, keyIdOf } from './public-key.ts';
export { rootDigest } from './manifest.ts';
export { REASON_CODES, type Verdict, type Reason } from './verdict.ts';
