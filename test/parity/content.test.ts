// The content check in both languages on one corpus: the TypeScript checker (src/core/scan, what
// `modelsign scan`, `sign` and the browser run) and the Python one
// (python/src/modelsign_verify/scan, what the Python guard runs, no Node.js) must give every file
// the same verdict, format and findings (codes and words), and the same SHA-256 from the same read.
// The corpus: every real-PyTorch fixture (test/fixtures/torch, written by torch.save, Lightning,
// transformers, NumPy, scikit-learn), the crafted corpus (test/fixtures/scan/make_corpus.py), the
// pickle corpus and the safetensors refusals of the unit tests, the archives crafted against a
// checker that kept views of its buffer, a 1.5 MiB state dict, and every zip fixture cut short
// and with bytes appended. Python runs `modelsign-verify scan --json` over the folder: from the
// source tree, or the installed wheel's interpreter when MODELSIGN_PY_VERIFY names its script (.ci/run).
// The allowlist both read is one file: the wheel's copy must equal it byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkContent } from '../../src/core/scan/classify.ts';
import type { ContentReport } from '../../src/core/scan/verdict.ts';
import { craftedRawPickle, craftedTorchArchive, largeStateDict, readFixture, TORCH_FIXTURES } from '../support/crafted-content.ts';
import { pythonPackage } from '../support/python.ts';
import { MALFORMED_PICKLES, pickleCorpus } from '../support/pickle-corpus.ts';
import { SAFETENSORS_REFUSALS } from '../support/safetensors-cases.ts';
import { torchZip } from '../support/torch-zip.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAKE_CORPUS = path.join(ROOT, 'test/fixtures/scan/make_corpus.py');
const MiB = 1024 * 1024;

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

interface PyFile {
  path: string;
  sha256: string;
  size: number;
  verdict: string;
  format: string | null;
  findings: { code: string; message: string }[];
}

/** A .npy file: magic, version, header length (2 bytes in version 1, 4 after), header, body. */
function npy(header: string, major: number, body: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(header + '\n');
  const lengthBytes = major === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + text.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lengthBytes);
  out.set(body, 8 + lengthBytes + text.length);
  return out;
}

/** The corpus as name → bytes (names matter: a raw pickle is judged by its extension). */
function corpus(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of readdirSync(TORCH_FIXTURES)) if (f !== 'oracle.json') files.set(`torch/${f}`, readFixture(f));
  const made = path.join(dir, 'made');
  const run = spawnSync('python3', [MAKE_CORPUS, made, '--no-polyglot'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  for (const f of readdirSync(made)) if (f !== 'expected.json') files.set(`made/${f}`, new Uint8Array(readFileSync(path.join(made, f))));
  rmSync(made, { recursive: true });
  // Every pickle under a name a loader unpickles and under one it does not (the rules differ).
  const pickles = pickleCorpus();
  for (const [what, bytes] of Object.entries(pickles)) {
    files.set(`pickles/${slug(what)}.pkl`, bytes);
    files.set(`pickles/${slug(what)}.md`, bytes);
  }
  // Streams that do not read: raw (judged by name) and as a PyTorch archive's data.pkl (pickle_malformed).
  for (const [what, bytes] of MALFORMED_PICKLES) {
    files.set(`pickles/broken-${slug(what)}.pkl`, bytes);
    files.set(`pickles/broken-${slug(what)}.txt`, bytes);
    files.set(`damaged/broken-${slug(what)}.pt`, torchZip([{ name: 'archive/data.pkl', data: bytes }, { name: 'archive/version', data: new TextEncoder().encode('3\n') }]));
  }
  for (const [what, bytes] of SAFETENSORS_REFUSALS) files.set(`safetensors/${slug(what)}.safetensors`, bytes);
  // .npy headers: an unknown version, no descr, cut short; an object field inside a structured dtype (a pickle follows).
  files.set('npy/unknown-version.npy', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 9, new Uint8Array(4)));
  files.set('npy/no-descr.npy', npy("{'fortran_order': False, 'shape': (1,), }", 1, new Uint8Array(4)));
  files.set('npy/cut-header.npy', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 1, new Uint8Array(0)).subarray(0, 40));
  files.set('npy/object-field.npy', npy("{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }", 2, pickles['os.system via REDUCE, protocol 2']!));
  files.set('npy/numbers-v3.npy', npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 3, new Uint8Array(16)));
  // PyTorch's pre-1.6 tar layout: the ustar magic at 257 (refused whatever it holds).
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode('sys_info'), 0);
  tar.set(new TextEncoder().encode('ustar\u000000'), 257);
  files.set('crafted/legacy-tar.pth', tar);
  files.set('crafted/crafted.pt', craftedTorchArchive());
  files.set('crafted/crafted.pkl', craftedRawPickle());
  files.set('crafted/model-1.5m.pt', largeStateDict(1.5 * MiB, 1));
  // Damaged archives: every zip fixture cut at two thirds (the directory gone or half read) and with bytes appended.
  for (const [name, bytes] of [...files]) {
    if (!name.startsWith('torch/') || bytes[0] !== 0x50 || bytes[1] !== 0x4b) continue;
    files.set(`damaged/cut-${path.basename(name)}`, bytes.subarray(0, Math.floor((bytes.length * 2) / 3)));
    const appended = new Uint8Array(bytes.length + 7);
    appended.set(bytes);
    appended.set([1, 2, 3, 4, 5, 6, 7], bytes.length);
    files.set(`damaged/appended-${path.basename(name)}`, appended);
  }
  return files;
}

