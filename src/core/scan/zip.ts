// The central directory of a zip archive (a PyTorch checkpoint is one), read as PyTorch's miniz
// reads it (end of central directory, then the directory, then each member's local header), with
// every disagreement a scanner could be fooled by refused: duplicate names (which of two
// `data.pkl` a loader opens is unspecified), a local header naming another file than the
// directory, encrypted members, members overlapping or outside the file, more than one end
// record. CRCs are not checked, as PyTorch does not check them.

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  /** Where the member's bytes start (after its local header). */
  dataOffset: number;
}

/**
 * The members, and what is wrong with the archive: `problems` (duplicate names, a lying local
 * header, encryption, overlaps) still list every member, so a scanner checks them all; `error`
 * means the directory itself cannot be read.
 */
export type ZipDirectory = { entries: ZipEntry[]; problems: string[]; error?: undefined } | { entries?: undefined; problems?: undefined; error: string };

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const MAX_ENTRIES = 1_000_000;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * The parts of an archive the reader may look at: all of it for a file in memory; for a stream,
 * the local headers seen in order and everything from the first byte that is not a member
 * (the central directory and end records) to the end.
 */
export interface ZipSource {
  size: number;
  /** Every byte from here to `size` is readable. */
  tailFrom: number;
  /** `length` bytes at `at`, or undefined when the source does not hold them. */
  read(at: number, length: number): Uint8Array | undefined;
}

export function wholeSource(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, tailFrom: 0, read: (at, length) => (at >= 0 && at + length <= bytes.length ? bytes.subarray(at, at + length) : undefined) };
}

class Unreadable extends Error {}

export function readZipDirectory(source: ZipSource): ZipDirectory {
  const fileSize = source.size;
  const bytesAt = (at: number, length: number) => {
    const got = source.read(at, length);
    if (!got) throw new Unreadable(`bytes ${at} to ${at + length} are not where a member or the directory can be read`);
    return got;
  };
  const viewAt = (at: number, length: number) => {
    const b = bytesAt(at, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  };
  const u16 = (at: number) => viewAt(at, 2).getUint16(0, true);
  const u32 = (at: number) => viewAt(at, 4).getUint32(0, true);
  const u64 = (at: number) => Number(viewAt(at, 8).getBigUint64(0, true));
  const fail = (error: string): ZipDirectory => ({ error });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  /** The name at `at`, or undefined when it is not UTF-8. */
  const nameAt = (at: number, length: number): string | undefined => {
    try {
      return decoder.decode(bytesAt(at, length));
    } catch (err) {
      if (err instanceof Unreadable) throw err;
      return undefined;
    }
  };
  try {
    return readDirectory();
  } catch (err) {
    if (err instanceof Unreadable) return fail(err.message);
    throw err;
  }

  function readDirectory(): ZipDirectory {
    // The end record is in the last 65,557 bytes; more than one there means two archives in one file.
    const found: number[] = [];
    for (let at = fileSize - 22; at >= Math.max(0, source.tailFrom, fileSize - 22 - 0xffff); at--) {
      if (u32(at) === EOCD && at + 22 + u16(at + 20) === fileSize) found.push(at);
    }
    if (found.length === 0) return fail('no end-of-central-directory record');
    if (found.length > 1) return fail('more than one end-of-central-directory record');
    const eocd = found[0]!;
    let count = u16(eocd + 10);
    let dirSize = u32(eocd + 12);
    let dirOffset = u32(eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) return fail('a ZIP64 archive without its locator');
      const z = u64(locator + 8);
      if (z + 56 > fileSize || u32(z) !== ZIP64_EOCD) return fail('a ZIP64 locator that points at no ZIP64 end record');
      count = u64(z + 32);
      dirSize = u64(z + 40);
      dirOffset = u64(z + 48);
    }
    if (count > MAX_ENTRIES) return fail(`more than ${MAX_ENTRIES} members`);
    if (dirOffset + dirSize > fileSize) return fail('the central directory runs past the end of the file');

    const entries: ZipEntry[] = [];
    const problems: string[] = [];
    const names = new Set<string>();
    let at = dirOffset;
    for (let k = 0; k < count; k++) {
      if (at + 46 > fileSize || u32(at) !== CENTRAL) return fail(`central directory entry ${k} is not where the directory says`);
      const flags = u16(at + 8);
      const method = u16(at + 10);
      let compressedSize = u32(at + 20);
      let size = u32(at + 24);
      const nameLength = u16(at + 28);
      const extraLength = u16(at + 30);
      const commentLength = u16(at + 32);
      let localOffset = u32(at + 42);
      const name = nameAt(at + 46, nameLength);
      if (name === undefined) return fail(`central directory entry ${k} has a name that is not UTF-8`);
      // ZIP64 sizes and offset live in the extra field, in this order, for the fields set to all ones.
      for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
        const id = u16(e);
        const length = u16(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          if (size === 0xffffffff) (size = u64(p)), (p += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(p)), (p += 8);
          if (localOffset === 0xffffffff) localOffset = u64(p);
        }
        e += 4 + length;
      }
      if (names.has(name)) problems.push(`the member ${JSON.stringify(name)} appears twice (which one a loader opens is unspecified)`);
      names.add(name);
      if (flags & 0x1) problems.push(`the member ${JSON.stringify(name)} is encrypted`);
      if (localOffset + 30 > fileSize || u32(localOffset) !== LOCAL) return fail(`the member ${JSON.stringify(name)} has no local header where the directory says`);
      const localNameLength = u16(localOffset + 26);
      const localExtraLength = u16(localOffset + 28);
      const localName = nameAt(localOffset + 30, localNameLength);
      if (localName === undefined) return fail(`the local header of ${JSON.stringify(name)} has a name that is not UTF-8`);
      if (localName !== name) problems.push(`the local header of ${JSON.stringify(name)} names ${JSON.stringify(localName)}`);
      const dataOffset = localOffset + 30 + localNameLength + localExtraLength;
      if (dataOffset + compressedSize > dirOffset) return fail(`the member ${JSON.stringify(name)} runs into the central directory`);
      entries.push({ name, method, flags, compressedSize, size, dataOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    const sorted = [...entries].sort((a, b) => a.dataOffset - b.dataOffset);
    for (let k = 1; k < sorted.length; k++) {
      if (sorted[k]!.dataOffset < sorted[k - 1]!.dataOffset + sorted[k - 1]!.compressedSize) problems.push(`the members ${JSON.stringify(sorted[k - 1]!.name)} and ${JSON.stringify(sorted[k]!.name)} overlap`);
    }
    return { entries, problems };
  }
}
