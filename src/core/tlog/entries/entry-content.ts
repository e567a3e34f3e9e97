// What a log monitor checks of each entry beyond its leaf hash: that the body commits to the
// signed payload served beside it and to the release it is listed under, so a label (model,
// version) cannot be attached to someone else's entry unnoticed. For a Rekor v2 entry: the body
// is canonical (rebuilt from its own fields byte for byte) and its digest is SHA-256 of the DSSE
// PAE of the payload; for a first-format entry, its payload and subject lines. In both, the
// payload's in-toto subject must be the release.
import { bytesToHex, fromBase64, fromUtf8 } from '../../bytes.ts';
import { preAuthEncoding } from '../../dsse.ts';
import { isObject } from '../../guards.ts';
import type { Sha256 } from '../hash.ts';
import type { KindVersion } from './entry-kind.ts';
import { hashedRekordBody } from './hashedrekord-v002.ts';

/** An entry as the log serves it (GET /v1/log/entries): its leaf, and what the leaf must commit to. */
export interface LogEntry {
  index: number;
  signatureId: string;
  kindVersion: Readonly<KindVersion>;
  data: Uint8Array;
  leafHash: Uint8Array;
  /** The release the entry is listed under. */
  release: { model: string; version: string };
  /** The signed DSSE payload. */
  payloadType: string;
  payload: Uint8Array;
  /** The release key that signed it, and when (what a reader of the log lists beside the release). */
  kid: string;
  signedAt: Date;
}

/** What the content check needs of a served entry. */
export type ServedEntry = Pick<LogEntry, 'kindVersion' | 'data' | 'payloadType' | 'payload' | 'release'>;

function subjectOf(payload: Uint8Array): string | undefined {
  try {
    const statement: unknown = JSON.parse(fromUtf8(payload));
    const subject = isObject(statement) && Array.isArray(statement.subject) ? statement.subject[0] : undefined;
    return isObject(subject) && typeof subject.name === 'string' ? subject.name : undefined;
  } catch {
    return undefined;
  }
}

/** Why a served entry does not commit to its payload and release, or undefined when it does. */
export function entryContentProblem(e: ServedEntry, sha256: Sha256): string | undefined {
  const release = `${e.release.model}@${e.release.version}`;
  if (subjectOf(e.payload) !== release) return `its payload signs ${JSON.stringify(subjectOf(e.payload) ?? null)}, not ${release}`;
  const text = fromUtf8(e.data);
  if (e.kindVersion.kind === 'hashedrekord' && e.kindVersion.version === '0.0.2') {
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return 'its body is not JSON';
    }
    const spec = body?.spec?.hashedRekordV002;
    const digest = typeof spec?.data?.digest === 'string' ? fromBase64(spec.data.digest) : undefined;
    const signature = typeof spec?.signature?.content === 'string' ? fromBase64(spec.signature.content) : undefined;
    const spki = typeof spec?.signature?.verifier?.publicKey?.rawBytes === 'string' ? fromBase64(spec.signature.verifier.publicKey.rawBytes) : undefined;
    const keyDetails = spec?.signature?.verifier?.keyDetails;
    if (!digest || !signature || !spki || typeof keyDetails !== 'string') return 'its body is not a hashedrekord 0.0.2 entry';
    if (fromUtf8(hashedRekordBody({ digest, signature, keyDetails, spki })) !== text) return 'its body is not in canonical form';
    if (bytesToHex(digest) !== bytesToHex(sha256(preAuthEncoding(e.payloadType, e.payload)))) return 'its digest is not SHA-256 of the DSSE PAE of its payload';
    return undefined;
  }
  if (e.kindVersion.kind === 'modelsign-release' && e.kindVersion.version === '1') {
    const lines = text.split('\n');
    if (lines[1] !== `subject ${release}`) return `its subject line is not ${release}`;
    if (lines[3] !== `payload ${bytesToHex(sha256(e.payload))}`) return 'its payload line is not SHA-256 of its payload';
    return undefined;
  }
  return `its kind ${e.kindVersion.kind}/${e.kindVersion.version} is unknown`;
}
