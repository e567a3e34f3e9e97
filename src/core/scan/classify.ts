// What a model file is, by its content and never by its name: safetensors, a PyTorch zip (every
// pickle member checked), a legacy PyTorch file (its pickles checked), a NumPy array (object
// arrays are pickles), a raw pickle. A file none of these whose name could hold a pickle is
// refused rather than called unknown: a loader given it would unpickle it.
import { concatBytes } from '../bytes.ts';
import { judgePickle, PickleReader, scanPickle, type PickleScan } from './pickle/vm.ts';
import { SafetensorsCheck } from './safetensors.ts';
import { malformed, type ContentReport, type ContentVerdict } from './verdict.ts';
import { isZip, readZipDirectory } from './zip.ts';
import { ZipWalk } from './zip-walk.ts';

/** Extensions a pickle hides behind (and Hugging Face's extensionless blobs). */
export const PICKLE_CAPABLE_EXTENSIONS = ['.ckpt', '.pt', '.pth', '.bin', '.pkl', '.joblib', '.npy'];

const LEGACY_TORCH_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const SEVERITY: Record<ContentVerdict, number> = { 'data-only': 0, 'allowlisted-pickle': 1, unknown: 2, malformed: 3, 'code-capable': 4 };

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) => prefix.every((b, k) => bytes[at + k] === b);

/** The worse of several reports (code-capable over malformed over unknown...), findings of all. */
function worst(format: string, reports: ContentReport[]): ContentReport {
  const verdict = reports.reduce<ContentVerdict>((v, r) => (SEVERITY[r.verdict] > SEVERITY[v] ? r.verdict : v), 'data-only');
  return { verdict, format, findings: reports.flatMap((r) => r.findings) };
}

function pickleCapable(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 || PICKLE_CAPABLE_EXTENSIONS.includes(base.slice(dot).toLowerCase());
}

/** Bytes enough to tell every format apart (the tar magic sits at 257). */
const SNIFF = 265;

type Mode =
  | { kind: 'sniff' }
  | { kind: 'zip'; walk: ZipWalk; safetensors: SafetensorsCheck | undefined }
  | { kind: 'legacy'; scans: PickleScan[]; reader: PickleReader }
  | { kind: 'npy'; header: Uint8Array; reader: PickleReader | undefined; report: ContentReport | undefined }
  | { kind: 'safetensors'; check: SafetensorsCheck }
  | { kind: 'pickle'; reader: PickleReader; trailing: boolean }
  | { kind: 'decided'; report: ContentReport };

/**
 * The content check of one file over the chunks hashing reads, in one pass and bounded memory:
 * only headers, pickles' small arguments and a zip's directory are kept. Chunks are copied
 * where kept, so the caller may reuse its buffer. `name` is the file's path (for its extension).
 */
export class ContentCheck {
  private mode: Mode = { kind: 'sniff' };
  private head: Uint8Array = new Uint8Array(0);
  private size = 0;

  constructor(private readonly name: string) {}

