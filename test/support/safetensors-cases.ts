// Safetensors files built byte by byte, and the ways a header can lie, each with the finding
// code the check must give. Shared by the safetensors check's test and the parity test.
import { MAX_HEADER_BYTES } from '../../src/core/scan/safetensors.ts';

/** A safetensors file: `header` as JSON text (so tests can write what JSON.stringify cannot), padded with spaces to 8. */
export function safetensorsFile(header: string, dataBytes: number, options: { length?: bigint; pad?: boolean } = {}): Uint8Array {
  const padded = options.pad === false ? header : header + ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const json = Buffer.from(padded, 'utf8');
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, options.length ?? BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = i % 251;
  return out;
}

/** Each way a header can lie (the reference's checks and more): what, the file, the finding code. */
export const SAFETENSORS_REFUSALS: [string, Uint8Array, string][] = [
  ['overlapping offsets', safetensorsFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), 'safetensors_offsets_not_contiguous'],
  ['a gap between tensors', safetensorsFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12), 'safetensors_offsets_not_contiguous'],
  ['reversed offsets', safetensorsFile('{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', 4), 'safetensors_offsets_not_contiguous'],
  ['a size that does not match shape × dtype', safetensorsFile('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), 'safetensors_size_mismatch'],
  ['trailing bytes after the last tensor', safetensorsFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 9), 'safetensors_trailing_bytes'],
  ['data cut short', safetensorsFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 7), 'safetensors_trailing_bytes'],
  ['a header length past the end of the file', safetensorsFile('{}', 0, { length: 4096n }), 'safetensors_header_past_end'],
  ['a header length over the 100 MB limit', safetensorsFile('{}', 0, { length: BigInt(MAX_HEADER_BYTES) + 1n }), 'safetensors_header_too_large'],
  ['a header length of 2^64 − 1', safetensorsFile('{}', 0, { length: (1n << 64n) - 1n }), 'safetensors_header_too_large'],
  ['duplicate keys (JSON.parse would keep the second)', safetensorsFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), 'safetensors_duplicate_key'],
  ['a duplicate key inside a tensor', safetensorsFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[0,4]}}', 4), 'safetensors_duplicate_key'],
  ['an offset of 2^53 + 1 (rounded by JSON.parse)', safetensorsFile('{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,9007199254740993]}}', 0), 'safetensors_shape'],
  ['a float where an integer belongs', safetensorsFile('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', 4), 'safetensors_shape'],
  ['a negative offset', safetensorsFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', 4), 'safetensors_offsets'],
  ['non-string metadata', safetensorsFile('{"__metadata__":{"epochs":3},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), 'safetensors_metadata_not_strings'],
  ['an unknown dtype', safetensorsFile('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', 16), 'safetensors_dtype'],
  ['a dtype that is a number (once crashed the check: JSON.stringify of a bigint)', safetensorsFile('{"a":{"dtype":5,"shape":[1],"data_offsets":[0,1]}}', 1), 'safetensors_dtype'],
  ['an unknown field in a tensor', safetensorsFile('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}', 1), 'safetensors_tensor_info'],
  ['a 4-bit tensor that ends mid-byte', safetensorsFile('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2), 'safetensors_misaligned'],
  ['a header that is not JSON', safetensorsFile('{"a":', 0), 'safetensors_header_not_json'],
  ['a header that is a list', safetensorsFile('[]', 0), 'safetensors_header_not_object'],
  ['a header with text after the JSON', safetensorsFile('{} x', 0), 'safetensors_header_not_json'],
  ['a header that is not UTF-8', (() => { const f = safetensorsFile('{"\u00e9":1}', 0); f[10] = 0xff; return f; })(), 'safetensors_header_not_utf8'],
  ['a file shorter than 8 bytes', new Uint8Array(5), 'safetensors_too_small'],
];
