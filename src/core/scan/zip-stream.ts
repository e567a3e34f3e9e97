// A zip archive checked as hashing streams it, with its central directory already read from the
// end of the file (zip.ts): every member is found where the directory says, whatever the local
// headers claim, so a torch archive whose local headers carry no sizes (torch 2.x writes flag
// 0x0808 and puts the sizes only in data descriptors) is read in bounded memory at any size.
// Each local header is checked against its directory entry; each member's first bytes decide
// what it is (a pickle, a .npy array, or data passed over unread); deflated members are inflated
// only as far as that takes. The bytes read ahead (end records, directory) are compared with the
// same bytes of the stream, and the hashed length with the size they were read at: a file that
// changed between the two reads is refused, never judged on bytes that were not hashed.
//
// Members may overlap (an attack, refused): each has its own reader, and a byte two members
// claim goes to both. Everything kept is copied when kept; chunks are never held.
import { Inflate } from 'fflate';
import { copyBytes } from '../bytes.ts';
import { NpyCheck, NPY_MAGIC } from './npy.ts';
import { PickleReader, type PickleScan } from './pickle/vm.ts';
import type { ContentReport } from './verdict.ts';
import type { ZipEntry, ZipPlan } from './zip.ts';

const LOCAL = 0x04034b50;

export interface MemberResult {
  entry: ZipEntry;
  /** The pickle the member holds, with whether bytes follow its STOP. */
  pickle?: { scan: PickleScan; trailing: boolean };
  /** The verdict on a .npy member (an .npz archive). */
  npy?: ContentReport;
}

interface ZipStreamResult {
  members: MemberResult[];
  /** Local headers that disagree with the directory, overlaps, members cut short. */
  problems: string[];
  /** Set when the file differs from what was read ahead: the verdict cannot stand. */
  changed: string | undefined;
}

/** What a member's bytes are, decided by its first six (and its name). */
class MemberContent {
  private head: Uint8Array = new Uint8Array(0);
  private kind: 'sniff' | 'pickle' | 'npy' | 'data' = 'sniff';
  private reader: PickleReader | undefined;
  private npy: NpyCheck | undefined;
  private trailing = false;

  constructor(
    private readonly name: string,
    private readonly base: number,
  ) {}

  get wantsMore(): boolean {
    if (this.kind === 'sniff') return true;
    if (this.kind === 'pickle') return !this.trailing;
    if (this.kind === 'npy') return this.npy!.wantsMore;
    return false;
  }

  push(bytes: Uint8Array): void {
    if (this.kind === 'sniff') {
      const take = Math.min(NPY_MAGIC.length - this.head.length, bytes.length);
      const head = new Uint8Array(this.head.length + take);
      head.set(this.head);
      head.set(bytes.subarray(0, take), this.head.length);
      this.head = head;
      if (this.head.length < NPY_MAGIC.length) return;
      this.decide();
      this.feed(this.head);
      this.feed(bytes.subarray(take));
      return;
    }
    this.feed(bytes);
  }

  finish(): Omit<MemberResult, 'entry'> {
    if (this.kind === 'sniff') {
      this.decide();
      this.feed(this.head);
    }
    if (this.reader) return { pickle: { scan: this.reader.finish(), trailing: this.trailing } };
    if (this.npy) return { npy: this.npy.finish() };
    return {};
  }

  private decide(): void {
    const h = this.head;
    const lower = this.name.toLowerCase();
    if (lower.endsWith('.pkl') || h[0] === 0x80) {
      this.kind = 'pickle';
      this.reader = new PickleReader(this.base);
    } else if (NPY_MAGIC.every((b, k) => h[k] === b)) {
      this.kind = 'npy';
      this.npy = new NpyCheck(this.base);
    } else this.kind = 'data';
  }

  private feed(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.kind === 'pickle') {
      if (this.reader!.done) {
        this.trailing = true;
        return;
      }
      if (this.reader!.push(bytes) < bytes.length) this.trailing = true;
    } else if (this.kind === 'npy') this.npy!.push(bytes);
  }
}

/** One member: its local header (collected, checked), then its data (to MemberContent, inflated if deflated). */
class MemberReader {
  cursor: number;
  /** Where the member's bytes end; known once the local header is read. */
  dataEnd = -1;
  done = false;
  private header: Uint8Array = new Uint8Array(0);
  private headerLength = 30;
  private content: MemberContent | undefined;
  private inflate: Inflate | undefined;
  private inflated = 0;
  private inflateError: string | undefined;

  constructor(
    readonly entry: ZipEntry,
    private readonly plan: ZipPlan,
    private readonly problems: string[],
  ) {
    this.cursor = entry.localOffset;
  }

  /** Feeds the part of `chunk` (which starts at file offset `pos`) this member wants. */
  feed(chunk: Uint8Array, pos: number): void {
    const end = pos + chunk.length;
    while (!this.done && this.cursor < end) {
      if (this.dataEnd < 0) {
        const take = Math.min(this.headerLength - this.header.length, end - this.cursor);
        const header = new Uint8Array(this.header.length + take);
        header.set(this.header);
        header.set(chunk.subarray(this.cursor - pos, this.cursor - pos + take), this.header.length);
        this.header = header;
        this.cursor += take;
        if (this.header.length === 30) {
          const v = view(this.header);
          if (v.getUint32(0, true) !== LOCAL) {
            this.problems.push(`the member ${JSON.stringify(this.entry.name)} has no local header where the directory says`);
            this.done = true;
            return;
          }
          this.headerLength = 30 + v.getUint16(26, true) + v.getUint16(28, true);
        }
        if (this.header.length === this.headerLength) this.startData();
        continue;
      }
      const take = Math.min(this.dataEnd - this.cursor, end - this.cursor);
      if (this.content?.wantsMore && this.inflateError === undefined) this.data(chunk.subarray(this.cursor - pos, this.cursor - pos + take));
      this.cursor += take;
      if (this.cursor === this.dataEnd) this.endData();
    }
  }

