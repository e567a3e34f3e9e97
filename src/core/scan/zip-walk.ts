// A zip archive read front to back, as hashing reads it: each local header, then its member's
// bytes (a member that may be a pickle goes through a PickleReader; the rest, tensor data, is
// passed over without being kept), until the first byte that is not a local header, from where
// everything (the central directory and end records) is kept for readZipDirectory. So a 1 GiB
// PyTorch archive is checked in the hashing pass with its pickles and directory in memory and
// nothing else, and the verdict is on exactly the bytes that were hashed.
//
// The directory, not the walk, is what a loader trusts (PyTorch reads members by the central
// directory's offsets), so the walk only supplies bytes: readZipDirectory then refuses a member
// the walk did not reach and a local header that disagrees with the directory.
import { concatBytes } from '../bytes.ts';
import { PickleReader, type PickleScan } from './pickle/vm.ts';
import type { ZipSource } from './zip.ts';

const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
/** Bytes kept after the last member (directory and end records): 64 MiB is about 500,000 members. */
const TAIL_LIMIT = 64 * 1024 * 1024;

export interface WalkedMember {
  /** Offset of the local header. */
  offset: number;
  header: Uint8Array;
  dataOffset: number;
  /** The pickle read from the member's bytes (a `.pkl` name, or bytes that start with PROTO), with whether bytes follow its STOP. */
  pickle?: { scan: PickleScan; trailing: boolean };
}

type State = 'header' | 'data' | 'descriptor' | 'tail';

export class ZipWalk {
  /** Members by data offset. */
  readonly members = new Map<number, WalkedMember>();
  private readonly headers: WalkedMember[] = [];
  private state: State = 'header';
  private pos = 0;
  private acc: Uint8Array = new Uint8Array(0);
  private member: WalkedMember | undefined;
  private dataLeft = 0;
  private dataSize = 0;
  private isPklName = false;
  private zip64 = false;
  private flags = 0;
  private method = 0;
  private reader: PickleReader | undefined;
  private tail: Uint8Array[] = [];
  private tailFrom = -1;
  private tailBytes = 0;
  /** Why the archive's bytes could not all be kept for the directory reader, if they could not. */
  problem: string | undefined;

  push(chunk: Uint8Array): void {
    let k = 0;
    while (k < chunk.length) {
      if (this.state === 'tail') {
        this.keepTail(chunk.subarray(k));
        this.pos += chunk.length - k;
        return;
      }
      if (this.state === 'data') {
        const take = Math.min(this.dataLeft, chunk.length - k);
        this.memberBytes(chunk.subarray(k, k + take));
        k += take;
        this.pos += take;
        this.dataLeft -= take;
        if (this.dataLeft === 0) this.endMember();
        continue;
      }
      // Headers and descriptors are small: gathered in `acc` until complete.
      const want = this.wanted();
      if (this.acc.length < want) {
        const take = Math.min(want - this.acc.length, chunk.length - k);
        this.acc = concatBytes(this.acc, chunk.subarray(k, k + take));
        k += take;
        this.pos += take;
        if (this.acc.length < this.wanted()) continue;
      }
      this.parsed();
    }
    if (this.state === 'data' && this.dataLeft === 0) this.endMember();
  }

