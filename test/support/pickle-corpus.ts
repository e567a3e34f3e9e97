// The pickle corpus Python writes here (Debian's python3; nothing is unpickled): benign state
// dicts and plain data, every code-execution trick, and hand-made opcode streams. Shared by the
// pickle check's test and the TypeScript/Python parity test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

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

export const raw = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Pickles written by Python's pickle module (benign and every code-execution trick), and hand-made opcode streams, by what they are. */
export function pickleCorpus(): Record<string, Uint8Array> {
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

/** Streams that do not read cleanly: each is malformed. */
export const MALFORMED_PICKLES: readonly (readonly [string, Uint8Array])[] = [
  ['no STOP', raw('\x80\x02K\x01')],
  ['not an opcode', raw('\xff.')],
  ['a memo read before it was written', raw('\x80\x02h\x05.')],
  ['a length past the end', raw('\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.')],
  ['a stack underflow', raw('\x80\x02a.')],
  ['two values left at STOP', raw('K\x01K\x02.')],
  ['an empty file', new Uint8Array(0)],
  ['a GLOBAL name that is not UTF-8', raw('c\xff\xfe\nsystem\n.')],
  ['protocol 6', raw('\x80\x06N.')],
  ['an out-of-band buffer (NEXT_BUFFER)', raw('\x80\x05\x97.')],
  ['a memo index that is not a number (PUT)', raw('Np abc\n.')],
  ['a memo index that is not a number (GET)', raw('Np0\ng0x0\n0.')],
  ['LONG4 with a negative length', raw('\x80\x02\x8b\xff\xff\xff\xff.')],
  ['a STRING without quotes', raw('Sabc\n.')],
  ['a cut FRAME', raw('\x80\x04\x95\x10\x00')],
  ['OBJ without a class', raw('(o.')],
];
