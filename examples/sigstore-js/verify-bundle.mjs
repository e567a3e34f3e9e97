// Verifying a modelsign bundle with sigstore-js (@sigstore/verify 4.1.x, @sigstore/bundle 5.x,
// @sigstore/protobuf-specs 0.5.x), trusting the log through modelsign's GET /v1/trusted-root and
// the release key through GET /v1/keys/{kid}. Used by test/interop/sigstore-js.test.ts.
//
// sigstore-js checks the signature over the DSSE envelope, the log entry's body and its
// inclusion proof against a checkpoint signed by a log key of the trusted root. What it cannot
// know is modelsign's key lifecycle: this key finder adds the part that matters most. A revoked
// release key is trusted only for signatures the log proves were logged before its
// compromisedAt; the log's time is in the checkpoint's timestamp cosignature (C2SP
// tlog-cosignature, signed by the same log key), which sigstore-js ignores, so it is read and
// verified here.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

/** The log's signed time (POSIX seconds) of the bundle's checkpoint, verified with the trusted root's log key. */
export function loggedAt(bundle, trustedRoot) {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const tlog = trustedRoot.tlogs.find((t) => t.logId.keyId === entry.logId.keyId);
  if (!tlog) throw new Error('the bundle names a log the trusted root does not list');
  const note = entry.inclusionProof.checkpoint.envelope;
  const text = note.slice(0, note.indexOf('\n\n') + 1);
  const origin = text.slice(0, text.indexOf('\n'));
  const der = Buffer.from(tlog.publicKey.rawBytes, 'base64');
  const keyId = createHash('sha256').update(Buffer.concat([Buffer.from(`${origin}\n`), Buffer.from([0x04]), der.subarray(-32)])).digest().subarray(0, 4);
  for (const line of note.slice(text.length + 1).split('\n')) {
    const [dash, name, b64] = line.split(' ');
    if (dash !== '\u2014' || name !== origin) continue;
    const raw = Buffer.from(b64, 'base64');
    if (!raw.subarray(0, 4).equals(keyId) || raw.length !== 4 + 8 + 64) continue;
    const time = raw.readBigUInt64BE(4);
    const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`), Buffer.from(text)]);
    if (!verify(null, message, createPublicKey({ key: der, format: 'der', type: 'spki' }), raw.subarray(12))) throw new Error('the log time does not verify');
    return Number(time);
  }
  throw new Error('the checkpoint carries no log time');
}

/** Throws unless sigstore-js accepts `bundle` and the key lifecycle allows it. */
export async function verifyWithSigstoreJs(bundle, server) {
  const trustedRoot = await (await fetch(`${server}/v1/trusted-root`)).json();
  const hint = bundle.verificationMaterial.publicKey.hint;
  const res = await fetch(`${server}/v1/keys/${hint}`);
  if (res.status !== 200) throw new Error(`the service has no key ${hint}`);
  const { pem, jwk } = await res.json();
  if (jwk.purpose !== 'release' || jwk.status === 'pending') throw new Error(`key ${hint} does not sign releases`);
  if (jwk.status === 'revoked') {
    // Valid only if the whole second the log signed ends at or before the compromise.
    const at = loggedAt(bundle, trustedRoot);
    if (!jwk.compromisedAt || (at + 1) * 1000 > Date.parse(jwk.compromisedAt)) throw new Error(`key ${hint} is revoked and this signature was logged at or after its compromise`);
  }
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot), (h) => {
    if (h !== hint) throw new Error(`unknown key ${h}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  });
  // Key-signed bundles: one log entry, no certificate (CT log) and no timestamp authority.
  new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundle)));
}
