// The safetensors check, as strict as the Rust reference (safetensors/src/tensor.rs:
// read_metadata, Metadata::validate) and a little stricter where it costs nothing, because those
// checks are what protect loaders that skip them (out-of-bounds reads in MLX, LiteRT, fastllm...).
//
// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the tensor data,
// whose offsets are relative to 8 + N. Only the first 8 + N bytes and the file's length are
// needed, so the check runs over the same chunks hashing reads and keeps nothing else.
import { parseStrictJson, StrictJsonError, type StrictJson } from './strict-json.ts';
import { malformed, type ContentReport } from './verdict.ts';

/** Bits per element, by dtype name; versioned with the reference (new dtypes are refused until listed). */
export const SAFETENSORS_DTYPES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
});

/** The reference's MAX_HEADER_SIZE. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Header-bloat guard (a 100k-entry header is a known denial-of-service proof of concept). */
export const MAX_TENSORS = 100_000;
/** The schema caps offsets and dimensions at 2^48 − 1. */
const MAX_INTEGER = (1n << 48n) - 1n;

const FORMAT = 'safetensors';
const bad = (code: string, message: string) => malformed(FORMAT, `safetensors_${code}`, message);

interface Tensor {
  name: string;
  dtype: string;
  shape: bigint[];
  start: bigint;
  end: bigint;
}

/** A header value in words; JSON.stringify throws on the bigints strict JSON gives integers as (a dtype of 5 crashed the check). */
function describeJson(value: StrictJson | undefined): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'nothing';
}

function integer(value: StrictJson | undefined): bigint | undefined {
  return typeof value === 'bigint' && value >= 0n && value <= MAX_INTEGER ? value : undefined;
}

/** Accumulates the header from a file's chunks; `finish` gives the verdict. */
export class SafetensorsCheck {
  private head: Uint8Array = new Uint8Array(8);
  private filled = 0;
  private wanted = 8;

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length && this.filled < this.wanted) {
      const take = Math.min(chunk.length - offset, this.wanted - this.filled);
      this.head.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === 8 && this.wanted === 8) {
        const n = readLength(this.head);
        // Beyond the cap nothing more is kept: finish() refuses it.
        if (n <= BigInt(MAX_HEADER_BYTES)) {
          this.wanted = 8 + Number(n);
          const grown = new Uint8Array(this.wanted);
          grown.set(this.head);
          this.head = grown;
        }
      }
    }
  }

  finish(fileSize: number): ContentReport {
    return checkSafetensors(this.head.subarray(0, this.filled), fileSize);
  }
}

function readLength(first8: Uint8Array): bigint {
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(first8[i]!);
  return n;
}

/** The verdict on a safetensors file given its first bytes (at least 8 + N, when the file has them) and its size. */
export function checkSafetensors(head: Uint8Array, fileSize: number): ContentReport {
  if (fileSize < 8 || head.length < 8) return bad('too_small', 'the file is shorter than the 8-byte header length');
  const n = readLength(head);
  if (n > BigInt(MAX_HEADER_BYTES)) return bad('header_too_large', `the header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const dataStart = 8n + n;
  if (dataStart > BigInt(fileSize)) return bad('header_past_end', `the header length ${n} runs past the end of the ${fileSize}-byte file`);
  if (head.length < Number(dataStart)) return bad('too_small', 'the header was not read in full');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, Number(dataStart)));
  } catch {
    return bad('header_not_utf8', 'the header is not valid UTF-8');
  }
  // Writers pad with spaces to a multiple of 8; nothing else may follow the JSON, nor precede it.
  const trimmed = text.replace(/ +$/, '');
  if (!trimmed.startsWith('{')) return bad('header_not_object', 'the header does not start with "{"');
  let header: StrictJson;
  try {
    header = parseStrictJson(trimmed);
  } catch (err) {
    if (err instanceof StrictJsonError) return bad(err.code === 'duplicate_key' ? 'duplicate_key' : 'header_not_json', `the header is not strict JSON: ${err.message}`);
    throw err;
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return bad('header_not_object', 'the header is not a JSON object');

  const tensors: Tensor[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        return bad('metadata_not_strings', '__metadata__ must map names to strings');
      }
      continue;
    }
    if (name === '' || name.includes('\u0000')) return bad('tensor_name', `a tensor name is empty or holds NUL`);
    if (tensors.length >= MAX_TENSORS) return bad('too_many_tensors', `more than ${MAX_TENSORS} tensors`);
    if (info === null || typeof info !== 'object' || Array.isArray(info)) return bad('tensor_info', `tensor ${JSON.stringify(name)} is not {dtype, shape, data_offsets}`);
    const extra = Object.keys(info).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) return bad('tensor_info', `tensor ${JSON.stringify(name)} has unknown fields ${extra.join(', ')}`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, dtype)) return bad('dtype', `tensor ${JSON.stringify(name)} has dtype ${describeJson(dtype)}, not one this checker knows`);
    if (!Array.isArray(shape) || shape.length > 64 || shape.some((d) => integer(d) === undefined)) return bad('shape', `tensor ${JSON.stringify(name)} has a shape that is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => integer(o) === undefined)) return bad('offsets', `tensor ${JSON.stringify(name)} has data_offsets that are not two non-negative integers`);
    tensors.push({ name, dtype, shape: shape as bigint[], start: offsets[0] as bigint, end: offsets[1] as bigint });
  }

  // Sorted by offsets, the tensors must tile the data exactly: no overlap, no gap.
  tensors.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  let position = 0n;
  for (const t of tensors) {
    if (t.start !== position || t.end < t.start) {
      return bad('offsets_not_contiguous', `tensor ${JSON.stringify(t.name)} spans [${t.start}, ${t.end}) where the data continues at ${position} (overlapping, gapped or reversed offsets)`);
    }
    const elements = t.shape.reduce((p, d) => p * d, 1n);
    const bits = elements * BigInt(SAFETENSORS_DTYPES[t.dtype]!);
    if (bits % 8n !== 0n) return bad('misaligned', `tensor ${JSON.stringify(t.name)} does not fill whole bytes`);
    if (t.end - t.start !== bits / 8n) return bad('size_mismatch', `tensor ${JSON.stringify(t.name)} holds ${t.end - t.start} bytes where ${t.dtype} × ${t.shape.join('×') || 'scalar'} needs ${bits / 8n}`);
    position = t.end;
  }
  if (dataStart + position !== BigInt(fileSize)) {
    return bad('trailing_bytes', `the tensors end at byte ${dataStart + position} but the file has ${fileSize} (bytes no tensor accounts for)`);
  }
  return { verdict: 'data-only', format: FORMAT, findings: [] };
}