  /** The bytes readZipDirectory may read, once the whole file has been pushed. */
  finish(): ZipSource {
    if (this.state === 'header' || this.state === 'descriptor') {
      // The file ended inside a header: keep what there is as the tail, for the directory reader to judge.
      const at = this.pos - this.acc.length;
      if (this.tailFrom < 0) this.tailFrom = at;
      this.keepTail(this.acc);
    }
    if (this.state === 'data') this.problem ??= 'the last member runs past the end of the file';
    if (this.tailFrom < 0) this.tailFrom = this.pos;
    const size = this.pos;
    const tail = this.tail.length === 1 ? this.tail[0]! : concatBytes(...this.tail);
    const tailFrom = this.tailFrom;
    const headers = this.headers;
    return {
      size,
      tailFrom,
      read: (at, length) => {
        if (at >= tailFrom && at + length <= size && at - tailFrom + length <= tail.length) return tail.subarray(at - tailFrom, at - tailFrom + length);
        // The last header that starts at or before `at`.
        let lo = 0;
        let hi = headers.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (headers[mid]!.offset <= at) lo = mid;
          else hi = mid - 1;
        }
        const h = headers[lo];
        if (h && h.offset <= at && at + length <= h.offset + h.header.length) return h.header.subarray(at - h.offset, at - h.offset + length);
        return undefined;
      },
    };
  }

  private wanted(): number {
    if (this.state === 'descriptor') {
      if (this.acc.length < 4) return 4;
      const signed = view(this.acc).getUint32(0, true) === DESCRIPTOR;
      return (signed ? 4 : 0) + (this.zip64 ? 20 : 12);
    }
    if (this.acc.length < 4) return 4;
    if (view(this.acc).getUint32(0, true) !== LOCAL) return 4;
    if (this.acc.length < 30) return 30;
    const v = view(this.acc);
    return 30 + v.getUint16(26, true) + v.getUint16(28, true);
  }

  private parsed(): void {
    if (this.state === 'descriptor') {
      this.acc = new Uint8Array(0);
      this.state = 'header';
      return;
    }
    const v = view(this.acc);
    if (v.getUint32(0, true) !== LOCAL) {
      // The first byte after the members: the central directory, or something a reader must judge.
      this.tailFrom = this.pos - this.acc.length;
      this.state = 'tail';
      const rest = this.acc;
      this.acc = new Uint8Array(0);
      this.keepTail(rest);
      return;
    }
    this.flags = v.getUint16(6, true);
    this.method = v.getUint16(8, true);
    let compressed = v.getUint32(18, true);
    let size = v.getUint32(22, true);
    const nameLength = v.getUint16(26, true);
    const extraLength = v.getUint16(28, true);
    this.zip64 = false;
    for (let e = 30 + nameLength; e + 4 <= 30 + nameLength + extraLength; ) {
      const id = v.getUint16(e, true);
      const length = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        this.zip64 = true;
        let p = e + 4;
        if (size === 0xffffffff && p + 8 <= e + 4 + length) (size = Number(v.getBigUint64(p, true))), (p += 8);
        if (compressed === 0xffffffff && p + 8 <= e + 4 + length) compressed = Number(v.getBigUint64(p, true));
      }
      e += 4 + length;
    }
    const offset = this.pos - this.acc.length;
    const name = new TextDecoder('utf-8', { fatal: false }).decode(this.acc.subarray(30, 30 + nameLength));
    this.member = { offset, header: this.acc, dataOffset: this.pos };
    this.headers.push(this.member);
    this.members.set(this.pos, this.member);
    this.acc = new Uint8Array(0);
    if (this.flags & 0x8 && compressed === 0) {
      // Sizes only in a descriptor after the data: the end of the member cannot be found in order.
      // What follows is kept as the tail (up to its limit) and read through the directory.
      this.tailFrom = this.pos;
      this.state = 'tail';
      return;
    }
    this.isPklName = name.endsWith('.pkl');
    this.dataLeft = compressed;
    this.dataSize = compressed;
    this.reader = undefined;
    this.state = 'data';
  }

  private memberBytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.dataLeft === this.dataSize) {
      // The first byte decides: a .pkl name, or PROTO (a pickle under another name), stored.
      if ((this.isPklName || bytes[0] === 0x80) && this.method === 0) this.reader = new PickleReader(this.pos);
    }
    if (this.reader && !this.reader.done) {
      const used = this.reader.push(bytes);
      if (this.reader.done && used < bytes.length) this.member!.pickle = { scan: this.reader.finish(), trailing: true };
    }
  }

  private endMember(): void {
    if (this.reader && !this.member!.pickle) this.member!.pickle = { scan: this.reader.finish(), trailing: false };
    this.reader = undefined;
    this.state = this.flags & 0x8 ? 'descriptor' : 'header';
  }

  private keepTail(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.tailBytes + bytes.length > TAIL_LIMIT) {
      this.problem = `more than ${TAIL_LIMIT} bytes after the last member read in order`;
      return;
    }
    this.tail.push(bytes.slice());
    this.tailBytes += bytes.length;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
