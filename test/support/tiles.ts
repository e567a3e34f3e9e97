// Reading C2SP tlog-tiles responses in tests.

/** The entries of an entry bundle (gunzipped): each a big-endian uint16 length, then the leaf data. */
export function splitBundle(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = body.readUInt16BE(at);
    out.push(body.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}
