// PyTorch's zip layout, written byte for byte as torch.save (PyTorchStreamWriter over miniz)
// writes it, for archives too large to commit: every member stored, its local header with flag
// 0x0808 and zero sizes (the sizes and CRC only in the data descriptor after the data), an "FB"
// extra field padding the data to a 64-byte boundary, then the central directory, a ZIP64 end
// record and locator, and the end record. test/core/scan/torch-zip.test.ts checks the output
// against files real torch wrote (test/fixtures/torch). Members and offsets stay under 4 GiB
// (the 32-bit records torch writes for them); nothing here needs more.
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export interface TorchZipMember {
  /** The full member name, `<archive>/data.pkl`, `<archive>/data/0`... */
  name: string;
  /** The member's bytes, or its size and a function that fills them piece by piece (large tensors). */
  data: Uint8Array | { size: number; fill(piece: Uint8Array, offset: number): void };
}

const ALIGNMENT = 64;
const PIECE = 4 * 1024 * 1024;

interface Sink {
  write(bytes: Uint8Array): void;
  readonly at: number;
}

function write(sink: Sink, members: readonly TorchZipMember[]): void {
  const central: Uint8Array[] = [];
  for (const member of members) {
    const name = new TextEncoder().encode(member.name);
    const offset = sink.at;
    const start = offset + 30 + name.length + 4;
    const pad = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
    const local = new Uint8Array(30 + name.length + 4 + pad);
    const v = new DataView(local.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(6, 0x0808, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, 4 + pad, true);
    local.set(name, 30);
    local.set([0x46, 0x42], 30 + name.length); // "FB"
    v.setUint16(30 + name.length + 2, pad, true);
    local.fill(0x5a, 30 + name.length + 4); // "Z"
    sink.write(local);
    let crc = 0;
    let size: number;
    if (member.data instanceof Uint8Array) {
      size = member.data.length;
      crc = crc32(member.data);
      sink.write(member.data);
    } else {
      size = member.data.size;
      const piece = new Uint8Array(Math.min(PIECE, size));
      for (let done = 0; done < size; done += piece.length) {
        const part = piece.subarray(0, Math.min(piece.length, size - done));
        member.data.fill(part, done);
        crc = crc32(part, crc);
        sink.write(part);
      }
    }
    if (size >= 0xffffffff || offset >= 0xffffffff) throw new Error('torch-zip: members and offsets past 4 GiB are not written here');
    const descriptor = new Uint8Array(16);
    const d = new DataView(descriptor.buffer);
    d.setUint32(0, 0x08074b50, true);
    d.setUint32(4, crc, true);
    d.setUint32(8, size, true);
    d.setUint32(12, size, true);
    sink.write(descriptor);
    const entry = new Uint8Array(46 + name.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(8, 0x0808, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, size, true);
    c.setUint32(24, size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    entry.set(name, 46);
    central.push(entry);
  }
  const dirOffset = sink.at;
  for (const entry of central) sink.write(entry);
  const dirSize = sink.at - dirOffset;
  const zip64At = sink.at;
  const end = new Uint8Array(56 + 20 + 22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06064b50, true); // ZIP64 end of central directory
  e.setBigUint64(4, 44n, true);
  e.setUint16(12, 0x031e, true);
  e.setUint16(14, 0x2d, true);
  e.setBigUint64(24, BigInt(members.length), true);
  e.setBigUint64(32, BigInt(members.length), true);
  e.setBigUint64(40, BigInt(dirSize), true);
  e.setBigUint64(48, BigInt(dirOffset), true);
  e.setUint32(56, 0x07064b50, true); // its locator
  e.setBigUint64(64, BigInt(zip64At), true);
  e.setUint32(72, 1, true);
  e.setUint32(76, 0x06054b50, true); // end of central directory
  e.setUint16(84, members.length, true);
  e.setUint16(86, members.length, true);
  e.setUint32(88, dirSize, true);
  e.setUint32(92, dirOffset, true);
  sink.write(end);
}

/** The archive in memory. */
export function torchZip(members: readonly TorchZipMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  write(
    {
      write: (bytes) => {
        parts.push(bytes.slice());
        at += bytes.length;
      },
      get at() {
        return at;
      },
    },
    members,
  );
  const out = new Uint8Array(at);
  let k = 0;
  for (const p of parts) out.set(p, (k += p.length) - p.length);
  return out;
}

/** The archive written to `file` (for sizes that should not sit in memory). */
export function writeTorchZip(file: string, members: readonly TorchZipMember[]): void {
  const fd = openSync(file, 'w');
  let at = 0;
  try {
    write(
      {
        write: (bytes) => {
          for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
          at += bytes.length;
        },
        get at() {
          return at;
        },
      },
      members,
    );
  } finally {
    closeSync(fd);
  }
}

/** Pseudo-random tensor bytes, the same for the same seed (xorshift32): large layouts without committing them. */
export function filler(seed: number): (piece: Uint8Array, offset: number) => void {
  return (piece, offset) => {
    const words = new Uint32Array(piece.buffer, piece.byteOffset, piece.length >> 2);
    let x = (seed ^ Math.floor(offset / 4) ^ 0x9e3779b9) >>> 0 || 1;
    for (let k = 0; k < words.length; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[k] = x >>> 0;
    }
    for (let k = words.length * 4; k < piece.length; k++) piece[k] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  };
}
