// Files crafted against a checker that keeps views of its caller's read buffer (the defect of
// cf482d2: the CLI reads through one reused 1 MiB Node Buffer, and bytes "kept" with
// Buffer#slice changed under the checker with every read). Each is malicious, and each was judged
// allowlisted-pickle by that checker: the bytes it kept were overwritten, by the time it read
// them, with a benign decoy placed where the next read puts its bytes in the buffer.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { filler, torchZip, writeTorchZip, type TorchZipMember } from './torch-zip.ts';

const MiB = 1024 * 1024;
export const TORCH_FIXTURES = fileURLToPath(new URL('../fixtures/torch/', import.meta.url));

/** The members of a zip in file order, read by Python's zipfile (not by the code under test). */
export function zipMembers(file: string): { name: string; data: Uint8Array }[] {
  const res = spawnSync('python3', ['-c', `
import base64, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps([[i.filename, base64.b64encode(z.read(i)).decode()] for i in sorted(z.infolist(), key=lambda i: i.header_offset)]))
`, file], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  return (JSON.parse(res.stdout) as [string, string][]).map(([name, b64]) => ({ name, data: new Uint8Array(Buffer.from(b64, 'base64')) }));
}

/**
 * A torch.save archive whose data.pkl imports posix.system far into the pickle
 * (test/fixtures/torch/payload-late.pt, written by torch 2.13), its first tensor replaced by 3 MiB
 * that repeat, at the start of every MiB, everything before that tensor in the same archive with
 * `builtins set` (allowlisted, as long) in place of `posix system`. torch writes sizes only in
 * data descriptors, so the old checker kept everything after the first local header as views of
 * the read buffer; after the last read they showed the decoy.
 */
export function craftedTorchArchive(): Uint8Array {
  const members = zipMembers(TORCH_FIXTURES + 'payload-late.pt');
  const pkl = members.find((m) => m.name.endsWith('/data.pkl'))!;
  const evil = Buffer.from(pkl.data);
  const at = evil.indexOf('cposix\nsystem\n');
  if (at < 0) throw new Error('payload-late.pt no longer imports posix.system');
  const benignPkl = Buffer.from(evil);
  benignPkl.write('cbuiltins\nset\n', at, 'latin1');
  const tensor = members.find((m) => m.name.endsWith('/data/0'))!;
  const build = (pickle: Uint8Array, data: Uint8Array) => torchZip(members.map((m) => (m === tensor ? { name: m.name, data } : m === pkl ? { name: m.name, data: pickle } : m)));
  // The layout does not depend on the bytes: one build tells where the tensor's data starts.
  const benign = build(benignPkl, new Uint8Array(3 * MiB));
  const start = dataOffsetOf(benign, tensor.name);
  const decoy = benign.subarray(0, start);
  const data = new Uint8Array(3 * MiB);
  for (let k = 0; k < data.length; k++) {
    const p = start + k;
    data[k] = p % MiB < decoy.length ? decoy[p % MiB]! : p & 0xff;
  }
  return build(evil, data);
}

/**
 * A 2 MiB+ raw pickle whose `posix system` GLOBAL ends 1 byte before the 1 MiB read boundary
 * (its newline is the first byte of the next read), and whose next read holds `cbuiltins\nset` at
 * the same offset of the buffer, inside a byte string the real pickle passes over. The old
 * checker kept the cut opcode as a view: it read `builtins set`, allowlisted.
 */
export function craftedRawPickle(): Uint8Array {
  const global = new TextEncoder().encode('cposix\nsystem');
  const decoy = new TextEncoder().encode('cbuiltins\nset');
  const tail = new TextEncoder().encode("0(S'true'\ntR.");
  const out = new Uint8Array(2 * MiB + 4096);
  let k = 0;
  out.set([0x80, 0x02, 0x42], k); // PROTO 2, BINBYTES
  k += 3;
  const padTo = MiB - global.length - 1;
  new DataView(out.buffer).setUint32(k, padTo - (k + 4), true);
  k = padTo;
  out[k++] = 0x30; // POP the padding
  out.set(global, k); // ends at MiB - 1; the newline is byte MiB
  k += global.length;
  out[k++] = 0x0a;
  out[k++] = 0x42; // BINBYTES over the decoy
  const skip = 2 * MiB + 64 - (k + 4);
  new DataView(out.buffer).setUint32(k, skip, true);
  k += 4;
  out.set(decoy, 2 * MiB - global.length);
  k += skip;
  out.set(tail, k); // POP the bytes, then MARK, STRING 'true', TUPLE, REDUCE, STOP
  return out.subarray(0, k + tail.length);
}

function dataOffsetOf(zip: Uint8Array, name: string): number {
  const bytes = new TextEncoder().encode(name);
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let at = 0; at + 30 < zip.length; at++) {
    if (v.getUint32(at, true) !== 0x04034b50 || v.getUint16(at + 26, true) !== bytes.length) continue;
    if (Buffer.from(zip.subarray(at + 30, at + 30 + bytes.length)).equals(Buffer.from(bytes))) return at + 30 + bytes.length + v.getUint16(at + 28, true);
  }
  throw new Error(`no local header for ${name}`);
}

/** The members of a real torch.save state dict (test/fixtures/torch/state-dict.pt) with its first tensor grown to `size` pseudo-random bytes. */
function grownStateDict(size: number, seed: number, inMemory: boolean): TorchZipMember[] {
  const fill = filler(seed);
  return zipMembers(TORCH_FIXTURES + 'state-dict.pt').map((m) => {
    if (!m.name.endsWith('/data/0')) return m;
    if (!inMemory) return { name: m.name, data: { size, fill } };
    const data = new Uint8Array(size);
    fill(data, 0);
    return { name: m.name, data };
  });
}

/** That state dict in memory. */
export function largeStateDict(size: number, seed = 1): Uint8Array {
  return torchZip(grownStateDict(size, seed, true));
}

/** That state dict written to `file`, piece by piece (sizes that should not sit in memory). */
export function writeLargeStateDict(file: string, size: number, seed = 1): void {
  writeTorchZip(file, grownStateDict(size, seed, false));
}

export const readFixture = (name: string) => new Uint8Array(readFileSync(TORCH_FIXTURES + name));
