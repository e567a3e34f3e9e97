// The pickle check against a corpus Python writes here (Debian's python3; nothing is unpickled):
// benign state dicts and plain data are data-only or allowlisted, every code-execution trick the
// issue lists is code-capable and named, and broken streams are malformed.
// Runs once: no database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { judgePickle, scanPickle } from '../../../src/core/scan/pickle/vm.ts';

// Each entry: name → base64 of the pickle. Stub torch modules make torch-shaped pickles without torch.
const PYTHON = String.raw`
import base64, collections, json, os, pickle, pkgutil, runpy, subprocess, sys, types
out = {}
def put(name, data): out[name] = base64.b64encode(data).decode()

torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils')
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils; torch._utils = utils
class FloatStorage: pass
FloatStorage.__module__ = 'torch'; torch.FloatStorage = FloatStorage
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = 'torch._utils'; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class Tensor:
    def __init__(self, key): self.key = key
    def __reduce__(self): return (_rebuild_tensor_v2, (('storage', self.key), 0, (2, 2), (2, 1), False, collections.OrderedDict()))
class Storage:
    def __init__(self, key): self.key = key
class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == 'storage':
            return ('storage', FloatStorage, obj[1], 'cpu', 4)
        return None
import io
def torch_pickle(obj):
    buf = io.BytesIO(); TorchPickler(buf, protocol=2).dump(obj); return buf.getvalue()
put('state dict (torch-shaped, protocol 2)', torch_pickle(collections.OrderedDict([('layer.weight', Tensor('0')), ('layer.bias', Tensor('1'))])))
put('lightning-style checkpoint', torch_pickle({'epoch': 3, 'global_step': 1000, 'state_dict': collections.OrderedDict([('w', Tensor('0'))]), 'hparams': {'lr': 0.1}}))
for p in range(0, 6):
    put(f'plain data, protocol {p}', pickle.dumps({'a': [1, 2.5, 'x', b'y', None, True], 'n': 2**80, 't': (1, 2)}, protocol=p))
put('OrderedDict, protocol 4', pickle.dumps(collections.OrderedDict(a=1), protocol=4))

class R:
    def __init__(self, f, *a): self.f, self.a = f, a
    def __reduce__(self): return (self.f, self.a)
put('os.system via REDUCE, protocol 0', pickle.dumps(R(os.system, 'echo pwned'), protocol=0))
put('os.system via REDUCE, protocol 2', pickle.dumps(R(os.system, 'echo pwned'), protocol=2))
put('builtins.eval', pickle.dumps(R(eval, '1+1'), protocol=3))
put('builtins.exec', pickle.dumps(R(exec, 'pass'), protocol=4))
put('subprocess.check_output', pickle.dumps(R(subprocess.check_output, ['id']), protocol=2))
put('runpy._run_code', pickle.dumps(R(runpy._run_code, 'pass', {}), protocol=2))
put('pkgutil.resolve_name', pickle.dumps(R(pkgutil.resolve_name, 'os:system'), protocol=4))
put('STACK_GLOBAL with memoised names', pickle.dumps([R(eval, '1'), R(eval, '2')], protocol=4))
json.dump(out, sys.stdout)
`;

const raw = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function corpus(): Record<string, Uint8Array> {
  const res = spawnSync('python3', ['-c', PYTHON], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const made = JSON.parse(res.stdout) as Record<string, string>;
  return {
    ...Object.fromEntries(Object.entries(made).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    'INST opcode': raw("(S'echo pwned'\nios\nsystem\n."),
    'OBJ opcode': raw("(cos\nsystem\nS'echo pwned'\no."),
    'a Python 2 name that maps to subprocess (commands.getoutput)': raw("ccommands\ngetoutput\n(S'id'\ntR."),
    'a payload before a deliberately broken tail': raw("cos\nsystem\n(S'echo pwned'\ntR\xff\xff\xff"),
    'the numpy __builtins__ trick': raw('\x80\x04\x8c\x05numpy\x94\x8c\x0c__builtins__\x94\x93\x94.'),
    'an attribute walk from builtins (print.__class__)': raw('\x80\x04\x8c\x08builtins\x8c\x18print.__class__.__base__\x93.'),
    'an EXT1 opcode': raw('\x80\x02\x82\x01.'),
    'a name assembled through BUILD and the memo': raw('\x80\x04\x8c\x05numpy\x8c\x04prod\x93\x94}\x8c\x01a\x8c\x02os\x73b\x68\x00\x68\x00\x93.'),
  };
}

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
    for (const [what, bytes] of [
      ['no STOP', raw('\x80\x02K\x01')],
      ['not an opcode', raw('\xff.')],
      ['a memo read before it was written', raw('\x80\x02h\x05.')],
      ['a length past the end', raw('\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.')],
      ['a stack underflow', raw('\x80\x02a.')],
      ['two values left at STOP', raw('K\x01K\x02.')],
      ['an empty file', new Uint8Array(0)],
    ] as const) {
      const report = judgePickle(scanPickle(bytes));
      assert.equal(report.verdict, 'malformed', `${what}: ${JSON.stringify(report)}`);
    }
  });
});
