// The safetensors check against files built here byte by byte: valid files of every dtype are
// data-only; each way a header can lie (the list, and the reference's checks) is
// malformed with its own code. Every file is also fed in small chunks, as hashing reads it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSafetensors, MAX_HEADER_BYTES, SAFETENSORS_DTYPES, SafetensorsCheck } from '../../../src/core/scan/safetensors.ts';
import { parseStrictJson, StrictJsonError } from '../../../src/core/scan/strict-json.ts';

/** A safetensors file: `header` as JSON text (so tests can write what JSON.stringify cannot), padded with spaces to 8. */
function file(header: string, dataBytes: number, options: { length?: bigint; pad?: boolean } = {}): Uint8Array {
  const padded = options.pad === false ? header : header + ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const json = Buffer.from(padded, 'utf8');
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, options.length ?? BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = i % 251;
  return out;
}

function chunked(bytes: Uint8Array, size: number) {
  const check = new SafetensorsCheck();
  for (let i = 0; i < bytes.length; i += size) check.push(bytes.subarray(i, i + size));
  return check.finish(bytes.length);
}

function verdictOf(bytes: Uint8Array) {
  const whole = checkSafetensors(bytes, bytes.length);
  for (const size of [1, 7, 4096]) assert.deepEqual(chunked(bytes, size), whole, `chunks of ${size} agree with the whole file`);
  return whole;
}

const BYTES_PER: Record<string, number> = Object.fromEntries(Object.entries(SAFETENSORS_DTYPES).map(([k, bits]) => [k, bits]));

describe('safetensors check', () => {
  it('passes a file of every dtype, scalars, empty tensors and string metadata as data-only', () => {
    let offset = 0;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'ünïcode' } };
    for (const [dtype, bits] of Object.entries(BYTES_PER)) {
      const elements = 24; // a multiple of 8, so 4- and 6-bit dtypes fill whole bytes
      const bytes = (elements * bits) / 8;
      header[`w.${dtype}`] = { dtype, shape: [2, 3, 4], data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    header['scalar'] = { dtype: 'F32', shape: [], data_offsets: [offset, offset + 4] };
    offset += 4;
    header['empty'] = { dtype: 'F16', shape: [0, 5], data_offsets: [offset, offset] };
    const report = verdictOf(file(JSON.stringify(header), offset));
    assert.deepEqual(report, { verdict: 'data-only', format: 'safetensors', findings: [] });
  });

  const cases: [string, Uint8Array, string][] = [
    ['overlapping offsets', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), 'safetensors_offsets_not_contiguous'],
    ['a gap between tensors', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12), 'safetensors_offsets_not_contiguous'],
    ['reversed offsets', file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', 4), 'safetensors_offsets_not_contiguous'],
    ['a size that does not match shape × dtype', file('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), 'safetensors_size_mismatch'],
    ['trailing bytes after the last tensor', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 9), 'safetensors_trailing_bytes'],
    ['data cut short', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 7), 'safetensors_trailing_bytes'],
    ['a header length past the end of the file', file('{}', 0, { length: 4096n }), 'safetensors_header_past_end'],
    ['a header length over the 100 MB limit', file('{}', 0, { length: BigInt(MAX_HEADER_BYTES) + 1n }), 'safetensors_header_too_large'],
    ['a header length of 2^64 − 1', file('{}', 0, { length: (1n << 64n) - 1n }), 'safetensors_header_too_large'],
    ['duplicate keys (JSON.parse would keep the second)', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), 'safetensors_duplicate_key'],
    ['a duplicate key inside a tensor', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[0,4]}}', 4), 'safetensors_duplicate_key'],
    ['an offset of 2^53 + 1 (rounded by JSON.parse)', file('{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,9007199254740993]}}', 0), 'safetensors_shape'],
    ['a float where an integer belongs', file('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', 4), 'safetensors_shape'],
    ['a negative offset', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', 4), 'safetensors_offsets'],
    ['non-string metadata', file('{"__metadata__":{"epochs":3},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), 'safetensors_metadata_not_strings'],
    ['an unknown dtype', file('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', 16), 'safetensors_dtype'],
    ['an unknown field in a tensor', file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}', 1), 'safetensors_tensor_info'],
    ['a 4-bit tensor that ends mid-byte', file('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2), 'safetensors_misaligned'],
    ['a header that is not JSON', file('{"a":', 0), 'safetensors_header_not_json'],
    ['a header that is a list', file('[]', 0), 'safetensors_header_not_object'],
    ['a header with text after the JSON', file('{} x', 0), 'safetensors_header_not_json'],
    ['a header that is not UTF-8', (() => { const f = file('{"\u00e9":1}', 0); f[10] = 0xff; return f; })(), 'safetensors_header_not_utf8'],
    ['a file shorter than 8 bytes', new Uint8Array(5), 'safetensors_too_small'],
  ];
  for (const [what, bytes, code] of cases) {
    it(`refuses ${what}: malformed, ${code}`, () => {
      const report = verdictOf(bytes);
      assert.equal(report.verdict, 'malformed');
      assert.equal(report.findings[0]!.code, code, report.findings[0]!.message);
    });
  }

  it('reads JSON strictly: exact integers, duplicate keys refused at any depth, escapes decoded', () => {
    assert.equal(parseStrictJson('9007199254740993'), 9007199254740993n);
    assert.deepEqual(parseStrictJson(' {"a\\u00e9\\n":[1,2.5,true,null,"x"]} '), Object.assign(Object.create(null), { 'aé\n': [1n, 2.5, true, null, 'x'] }));
    assert.throws(() => parseStrictJson('{"x":{"y":1,"y":2}}'), (e: unknown) => e instanceof StrictJsonError && e.code === 'duplicate_key');
    assert.throws(() => parseStrictJson('['.repeat(100) + ']'.repeat(100)), (e: unknown) => e instanceof StrictJsonError && e.code === 'too_deep');
    for (const text of ['{', '{"a":1,}', '01', '"\u0001"', 'tru', '{"a" 1}', '"\\x"']) assert.throws(() => parseStrictJson(text), StrictJsonError, text);
  });
});
