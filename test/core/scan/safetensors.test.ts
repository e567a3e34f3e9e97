// The safetensors check against files built here byte by byte: valid files of every dtype are
// data-only; each way a header can lie (the list, and the reference's checks) is
// malformed with its own code. Every file is also fed in small chunks, as hashing reads it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSafetensors, SAFETENSORS_DTYPES, SafetensorsCheck } from '../../../src/core/scan/safetensors.ts';
import { parseStrictJson, StrictJsonError } from '../../../src/core/scan/strict-json.ts';
import { SAFETENSORS_REFUSALS, safetensorsFile as file } from '../../support/safetensors-cases.ts';

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

  const cases = SAFETENSORS_REFUSALS;
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
