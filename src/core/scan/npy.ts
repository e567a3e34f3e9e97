// A NumPy .npy array read as a stream: the magic and header (kept, at most 64 KiB, copied), then
// either numbers (not read: data, whatever they are) or, for an object dtype anywhere in the
// header, a pickle (numpy 2 writes object arrays as `pickle.dump(array, protocol=4)`), which
// `np.load(allow_pickle=True)` unpickles. Used for .npy files and for .npz members.
import { concatBytes } from '../bytes.ts';
import { judgePickle, PickleReader } from './pickle/vm.ts';
import { malformed, type ContentReport } from './verdict.ts';

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const MAX_HEADER = 65_535;

export class NpyCheck {
  private header: Uint8Array = new Uint8Array(0);
  private reader: PickleReader | undefined;
  private report: ContentReport | undefined;

  /** `base`: the offset of the first byte in the file, for messages. */
  constructor(private readonly base = 0) {}

  /** Whether more bytes can change the verdict (false once the header says numbers). */
  get wantsMore(): boolean {
    return this.report === undefined && !(this.reader?.done ?? false);
  }

  push(chunk: Uint8Array): void {
    if (this.report) return;
    if (this.reader) {
      if (!this.reader.done) this.reader.push(chunk);
      return;
    }
    let k = 0;
    while (k < chunk.length) {
      const want = this.wanted();
      if (want > 12 + MAX_HEADER) {
        this.report = malformed('npy', 'npy_header', `the .npy header is longer than ${MAX_HEADER} bytes`);
        return;
      }
      if (this.header.length >= want) break;
      const take = Math.min(want - this.header.length, chunk.length - k);
      this.header = concatBytes(this.header, chunk.subarray(k, k + take)); // a copy: the chunk may be reused
      k += take;
    }
    if (this.header.length < 12 || this.header.length < this.wanted()) return;
    const verdict = npyHeader(this.header);
    if (verdict !== 'object') {
      this.report = verdict;
      return;
    }
    this.reader = new PickleReader(this.base + this.header.length);
    this.reader.push(chunk.subarray(k));
  }

  finish(): ContentReport {
    if (this.report) return this.report;
    if (this.reader) return judgePickle(this.reader.finish(), 'npy');
    return malformed('npy', 'npy_header', 'the .npy header runs past the end');
  }

  private wanted(): number {
    const h = this.header;
    if (h.length < 12) return 12;
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    return h[6] === 1 ? 10 + v.getUint16(8, true) : 12 + v.getUint32(8, true);
  }
}

/** The verdict on a .npy header, or 'object' when the data that follows is a pickle. */
function npyHeader(bytes: Uint8Array): ContentReport | 'object' {
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) return malformed('npy', 'npy_header', 'an unknown .npy version');
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start));
  const descr = /'descr':\s*(.*?),\s*'fortran_order'/s.exec(header)?.[1];
  if (descr === undefined) return malformed('npy', 'npy_header', 'the .npy header has no descr');
  // An object dtype anywhere (also inside a structured dtype) means the data is a pickle.
  if (!/'\|?O\d*'|[<>|=]O/.test(descr)) return { verdict: 'data-only', format: 'npy', findings: [] };
  return 'object';
}
