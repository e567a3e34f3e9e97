// The pickle check against a corpus Python writes here (Debian's python3; nothing is unpickled):
// benign state dicts and plain data are data-only or allowlisted, every code-execution trick the
// issue lists is code-capable and named, and broken streams are malformed.
// Runs once: no database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgePickle, scanPickle } from '../../../src/core/scan/pickle/vm.ts';
import { MALFORMED_PICKLES, pickleCorpus as corpus } from '../../support/pickle-corpus.ts';

const EXPECTED: [RegExp, string, RegExp?][] = [
  [/^state dict|^lightning/, 'allowlisted-pickle'],
  // Protocols 0 to 2 write bytes through _codecs.encode (allowlisted); 3 and later have opcodes for them.
  [/^plain data, protocol [012]$/, 'allowlisted-pickle'],
  [/^plain data, protocol [345]$/, 'data-only'],
  [/^OrderedDict/, 'allowlisted-pickle'],
  [/^os\.system/, 'code-capable', /posix\.system/],
  [/^builtins\.eval$|^STACK_GLOBAL/, 'code-capable', /builtins\.eval/],
  [/^builtins\.exec/, 'code-capable', /builtins\.exec/],
  [/^subprocess/, 'code-capable', /subprocess\.check_output/],
  [/^runpy/, 'code-capable', /runpy\._run_code/],
  [/^pkgutil/, 'code-capable', /pkgutil\.resolve_name/],
  [/^INST|^OBJ|broken tail/, 'code-capable', /os\.system/],
  [/commands/, 'code-capable', /subprocess\.getoutput/],
  [/__builtins__ trick/, 'code-capable', /numpy\.__builtins__/],
  [/attribute walk/, 'code-capable', /builtins\.print\.__class__/],
  [/EXT1/, 'code-capable', /EXT opcode/],
  [/BUILD and the memo/, 'code-capable', /BUILD on numpy\.prod/],
];

describe('pickle check', () => {
  const files = corpus();

  it('gives every corpus file its expected verdict, naming the global that can run code', () => {
    assert.ok(Object.keys(files).length >= 25);
    for (const [name, bytes] of Object.entries(files)) {
      const expected = EXPECTED.find(([re]) => re.test(name));
      assert.ok(expected, `an expectation for ${name}`);
      const report = judgePickle(scanPickle(bytes));
      assert.equal(report.verdict, expected[1], `${name}: ${JSON.stringify(report.findings)}`);
      if (expected[2]) assert.ok(report.findings.some((f) => expected[2]!.test(f.message)), `${name} names it: ${JSON.stringify(report.findings)}`);
    }
  });

  it('lists the torch globals of a state dict, resolved, and reads to the end of the stream', () => {
    const bytes = files['state dict (torch-shaped, protocol 2)']!;
    const scan = scanPickle(bytes);
    assert.deepEqual(scan.globals, ['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch.FloatStorage']);
    assert.equal(scan.end, bytes.length);
    assert.equal(scan.protocol, 2);
    // The gadget sets attributes on a global with BUILD, then feeds memo entries to STACK_GLOBAL:
    // both steps are named, whatever numpy.prod itself would be judged.
    const gadget = scanPickle(files['a name assembled through BUILD and the memo']!);
    assert.ok(gadget.unsafe.some((u) => u.startsWith('BUILD on numpy.prod')));
    assert.ok(gadget.unsafe.some((u) => u.startsWith('STACK_GLOBAL with a name that is not a string literal')));
  });

  it('calls a stream malformed when it does not read cleanly', () => {
    for (const [what, bytes] of MALFORMED_PICKLES) {
      const report = judgePickle(scanPickle(bytes));
      assert.equal(report.verdict, 'malformed', `${what}: ${JSON.stringify(report)}`);
    }
  });
});
