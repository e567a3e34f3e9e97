// What a file is, by content: PyTorch zips (benign, malicious, two data.pkl, a lying local
// header, a compressed pickle), legacy PyTorch files, NumPy arrays (plain and object), raw
// pickles under any name, safetensors, a safetensors/zip polyglot, and random bytes behind a
// pickle-capable extension. Python writes the archives with zipfile; nothing is unpickled.
// Runs once: no database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { checkContent } from '../../../src/core/scan/classify.ts';

const PYTHON = String.raw`
import base64, collections, io, json, os, pickle, struct, sys, types, zipfile
out = {}
def put(name, data): out[name] = base64.b64encode(data).decode()
torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils')
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils
class FloatStorage: pass
FloatStorage.__module__ = 'torch'; torch.FloatStorage = FloatStorage
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = 'torch._utils'; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class Tensor:
    def __reduce__(self): return (_rebuild_tensor_v2, (('storage', '0'), 0, (2,), (1,), False, collections.OrderedDict()))
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return ('storage', FloatStorage, obj[1], 'cpu', 2) if isinstance(obj, tuple) and obj[:1] == ('storage',) else None
def tp(obj):
    b = io.BytesIO(); P(b, protocol=2).dump(obj); return b.getvalue()
class Evil:
    def __reduce__(self): return (os.system, ('echo pwned',))
benign = tp(collections.OrderedDict(w=Tensor()))
evil = pickle.dumps(Evil(), protocol=2)
def torch_zip(members, compression=zipfile.ZIP_STORED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()
put('model.pt: a PyTorch zip state dict', torch_zip([('archive/data.pkl', benign), ('archive/data/0', b'\0' * 8), ('archive/version', b'3\n')]))
put('model.pt: a PyTorch zip whose data.pkl calls os.system', torch_zip([('archive/data.pkl', evil), ('archive/data/0', b'\0' * 8), ('archive/version', b'3\n')]))
import warnings; warnings.simplefilter('ignore')
put('model.pt: two data.pkl, the malicious one first', torch_zip([('archive/data.pkl', evil), ('archive/data.pkl', benign), ('archive/version', b'3\n')]))
lying = bytearray(torch_zip([('archive/data.pkl', benign), ('archive/xata.pkl', evil)]))
i = lying.find(b'archive/xata.pkl'); lying[i:i + 16] = b'archive/data.pkl'  # the local header now says data.pkl
put('model.pt: a local header that lies about its name', bytes(lying))
put('model.pt: a deflated data.pkl', torch_zip([('archive/data.pkl', benign)], zipfile.ZIP_DEFLATED))
put('weights.bin: a pickle hidden in a member named like data', torch_zip([('archive/data.pkl', benign), ('archive/data/1', evil)]))
magic = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
put('old.pth: legacy PyTorch', magic + pickle.dumps(1001, protocol=2) + pickle.dumps({'protocol_version': 1001}, protocol=2) + tp(collections.OrderedDict(w=Tensor())) + pickle.dumps(['0'], protocol=2) + b'\x02\0\0\0\0\0\0\0' + b'\0' * 8)
put('old.pth: legacy PyTorch with a payload as the object', magic + pickle.dumps(1001, protocol=2) + pickle.dumps({}, protocol=2) + evil + pickle.dumps([], protocol=2))
def npy(descr, data):
    header = "{'descr': %s, 'fortran_order': False, 'shape': (1,), }" % descr
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + data
put('arr.npy: float32', npy("'<f4'", b'\0\0\x80?'))
put('arr.npy: an object array', npy("'|O'", evil))
put('arr.npy: an object field in a structured dtype', npy("[('a', '<i4'), ('b', '|O')]", evil))
put('weights.bin: a raw pickle of a state dict', benign)
put('weights.pkl: a raw pickle that calls os.system', evil)
json.dump(out, sys.stdout)
`;

function safetensors(): Uint8Array {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }).padEnd(56, ' '));
  const out = new Uint8Array(8 + header.length + 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}

describe('content classification', () => {
  const res = spawnSync('python3', ['-c', PYTHON], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const files = Object.entries(JSON.parse(res.stdout) as Record<string, string>).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))] as const);

  const expected: [RegExp, string, string | undefined, RegExp?][] = [
    [/zip state dict/, 'allowlisted-pickle', 'pytorch-zip'],
    [/zip whose data\.pkl calls/, 'code-capable', 'pytorch-zip', /posix\.system/],
    [/two data\.pkl/, 'code-capable', 'pytorch-zip', /posix\.system/],
    [/lies about its name/, 'code-capable', 'pytorch-zip', /posix\.system/],
    [/deflated data\.pkl/, 'malformed', 'pytorch-zip', /compressed/],
    [/hidden in a member/, 'code-capable', 'pytorch-zip', /archive\/data\/1: .*posix\.system/],
    [/legacy PyTorch$/, 'allowlisted-pickle', 'pytorch-legacy'],
    [/legacy PyTorch with a payload/, 'code-capable', 'pytorch-legacy', /posix\.system/],
    [/float32/, 'data-only', 'npy'],
    [/object array|object field/, 'code-capable', 'npy', /posix\.system/],
    [/raw pickle of a state dict/, 'allowlisted-pickle', 'pickle'],
    [/raw pickle that calls/, 'code-capable', 'pickle', /posix\.system/],
  ];

  it('classifies each file by its content and judges every pickle in it', () => {
    assert.equal(files.length, 13);
    for (const [name, bytes] of files) {
      const e = expected.find(([re]) => re.test(name));
      assert.ok(e, `an expectation for ${name}`);
      const report = checkContent(name.split(':')[0]!, bytes);
      assert.equal(report.verdict, e[1], `${name}: ${JSON.stringify(report)}`);
      assert.equal(report.format, e[2], name);
      if (e[3]) assert.ok(report.findings.some((f) => e[3]!.test(f.message)), `${name}: ${JSON.stringify(report.findings)}`);
    }
    const problems = checkContent('model.pt', files.find(([n]) => /two data\.pkl/.test(n))![1]).findings.map((f) => f.message).join('\n');
    assert.match(problems, /appears twice/, 'the duplicate is reported beside the payload');
  });

  it('reads safetensors, refuses a file that begins as a zip but is not a readable one, and refuses unrecognised bytes behind a pickle-capable name', () => {
    assert.equal(checkContent('model.safetensors', safetensors()).verdict, 'data-only');
    // A header length whose bytes spell PK\x03\x04. (A complete safetensors/zip polyglot needs a
    // 67 MB header; that test comes with the rest of the content check.)
    const zipLike = safetensors();
    zipLike.set([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0], 0);
    const report = checkContent('model.safetensors', zipLike);
    assert.equal(report.verdict, 'malformed');
    assert.equal(report.findings[0]!.code, 'zip_malformed');
    const random = new Uint8Array(4096).map((_, k) => (k * 7919 + 13) % 251);
    random[0] = 0xfe;
    for (const name of ['weights.bin', 'model.ckpt', 'blobs/0123abcd']) {
      const report = checkContent(name, random);
      assert.equal(report.verdict, 'malformed', name);
      assert.equal(report.findings[0]!.code, 'unrecognised_content');
    }
    assert.equal(checkContent('notes.txt', random).verdict, 'unknown');
  });
});