  push(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.mode.kind === 'sniff') {
      const take = Math.min(SNIFF - this.head.length, chunk.length);
      this.head = concatBytes(this.head, chunk.subarray(0, take));
      if (this.head.length < SNIFF) return;
      this.choose();
      this.feed(this.head);
      this.feed(chunk.subarray(take));
      return;
    }
    this.feed(chunk);
  }

  finish(): ContentReport {
    if (this.mode.kind === 'sniff') {
      this.choose();
      this.feed(this.head);
    }
    const mode = this.mode;
    switch (mode.kind) {
      case 'decided':
        return mode.report;
      case 'safetensors':
        return mode.check.finish(this.size);
      case 'zip':
        return this.finishZip(mode.walk, mode.safetensors);
      case 'legacy':
        // The reader still open (the file ended inside a pickle) has not been counted yet.
        if (!mode.scans.includes(mode.reader.finish())) mode.scans.push(mode.reader.finish());
        return worst('pytorch-legacy', mode.scans.map((scan) => judgePickle(scan, 'pytorch-legacy')));
      case 'npy':
        if (mode.report) return mode.report;
        if (mode.reader) return judgePickle(mode.reader.finish(), 'npy');
        return malformed('npy', 'npy_header', 'the .npy header runs past the end');
      case 'pickle':
        return this.finishPickle(mode.reader.finish(), mode.trailing);
      default:
        throw new Error('unreachable');
    }
  }

  private choose(): void {
    const bytes = this.head;
    if (isZip(bytes)) {
      // A file that is both a safetensors file and a zip is read as one by one loader, the other by another.
      this.mode = { kind: 'zip', walk: new ZipWalk(), safetensors: bytes.length >= 9 && bytes[8] === 0x7b ? new SafetensorsCheck() : undefined };
    } else if (startsWith(bytes, LEGACY_TORCH_MAGIC)) {
      this.mode = { kind: 'legacy', scans: [], reader: new PickleReader(0) };
    } else if (bytes.length > 262 && startsWith(bytes, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) {
      this.mode = { kind: 'decided', report: malformed('pytorch-legacy-tar', 'legacy_tar_refused', "a tar archive (PyTorch's pre-1.6 tar format, which even weights_only loading refuses)") };
    } else if (startsWith(bytes, NPY_MAGIC)) {
      this.mode = { kind: 'npy', header: new Uint8Array(0), reader: undefined, report: undefined };
    } else if (bytes.length >= 9 && bytes[8] === 0x7b) {
      this.mode = { kind: 'safetensors', check: new SafetensorsCheck() };
    } else {
      this.mode = { kind: 'pickle', reader: new PickleReader(0), trailing: false };
    }
  }

  private feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const mode = this.mode;
    switch (mode.kind) {
      case 'zip':
        mode.walk.push(chunk);
        mode.safetensors?.push(chunk);
        return;
      case 'safetensors':
        mode.check.push(chunk);
        return;
      case 'pickle': {
        if (mode.reader.done) {
          mode.trailing = true;
          return;
        }
        const used = mode.reader.push(chunk);
        if (used < chunk.length) mode.trailing = true;
        return;
      }
      case 'legacy': {
        // Five pickles in a row (magic number, protocol version, system info, the object, the storage keys); then raw storage bytes.
        let k = 0;
        while (k < chunk.length && mode.scans.length < 5) {
          k += mode.reader.push(chunk.subarray(k));
          if (!mode.reader.done) return;
          const scan = mode.reader.finish();
          mode.scans.push(scan);
          if (scan.error !== undefined) return;
          if (mode.scans.length < 5) mode.reader = new PickleReader(scan.end);
        }
        return;
      }
      case 'npy':
        this.feedNpy(mode, chunk);
        return;
      default:
        return;
    }
  }

  private feedNpy(mode: Extract<Mode, { kind: 'npy' }>, chunk: Uint8Array): void {
    if (mode.reader) {
      if (!mode.reader.done) mode.reader.push(chunk);
      return;
    }
    if (mode.report) return;
    const wanted = () => {
      const h = mode.header;
      if (h.length < 12) return 12;
      const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
      return h[6] === 1 ? 10 + v.getUint16(8, true) : 12 + v.getUint32(8, true);
    };
    let k = 0;
    while (k < chunk.length) {
      const want = wanted();
      if (want > 12 + 65_535) {
        mode.report = malformed('npy', 'npy_header', 'the .npy header is longer than 65,535 bytes');
        return;
      }
      if (mode.header.length >= want) break;
      const take = Math.min(want - mode.header.length, chunk.length - k);
      mode.header = concatBytes(mode.header, chunk.subarray(k, k + take));
      k += take;
      if (mode.header.length >= 12 && mode.header.length >= wanted()) break;
    }
    if (mode.header.length < 12 || mode.header.length < wanted()) return;
    const verdict = npyHeader(mode.header);
    if (verdict === 'object') {
      mode.reader = new PickleReader(mode.header.length);
      mode.reader.push(chunk.subarray(k));
    } else mode.report = verdict;
  }

  private finishPickle(scan: PickleScan, trailing: boolean): ContentReport {
    const clean = scan.error === undefined && !trailing;
    if (pickleCapable(this.name)) {
      // A loader will unpickle this name: whatever was read before a broken tail is judged.
      if (scan.unsafe.length > 0 || clean) return judgePickle(scan);
      if (scan.error === undefined) return malformed('pickle', 'pickle_trailing_bytes', `bytes after the pickle's STOP at offset ${scan.end}`);
      return malformed('unrecognised', 'unrecognised_content', `none of the formats the checker reads (safetensors, PyTorch zip or legacy, NumPy, pickle), and a ${extensionOf(this.name)} file can hold a pickle: refused`);
    }
    // Under any other name only a pickle that reads cleanly to the end of the file is one: text
    // that happens to start with a GLOBAL or INST byte ("import ...") is not called code.
    if (clean) return judgePickle(scan);
    return { verdict: 'unknown', format: undefined, findings: [] };
  }

  private finishZip(walk: ZipWalk, safetensors: SafetensorsCheck | undefined): ContentReport {
    const source = walk.finish();
    if (safetensors && safetensors.finish(this.size).verdict === 'data-only') {
      return malformed('zip', 'polyglot', 'the file is valid safetensors and also begins as a zip archive (a polyglot)');
    }
    if (walk.problem !== undefined) return malformed('zip', 'zip_malformed', walk.problem);
    const dir = readZipDirectory(source);
    if (dir.error !== undefined) return malformed('zip', 'zip_malformed', dir.error);
    // Problems do not stop the scan: a payload in any member is still named (code-capable wins).
    const problems = dir.problems.map((p) => malformed('zip', 'zip_malformed', p));
    const tops = new Set(dir.entries.map((e) => (e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/')) : '')));
    const pickles = dir.entries.filter((e) => e.name.endsWith('.pkl'));
    const isTorch = pickles.some((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    const format = isTorch ? 'pytorch-zip' : 'zip';
    const reports: ContentReport[] = [...problems];
    if (isTorch && (tops.size !== 1 || tops.has(''))) reports.push(malformed(format, 'zip_layout', 'a PyTorch archive must keep every member under one top folder'));
    if (pickles.filter((e) => e.name.endsWith('/data.pkl')).length > 1) reports.push(malformed(format, 'zip_layout', 'more than one data.pkl'));
    for (const entry of dir.entries) {
      const isPkl = entry.name.endsWith('.pkl');
      if (isPkl && entry.method !== 0) {
        reports.push(malformed(format, 'zip_compressed_pickle', `the pickle ${JSON.stringify(entry.name)} is compressed (PyTorch stores its pickles uncompressed)`));
        continue;
      }
      let pickle = walk.members.get(entry.dataOffset)?.pickle;
      if (!pickle && entry.method === 0) {
        // Not read in order (sizes only in a descriptor): read from the kept bytes when they hold it.
        const data = source.read(entry.dataOffset, entry.compressedSize);
        if (data && (isPkl || data[0] === 0x80)) {
          const scan = scanPickle(data);
          pickle = { scan, trailing: scan.error === undefined && scan.end !== data.length };
        } else if (!data && isPkl) {
          reports.push(malformed(format, 'zip_malformed', `the pickle ${JSON.stringify(entry.name)} was not reached reading the archive in order`));
        }
      }
      if (!pickle) continue;
      // Any member that reads as a pickle with an unsafe global is named; tensor bytes that merely
      // start with 0x80 are not a pickle PyTorch would load, so their parse errors are not judged.
      if (!isPkl && pickle.scan.unsafe.length === 0) continue;
      const scan = pickle.trailing && pickle.scan.error === undefined ? { ...pickle.scan, error: `bytes after the pickle's STOP in ${entry.name}` } : pickle.scan;
      const report = judgePickle(scan, format);
      reports.push({ ...report, findings: report.findings.map((f) => ({ ...f, message: `${entry.name}: ${f.message}` })) });
    }
    if (reports.length === 0) return { verdict: 'unknown', format, findings: [] };
    return worst(format, reports);
  }
}

/** One verdict for the file `name` (its path, for the extension) holding `bytes`. */
export function checkContent(name: string, bytes: Uint8Array): ContentReport {
  const check = new ContentCheck(name);
  check.push(bytes);
  return check.finish();
}

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.lastIndexOf('.') > 0 ? base.slice(base.lastIndexOf('.')) : 'extensionless';
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
