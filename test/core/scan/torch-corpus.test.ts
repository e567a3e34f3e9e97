// modelsign's verdicts against PyTorch's own on files the real tools made (test/fixtures/torch,
// written by scripts/torch/corpus.py with torch.save, Lightning, transformers, NumPy and
// scikit-learn; oracle.json holds what torch.load(weights_only=True) did with each, and the
// verdict modelsign must give). `.ci/run` reloads every file with torch and regenerates the
// corpus, so the oracle cannot drift from torch; this test needs no torch.
// Runs once: no database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkContent } from '../../../src/core/scan/classify.ts';
import { ALLOWLIST_TORCH_VERSION } from '../../../src/core/scan/pickle/allowlist.ts';
import allowlist from '../../../src/core/scan/pickle/allowlist.json' with { type: 'json' };

const DIR = fileURLToPath(new URL('../../fixtures/torch/', import.meta.url));

interface OracleEntry {
  file: string;
  expect: string;
  note: string;
  torch: 'loaded' | 'refused';
  reason?: 'unsafe-global' | 'other';
  unsafe?: string[];
  names?: string;
}
const oracle = JSON.parse(readFileSync(DIR + 'oracle.json', 'utf8')) as { torchVersion: string; files: OracleEntry[] };
const PASSED = new Set(['data-only', 'allowlisted-pickle']);
// torch strips "builtins." from the names it reports (GLOBAL builtins.eval is "eval").
const full = (name: string) => (name.includes('.') ? name : `builtins.${name}`);

describe('the content check against torch.load(weights_only=True) on real files', () => {
  const verdicts = new Map(oracle.files.map((e) => [e.file, checkContent(e.file, new Uint8Array(readFileSync(DIR + e.file)))]));

  it('covers at least 60 files made by the real tools, with the torch the allowlist was made from', () => {
    assert.ok(oracle.files.length >= 60, `${oracle.files.length} files`);
    assert.equal(oracle.torchVersion, ALLOWLIST_TORCH_VERSION);
  });

  it('gives every file the verdict the oracle records, naming the global at fault', () => {
    for (const e of oracle.files) {
      const report = verdicts.get(e.file)!;
      assert.equal(report.verdict, e.expect, `${e.file} (${e.note}): ${JSON.stringify(report.findings)}`);
      if (e.names) assert.ok(report.findings.some((f) => f.message.includes(e.names!)), `${e.file} names ${e.names}: ${JSON.stringify(report.findings)}`);
    }
  });

  it('passes no file torch refuses for an unsafe global, but for the documented checkpoint extension', () => {
    const exceptions: string[] = [];
    for (const e of oracle.files.filter((f) => f.reason === 'unsafe-global')) {
      const verdict = verdicts.get(e.file)!.verdict;
      if (!PASSED.has(verdict)) continue;
      // Passed although torch refused it: only when every global torch named is in the extension.
      assert.ok(e.unsafe!.every((g) => allowlist.extension.globals.includes(full(g))), `${e.file}: torch refused ${e.unsafe!.join(', ')}, modelsign passed it as ${verdict}`);
      exceptions.push(e.file);
    }
    assert.deepEqual(exceptions, ['numpy-inside.pt'], 'the documented exceptions (README, "What a model file is")');
  });

  it('refuses no file torch loads', () => {
    const loaded = oracle.files.filter((f) => f.torch === 'loaded');
    assert.ok(loaded.length >= 40, `${loaded.length} files torch loads`);
    for (const e of loaded) assert.ok(PASSED.has(verdicts.get(e.file)!.verdict), `${e.file} loads in torch but is ${JSON.stringify(verdicts.get(e.file))}`);
  });
});
