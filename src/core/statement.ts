// The in-toto Statement v1 that a bundle signs, in the OpenSSF Model Signing (OMS) v1.0 layout.
// Member order follows the upstream tool's output so bundles look alike side by side.
import { utf8 } from './bytes.ts';
import { CONTENT_CLAIM_KEY, type ContentClaim } from './content-claim.ts';
import type { Manifest } from './manifest.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';

export interface OmsResource {
  algorithm: string;
  name: string;
  digest: string;
}

export interface OmsSerialization {
  allow_symlinks: boolean;
  method: string;
  hash_type: string;
  ignore_paths: string[];
}

export interface OmsStatement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: { resources: OmsResource[]; serialization: OmsSerialization; [CONTENT_CLAIM_KEY]?: ContentClaim };
}

export function buildStatement(subject: string, manifest: Manifest, allowSymlinks = false, content?: ContentClaim): OmsStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: subject, digest: { sha256: manifest.rootDigest } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: {
      resources: manifest.files.map((f) => ({ algorithm: 'sha256', name: f.path, digest: f.sha256 })),
      serialization: {
        allow_symlinks: allowSymlinks,
        method: 'files',
        hash_type: 'sha256',
        ignore_paths: manifest.ignorePaths,
      },
      // Only when the signer checked the content: bundles without a check stay byte-identical.
      ...(content ? { [CONTENT_CLAIM_KEY]: content } : {}),
    },
  };
}

/** The exact bytes that get signed. */
export function encodeStatement(statement: OmsStatement): Uint8Array {
  return utf8(JSON.stringify(statement));
}
