// The strict shape rules a bundle must meet to parse in sigstore_models (pydantic, extra
// fields forbidden), which model_signing uses, and in protojson: research sigstore-interop.md §5.
// Returns every violation, with its path.

const U64 = /^(0|[1-9][0-9]{0,19})$/;

function isPaddedBase64(v: unknown): boolean {
  return typeof v === 'string' && v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && Buffer.from(v, 'base64').toString('base64') === v;
}

type Rule = 'string' | 'u64' | 'bytes' | { [key: string]: Rule | [Rule] } | [Rule];
const optional = new Set(['verificationMaterial.timestampVerificationData', 'verificationMaterial.tlogEntries[].inclusionPromise', 'verificationMaterial.tlogEntries[].integratedTime', 'verificationMaterial.tlogEntries[].inclusionProof.checkpoint']);

const TLE: Rule = {
  logIndex: 'u64',
  logId: { keyId: 'bytes' },
  kindVersion: { kind: 'string', version: 'string' },
  integratedTime: 'u64',
  inclusionPromise: { signedEntryTimestamp: 'bytes' },
  inclusionProof: { logIndex: 'u64', rootHash: 'bytes', treeSize: 'u64', hashes: ['bytes'], checkpoint: { envelope: 'string' } },
  canonicalizedBody: 'bytes',
};

const BUNDLE: Rule = {
  mediaType: 'string',
  verificationMaterial: { publicKey: { hint: 'string' }, tlogEntries: [TLE], timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: 'bytes' }] } },
  dsseEnvelope: { payload: 'bytes', payloadType: 'string', signatures: [{ sig: 'bytes', keyid: 'string' }] },
};

function walk(value: unknown, rule: Rule, path: string, out: string[]): void {
  if (rule === 'string') {
    if (typeof value !== 'string') out.push(`${path}: not a string`);
  } else if (rule === 'u64') {
    if (typeof value !== 'string' || !U64.test(value)) out.push(`${path}: a uint64 must be a decimal string`);
  } else if (rule === 'bytes') {
    if (!isPaddedBase64(value)) out.push(`${path}: not padded standard base64`);
  } else if (Array.isArray(rule)) {
    if (!Array.isArray(value)) out.push(`${path}: not an array`);
    else value.forEach((v, i) => walk(v, rule[0]!, `${path}[${i}]`, out));
  } else {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push(`${path}: not an object`);
      return;
    }
    const generic = path.replace(/\[\d+\]/g, '[]');
    for (const key of Object.keys(value)) if (!(key in rule)) out.push(`${path}.${key}: unknown field`);
    for (const [key, sub] of Object.entries(rule)) {
      const v = (value as Record<string, unknown>)[key];
      const where = path === '' ? key : `${path}.${key}`;
      if (v === undefined) {
        if (!optional.has(generic === '' ? key : `${generic}.${key}`)) out.push(`${where}: missing`);
        continue;
      }
      walk(v, sub as Rule, where, out);
    }
  }
}

/** Every way `bundle` breaks the rules; empty when it meets them. */
export function bundleShapeProblems(bundle: unknown): string[] {
  const out: string[] = [];
  walk(bundle, BUNDLE, '', out);
  for (const [i, tle] of ((bundle as any)?.verificationMaterial?.tlogEntries ?? []).entries()) {
    const p = tle?.inclusionProof;
    if (p && U64.test(p.treeSize) && U64.test(tle.logIndex) && !(BigInt(p.treeSize) > BigInt(tle.logIndex))) out.push(`verificationMaterial.tlogEntries[${i}]: treeSize must exceed logIndex`);
  }
  return out;
}