function pythonScan(dir: string): { checker: string; allowlist: string; files: PyFile[] } {
  const pkg = pythonPackage();
  assert.ok(pkg, 'a python3 with pyca/cryptography (or the installed wheel, MODELSIGN_PY_VERIFY)');
  const run = spawnSync(pkg.python, pkg.module('scan', '--json', dir), { encoding: 'utf8', maxBuffer: 64 * MiB, env: { ...process.env, ...pkg.env } });
  // 8: some files are code-capable or malformed, as they should be.
  assert.equal(run.status, 8, `modelsign-verify scan exits 8 on this corpus\n${run.stderr}`);
  return JSON.parse(run.stdout) as { checker: string; allowlist: string; files: PyFile[] };
}

describe('the content check gives the same answers in TypeScript and Python', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-content-parity-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const files = corpus(dir);
  const model = path.join(dir, 'model');
  for (const [name, bytes] of files) {
    mkdirSync(path.dirname(path.join(model, name)), { recursive: true });
    writeFileSync(path.join(model, name), bytes);
  }
  const typescript = new Map<string, ContentReport>([...files].map(([name, bytes]) => [name, checkContent(name, bytes)]));

  it('agrees on every file of the corpus: verdict, format, findings and SHA-256', () => {
    const py = pythonScan(model);
    assert.equal(py.checker, 'modelsign-verify-scan');
    assert.equal(py.files.length, files.size, 'Python scanned every file');
    const disagreements: string[] = [];
    for (const f of py.files) {
      const ts = typescript.get(f.path);
      assert.ok(ts, `TypeScript checked ${f.path}`);
      assert.equal(f.sha256, createHash('sha256').update(files.get(f.path)!).digest('hex'), `${f.path}: the digest of the bytes checked`);
      const want = { verdict: ts.verdict, format: ts.format ?? null, findings: ts.findings };
      const got = { verdict: f.verdict, format: f.format, findings: f.findings };
      try {
        assert.deepEqual(got, want);
      } catch {
        disagreements.push(`${f.path}: TypeScript ${JSON.stringify(want)}\n  Python ${JSON.stringify(got)}`);
      }
    }
    assert.deepEqual(disagreements, [], `${disagreements.length} of ${files.size} files judged differently`);
  });

  it('covers every verdict and the finding codes the corpus can reach', () => {
    const verdicts = new Set([...typescript.values()].map((r) => r.verdict));
    assert.deepEqual([...verdicts].sort(), ['allowlisted-pickle', 'code-capable', 'data-only', 'malformed', 'unknown']);
    const codes = new Set([...typescript.values()].flatMap((r) => r.findings.map((f) => f.code)));
    for (const code of ['pickle_unsafe_global', 'pickle_malformed', 'pickle_trailing_bytes', 'zip_malformed', 'zip_compressed_pickle', 'zip_layout', 'unrecognised_content', 'legacy_tar_refused', 'npy_header', 'safetensors_duplicate_key', 'safetensors_offsets_not_contiguous', 'safetensors_dtype']) {
      assert.ok(codes.has(code), `the corpus reaches ${code}`);
    }
    assert.ok(files.size >= 300, `${files.size} files`);
  });

  it('reads one allowlist: the wheel ships a byte-for-byte copy of src/core/scan/pickle/allowlist.json', () => {
    const source = readFileSync(path.join(ROOT, 'src/core/scan/pickle/allowlist.json'));
    const copy = readFileSync(path.join(ROOT, 'python/src/modelsign_verify/scan/allowlist.json'));
    assert.ok(source.equals(copy), 'copy it: cp src/core/scan/pickle/allowlist.json python/src/modelsign_verify/scan/allowlist.json');
  });
});
