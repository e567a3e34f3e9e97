// The central directory of a zip archive (a PyTorch checkpoint is one), read first, from the end
// of the file, as PyTorch's miniz reads it: the end record, the ZIP64 records when the end record
// says so, then the directory. The caller reads the ranges `ZipPreread.wanted()` names (a file is
// seekable: the CLI reads by position, the browser with `File.slice()`) before streaming the
// file through hashing; the stream (zip-stream.ts) then finds every member where the directory
// says, checks each local header against it, and compares these same ranges byte for byte with
// the hashed bytes, so the verdict is on exactly what was hashed. Refused: more than one end
// record, a directory outside the file, a name that is not UTF-8, more members or directory bytes
// than any checkpoint has. Reported (the members are still all checked): duplicate names (which
// of two `data.pkl` a loader opens is unspecified), encrypted members. CRCs are not checked, as
// PyTorch does not check them.
import { copyBytes } from '../bytes.ts';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  /** Where the member's local header starts. */
  localOffset: number;
}

export interface ZipPlan {
  /** The file size the directory was read from: the hashed length must equal it. */
  size: number;
  entries: ZipEntry[];
  /** Where the central directory starts: no member may run into it. */
  dirOffset: number;
  /** What is wrong but does not stop every member being checked. */
  problems: string[];
}

export interface ByteRange {
  at: number;
  length: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const MAX_ENTRIES = 1_000_000;
/** Directory bytes read into memory: 64 MiB is about 500,000 members; a checkpoint has thousands. */
const MAX_DIRECTORY = 64 * 1024 * 1024;
/** The end record and its comment sit in the last 65,557 bytes. */
const END_WINDOW = 22 + 0xffff;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

class Missing extends Error {
  constructor(readonly range: ByteRange) {
    super('not read yet');
  }
}

/**
 * The reads a zip needs before it is streamed. `wanted()` names the next range to read (or
 * undefined once done); `provide(bytes)` hands it over (copied: the caller may reuse its buffer).
 * Then `plan` is the directory, or `error` says why there is none.
 */
export class ZipPreread {
  /** The bytes read ahead, by offset; the stream compares them with what it hashes. */
  readonly ranges: { at: number; bytes: Uint8Array }[] = [];
  plan: ZipPlan | undefined;
  error: string | undefined;
  private want: ByteRange | undefined;

  constructor(private readonly size: number) {
    const at = Math.max(0, size - END_WINDOW);
    this.want = { at, length: size - at };
  }

  wanted(): ByteRange | undefined {
    return this.want;
  }

  provide(bytes: Uint8Array): void {
    const want = this.want;
    if (!want) throw new Error('ZipPreread: nothing was wanted');
    if (bytes.length !== want.length) {
      this.want = undefined;
      this.error = `the file is shorter than its size when read (${want.length} bytes wanted at ${want.at}, ${bytes.length} read)`;
      return;
    }
    this.ranges.push({ at: want.at, bytes: copyBytes(bytes) });
    this.want = undefined;
    try {
      this.plan = this.read();
    } catch (err) {
      if (err instanceof Missing) this.want = err.range;
      else if (err instanceof ZipError) this.error = err.message;
      else throw err;
    }
  }

  private bytesAt(at: number, length: number): Uint8Array {
    if (at < 0 || at + length > this.size) throw new ZipError(`bytes ${at} to ${at + length} lie outside the file`);
    for (const r of this.ranges) if (at >= r.at && at + length <= r.at + r.bytes.length) return r.bytes.subarray(at - r.at, at - r.at + length);
    throw new Missing({ at, length });
  }