  result(): MemberResult {
    if (!this.done) this.problems.push(`the member ${JSON.stringify(this.entry.name)} runs past the end of the file`);
    const content = this.content?.finish() ?? {};
    if (this.inflateError !== undefined && (content.pickle || content.npy)) this.problems.push(`the member ${JSON.stringify(this.entry.name)} does not inflate: ${this.inflateError}`);
    return { entry: this.entry, ...content };
  }

  private startData(): void {
    const { entry } = this;
    const v = view(this.header);
    const nameLength = v.getUint16(26, true);
    const localName = new TextDecoder('utf-8', { fatal: false }).decode(this.header.subarray(30, 30 + nameLength));
    const quoted = JSON.stringify(entry.name);
    if (localName !== entry.name) this.problems.push(`the local header of ${quoted} names ${JSON.stringify(localName)}`);
    if (v.getUint16(8, true) !== entry.method) this.problems.push(`the local header of ${quoted} gives another compression method than the directory`);
    if ((v.getUint16(6, true) & 0x1) !== (entry.flags & 0x1)) this.problems.push(`the local header of ${quoted} disagrees with the directory on encryption`);
    // Sizes: torch leaves them zero and puts them in a data descriptor (flag 0x8); any other
    // value must be the directory's (a ZIP64 local header says 0xFFFFFFFF and gives them in its extra field).
    const compressed = v.getUint32(18, true);
    const size = v.getUint32(22, true);
    const agrees = (local: number, central: number) => local === central || local === 0xffffffff || ((v.getUint16(6, true) & 0x8) !== 0 && local === 0);
    if (!agrees(compressed, entry.compressedSize) || !agrees(size, entry.size)) this.problems.push(`the local header of ${quoted} gives other sizes than the directory`);
    this.dataEnd = this.cursor + entry.compressedSize;
    if (this.dataEnd > this.plan.dirOffset) this.problems.push(`the member ${quoted} runs into the central directory`);
    this.header = new Uint8Array(0);
    if (entry.method === 0 || entry.method === 8) {
      this.content = new MemberContent(entry.name, this.cursor);
      if (entry.method === 8) {
        this.inflate = new Inflate((out) => {
          this.inflated += out.length;
          if (this.inflated > entry.size) throw new Error(`it inflates past the ${entry.size} bytes the directory gives`);
          if (this.content!.wantsMore) this.content!.push(out);
        });
      }
    } else if (/\.(pkl|npy)$/i.test(entry.name)) {
      this.problems.push(`the member ${quoted} uses compression method ${entry.method}, which PyTorch and NumPy cannot read`);
    }
    if (this.dataEnd === this.cursor) this.endData();
  }

  private data(bytes: Uint8Array): void {
    if (!this.inflate) {
      this.content!.push(bytes);
      return;
    }
    try {
      // Copied: fflate may keep the input until it has a whole block.
      this.inflate.push(copyBytes(bytes));
    } catch (err) {
      this.inflateError = (err as Error).message;
    }
  }

  private endData(): void {
    if (this.inflate && this.inflateError === undefined && this.content!.wantsMore) {
      try {
        this.inflate.push(new Uint8Array(0), true);
      } catch (err) {
        this.inflateError = (err as Error).message;
      }
    }
    this.done = true;
  }
}

export class ZipStream {
  private pos = 0;
  private readonly readers: MemberReader[];
  private next = 0;
  private active: MemberReader[] = [];
  private readonly problems: string[] = [];
  private changed: string | undefined;

  /** `preread`: the ranges read ahead (the plan was read from them), compared with the stream. */
  constructor(
    private readonly plan: ZipPlan,
    private readonly preread: readonly { at: number; bytes: Uint8Array }[],
  ) {
    this.readers = plan.entries.map((entry) => new MemberReader(entry, plan, this.problems)).sort((a, b) => a.entry.localOffset - b.entry.localOffset);
  }

  push(chunk: Uint8Array): void {
    const pos = this.pos;
    const end = pos + chunk.length;
    this.pos = end;
    for (const r of this.preread) {
      const from = Math.max(pos, r.at);
      const to = Math.min(end, r.at + r.bytes.length);
      for (let k = from; k < to && this.changed === undefined; k++) {
        if (chunk[k - pos] !== r.bytes[k - r.at]) this.changed = `byte ${k} changed between reading the directory and hashing the file`;
      }
    }
    while (this.next < this.readers.length && this.readers[this.next]!.entry.localOffset < end) this.active.push(this.readers[this.next++]!);
    if (this.active.length === 0) return;
    for (const reader of this.active) reader.feed(chunk, pos);
    if (this.active.some((r) => r.done)) this.active = this.active.filter((r) => !r.done);
  }

  finish(): ZipStreamResult {
    if (this.pos !== this.plan.size) this.changed ??= `the file was ${this.plan.size} bytes when its directory was read and ${this.pos} when hashed`;
    const members = this.readers.map((r) => r.result());
    // Members in file order: each must end before the next begins (the directory read cannot see this: local headers vary in length).
    for (let k = 1; k < this.readers.length; k++) {
      const [a, b] = [this.readers[k - 1]!, this.readers[k]!];
      if (a.dataEnd > b.entry.localOffset) this.problems.push(`the members ${JSON.stringify(a.entry.name)} and ${JSON.stringify(b.entry.name)} overlap`);
    }
    return { members, problems: [...this.plan.problems, ...this.problems], changed: this.changed };
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
