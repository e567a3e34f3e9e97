// Structural reading of a bundle, independent of the signature algorithm, so the same code
// reads our Ed25519 bundles and upstream ECDSA ones. Nothing here trusts the content: callers
// check the signature over `payload` before acting on `statement`.
import { fromBase64, fromUtf8, isSha256Hex } from './bytes.ts';
import { BUNDLE_MEDIA_TYPE } from './bundle.ts';
import { readContentClaim, type ContentClaim } from './content-claim.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
import { isObject } from './guards.ts';
import { pathProblem } from './manifest.ts';
import { escapeName, invisibleCharacter } from './unicode.ts';
import { parseSubjectName } from './release-name.ts';
import { OMS_PREDICATE_TYPE, STATEMENT_TYPE } from './statement.ts';
import type { Reason } from './verdict.ts';

export interface EnvelopeParts {
  hint: string;
  payloadType: string;
  payload: Uint8Array;
  signature: Uint8Array;
  tlogEntries: unknown[];
}

export interface ReleaseClaim {
  subject: string;
  model: string | null;
  version: string | null;
  rootDigest: string;
  resources: { name: string; digest: string }[];
  ignorePaths: string[];
  allowSymlinks: boolean;
  /** What the signer's content check said, if it ran ('malformed' when the member is there but unreadable). */
  content: ContentClaim | 'malformed' | undefined;
}

export type Read<T> = { ok: true; value: T } | { ok: false; reasons: Reason[] };

const fail = (code: Reason['code'], message: string, path?: string): { ok: false; reasons: Reason[] } => ({
  ok: false,
  reasons: [path === undefined ? { code, message } : { code, message, path }],
});

export function readEnvelope(bundle: unknown): Read<EnvelopeParts> {
  if (!isObject(bundle)) return fail('bundle_malformed', 'bundle must be a JSON object');
  if (bundle.mediaType !== BUNDLE_MEDIA_TYPE) {
    return fail('bundle_media_type', `mediaType must be ${BUNDLE_MEDIA_TYPE}, got ${JSON.stringify(bundle.mediaType)}`);
  }
  const material = bundle.verificationMaterial;
  if (!isObject(material) || !isObject(material.publicKey) || typeof material.publicKey.hint !== 'string') {
    return fail('bundle_malformed', 'verificationMaterial.publicKey.hint must be a string');
  }
  const tlogEntries = material.tlogEntries ?? [];
  if (!Array.isArray(tlogEntries)) return fail('bundle_malformed', 'verificationMaterial.tlogEntries must be an array');
  const env = bundle.dsseEnvelope;
  if (!isObject(env) || typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) {
    return fail('bundle_malformed', 'dsseEnvelope must have payload, payloadType and signatures');
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return fail('payload_type', `payloadType must be ${IN_TOTO_PAYLOAD_TYPE}, got ${JSON.stringify(env.payloadType)}`);
  }
  if (env.signatures.length !== 1) return fail('signature_count', `expected 1 signature, found ${env.signatures.length}`);
  const sig = env.signatures[0];
  const signature = isObject(sig) && typeof sig.sig === 'string' ? fromBase64(sig.sig) : undefined;
  if (!signature) return fail('signature_malformed', 'dsseEnvelope.signatures[0].sig must be canonical base64');
  const payload = fromBase64(env.payload);
  if (!payload) return fail('bundle_malformed', 'dsseEnvelope.payload must be canonical base64');
  return { ok: true, value: { hint: material.publicKey.hint, payloadType: env.payloadType, payload, signature, tlogEntries } };
}

export function readClaim(payload: Uint8Array): Read<ReleaseClaim> {
  let statement: unknown;
  try {
    statement = JSON.parse(fromUtf8(payload));
  } catch {
    return fail('payload_malformed', 'payload is not UTF-8 JSON');
  }
  if (!isObject(statement) || statement._type !== STATEMENT_TYPE || statement.predicateType !== OMS_PREDICATE_TYPE) {
    return fail('statement_unsupported', `payload must be an ${STATEMENT_TYPE} statement with predicateType ${OMS_PREDICATE_TYPE}`);
  }
  const predicate = statement.predicate;
  const serialization = isObject(predicate) ? predicate.serialization : undefined;
  if (
    !isObject(predicate) ||
    !isObject(serialization) ||
    serialization.method !== 'files' ||
    serialization.hash_type !== 'sha256' ||
    !Array.isArray(predicate.resources)
  ) {
    return fail('statement_unsupported', 'predicate must list resources and use serialization method "files" with hash_type "sha256"');
  }
  const subjects = statement.subject;
  const subject = Array.isArray(subjects) && subjects.length === 1 ? subjects[0] : undefined;
  if (!isObject(subject) || typeof subject.name !== 'string' || !isObject(subject.digest) || !isSha256Hex(subject.digest.sha256)) {
    return fail('subject_malformed', 'statement must have exactly one subject with a name and a sha256 digest');
  }
  const ignore = serialization.ignore_paths ?? [];
  if (!Array.isArray(ignore) || !ignore.every((p): p is string => typeof p === 'string')) {
    return fail('statement_unsupported', 'serialization.ignore_paths must be an array of strings');
  }
  const reasons: Reason[] = [];
  const resources: ReleaseClaim['resources'] = [];
  const seen = new Set<string>();
  predicate.resources.forEach((r: unknown, i: number) => {
    const where = `predicate.resources[${i}]`;
    if (!isObject(r) || r.algorithm !== 'sha256' || typeof r.name !== 'string' || !isSha256Hex(r.digest)) {
      reasons.push({ code: 'resource_malformed', message: `${where} must be {algorithm: "sha256", name, digest: 64 hex}` });
      return;
    }
    const problem = pathProblem(r.name);
    const hidden = problem === undefined ? undefined : invisibleCharacter(r.name);
    // Signed before such names were refused at signing: named for what they are.
    if (hidden) reasons.push({ code: 'invisible_character', message: `${where}.name ${escapeName(r.name)} holds an invisible or bidirectional format character (${hidden}); it displays as another name`, path: r.name });
    else if (problem) reasons.push({ code: 'resource_unsafe', message: `${where}.name ${problem}`, path: r.name });
    else if (seen.has(r.name)) reasons.push({ code: 'resource_malformed', message: `${where}.name appears twice`, path: r.name });
    seen.add(r.name);
    resources.push({ name: r.name, digest: r.digest });
  });
  if (reasons.length > 0) return { ok: false, reasons };
  const release = parseSubjectName(subject.name);
  return {
    ok: true,
    value: {
      subject: subject.name,
      model: release?.model ?? null,
      version: release?.version ?? null,
      rootDigest: subject.digest.sha256,
      resources,
      ignorePaths: ignore,
      allowSymlinks: serialization.allow_symlinks === true,
      content: readContentClaim(predicate),
    },
  };
}
