// Compact JWS (RFC 7515) signing of a JWT with a Signer: the `alg` comes from the signer's
// algorithm record and the header names the key. Tokens are verified by @fastify/jwt (fast-jwt);
// they are signed here because fast-jwt's signer takes a private key only as PEM text and keeps
// it in a module-level cache, while modelsign keeps private keys inside KeyObjects (or a token).
import { toBase64Url, utf8 } from './bytes.ts';
import type { Signer } from './crypto/algorithm.ts';
import { algorithmOf } from './crypto/registry.ts';

export async function signJwt(claims: Record<string, unknown>, signer: Signer): Promise<string> {
  const header = { alg: algorithmOf(signer.algorithm).jwsAlg, typ: 'JWT', kid: signer.kid };
  const signingInput = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(claims)))}`;
  return `${signingInput}.${toBase64Url(await signer.sign(utf8(signingInput)))}`;
}
