// The torch-layout generator (test/support/torch-zip.ts) against files torch.save wrote: given
// the same members in the same order, it writes the same bytes, so the large layouts the other
// tests and bench:hash build from it are the layout real checkpoints have.
// Runs once: no database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { torchZip } from '../../support/torch-zip.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/torch/', import.meta.url));

/** The members of a zip in file order, read by Python's zipfile (not by the code under test). */
function members(file: string): { name: string; data: Uint8Array }[] {
  const res = spawnSync('python3', ['-c', `
import base64, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps([[i.filename, base64.b64encode(z.read(i)).decode()] for i in sorted(z.infolist(), key=lambda i: i.header_offset)]))
`, file], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return (JSON.parse(res.stdout) as [string, string][]).map(([name, b64]) => ({ name, data: new Uint8Array(Buffer.from(b64, 'base64')) }));
}

describe('the torch zip layout', () => {
  for (const name of ['state-dict.pt', 'dtype-float8_e4m3fn.pt', 'pytorch_model.bin', 'optimizer.pt', 'payload.pt']) {
    it(`writes ${name} byte for byte as torch.save did`, () => {
      const real = new Uint8Array(readFileSync(FIXTURES + name));
      const made = torchZip(members(FIXTURES + name));
      assert.equal(made.length, real.length);
      assert.ok(Buffer.from(made).equals(Buffer.from(real)), `${name}: the first differing byte is at ${made.findIndex((b, k) => b !== real[k])}`);
    });
  }
});