  private read(): ZipPlan {
    const size = this.size;
    const view = (at: number, length: number) => {
      const b = this.bytesAt(at, length);
      return new DataView(b.buffer, b.byteOffset, b.byteLength);
    };
    const u16 = (at: number) => view(at, 2).getUint16(0, true);
    const u32 = (at: number) => view(at, 4).getUint32(0, true);
    const u64 = (at: number) => {
      const n = view(at, 8).getBigUint64(0, true);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('a ZIP64 size or offset beyond 2^53');
      return Number(n);
    };
    // miniz (PyTorch's reader) takes the last end-record signature in the window, whether or not
    // its comment reaches the end of the file; a reader that wants the comment to end the file
    // takes the one that does. Two records that could be "the" end record mean two archives in
    // one file, each reader seeing its own: refused. Bytes after the record are reported, and
    // the members still checked (a payload in an archive with bytes appended is still named).
    const signatures: number[] = [];
    const problems: string[] = [];
    for (let at = size - 22; at >= Math.max(0, size - END_WINDOW); at--) if (u32(at) === EOCD) signatures.push(at);
    if (signatures.length === 0) throw new ZipError('no end-of-central-directory record');
    const exact = signatures.filter((at) => at + 22 + u16(at + 20) === size);
    if (exact.length > 1 || (exact.length === 1 && exact[0] !== signatures[0])) throw new ZipError('more than one end-of-central-directory record');
    const eocd = signatures[0]!;
    if (exact.length === 0) {
      const end = eocd + 22 + u16(eocd + 20);
      problems.push(end > size ? 'the end record\'s comment runs past the end of the file' : `${size - end} bytes after the end-of-central-directory record`);
    }
    let count = u16(eocd + 10);
    let dirSize = u32(eocd + 12);
    let dirOffset = u32(eocd + 16);
    let dirLimit = eocd;
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) throw new ZipError('a ZIP64 archive without its locator');
      const z = u64(locator + 8);
      if (z + 56 > locator || u32(z) !== ZIP64_EOCD) throw new ZipError('a ZIP64 locator that points at no ZIP64 end record');
      count = u64(z + 32);
      dirSize = u64(z + 40);
      dirOffset = u64(z + 48);
      dirLimit = z;
    }
    if (count > MAX_ENTRIES) throw new ZipError(`more than ${MAX_ENTRIES} members`);
    if (dirSize > MAX_DIRECTORY) throw new ZipError(`a central directory of more than ${MAX_DIRECTORY} bytes`);
    if (dirOffset + dirSize > dirLimit) throw new ZipError('the central directory runs past the end records');
    this.bytesAt(dirOffset, dirSize); // the whole directory in one read, when it was not in the end window

    const decoder = new TextDecoder('utf-8', { fatal: true });
    const entries: ZipEntry[] = [];
    const names = new Set<string>();
    let at = dirOffset;
    const dirEnd = dirOffset + dirSize;
    for (let k = 0; k < count; k++) {
      if (at + 46 > dirEnd || u32(at) !== CENTRAL) throw new ZipError(`central directory entry ${k} is not where the directory says`);
      const flags = u16(at + 8);
      const method = u16(at + 10);
      let compressedSize = u32(at + 20);
      let size32 = u32(at + 24);
      const nameLength = u16(at + 28);
      const extraLength = u16(at + 30);
      const commentLength = u16(at + 32);
      let localOffset = u32(at + 42);
      if (at + 46 + nameLength + extraLength + commentLength > dirEnd) throw new ZipError(`central directory entry ${k} runs past the directory`);
      let name: string;
      try {
        name = decoder.decode(this.bytesAt(at + 46, nameLength));
      } catch (err) {
        if (err instanceof ZipError || err instanceof Missing) throw err;
        throw new ZipError(`central directory entry ${k} has a name that is not UTF-8`);
      }
      // ZIP64 sizes and offset live in the extra field, in this order, for the fields set to all ones.
      for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
        const id = u16(e);
        const length = u16(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          const end = p + length;
          const next = () => {
            if (p + 8 > end) throw new ZipError(`the ZIP64 field of ${JSON.stringify(name)} is too short`);
            p += 8;
            return u64(p - 8);
          };
          if (size32 === 0xffffffff) size32 = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localOffset === 0xffffffff) localOffset = next();
        }
        e += 4 + length;
      }
      if (names.has(name)) problems.push(`the member ${JSON.stringify(name)} appears twice (which one a loader opens is unspecified)`);
      names.add(name);
      if (flags & 0x1) problems.push(`the member ${JSON.stringify(name)} is encrypted`);
      if (localOffset + 30 + nameLength + compressedSize > dirOffset) throw new ZipError(`the member ${JSON.stringify(name)} runs into the central directory`);
      entries.push({ name, method, flags, compressedSize, size: size32, localOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return { size, entries, dirOffset, problems };
  }
}

class ZipError extends Error {}
