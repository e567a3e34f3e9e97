// The torch-layout generator (test/support/torch-zip.ts) against files torch.save wrote: given
// the same members in the same order, it writes the same bytes, so the large layouts the other
// tests and bench:hash build from it are the layout real checkpoints have.
// Runs once: no database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TORCH_FIXTURES as FIXTURES, zipMembers as members } from '../../support/crafted-content.ts';
import { torchZip } from '../../support/torch-zip.ts';

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
