// What a model file is, by its content and never by its name: safetensors, a zip (a PyTorch
// archive or a NumPy .npz: every pickle and .npy member checked), a legacy PyTorch file (its
// pickles checked), a NumPy array (object arrays are pickles), a raw pickle. A file none of these
// whose name a loader would unpickle is refused rather than called unknown.
//
// A file is read twice over: a zip's end records and central directory first (the caller reads
// the ranges `wanted()` names, by position), then every byte once, in order, as hashing reads it.
// Anything kept from a chunk is copied when kept, so the verdict is the same whether the file
// comes whole, in chunks, or through one buffer the caller reuses for every read.
import { concatBytes, copyBytes } from '../bytes.ts';
import { NpyCheck, NPY_MAGIC } from './npy.ts';
import { judgePickle, PickleReader, type PickleScan } from './pickle/vm.ts';
import { SafetensorsCheck } from './safetensors.ts';
import { malformed, type ContentFinding, type ContentReport, type ContentVerdict } from './verdict.ts';
import { isZip, ZipPreread, type ByteRange, type ZipPlan } from './zip.ts';
import { ZipStream, type MemberResult } from './zip-stream.ts';

export type { ByteRange };

/**
 * Names a loader unpickles (PyTorch, joblib, NumPy, plain pickle), and extensionless ones (a
 * Hugging Face cache blob is one: a loader that follows the link sees no extension). Under these
 * a pickle followed by other bytes is judged as the pickle, and bytes no format reads are refused.
 */
export const PICKLE_CAPABLE_EXTENSIONS = ['.ckpt', '.pt', '.pth', '.pth.tar', '.bin', '.pkl', '.pickle', '.joblib', '.npy', '.npz'];

const LEGACY_TORCH_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const SEVERITY: Record<ContentVerdict, number> = { 'data-only': 0, 'allowlisted-pickle': 1, unknown: 2, malformed: 3, 'code-capable': 4 };
/** How much of a file that is not a pickle is looked at to call it text. */
const TEXT_SNIFF = 64 * 1024;

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) => prefix.every((b, k) => bytes[at + k] === b);

/** The worse of several reports (code-capable over malformed over unknown...), findings of all. */
function worst(format: string, reports: ContentReport[]): ContentReport {
  const verdict = reports.reduce<ContentVerdict>((v, r) => (SEVERITY[r.verdict] > SEVERITY[v] ? r.verdict : v), 'data-only');
  return { verdict, format, findings: reports.flatMap((r) => r.findings) };
}

function isPickleCapableName(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  return dot <= 0 || PICKLE_CAPABLE_EXTENSIONS.some((ext) => base.endsWith(ext));
}

/** Bytes enough to tell every format apart (the tar magic sits at 257). */
const SNIFF = 265;

/** Whether the first bytes of a file are UTF-8 text (LICENSE, a README with no extension). */
class TextSniff {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private seen = 0;
  text = true;

  push(bytes: Uint8Array): void {
    if (!this.text || this.seen >= TEXT_SNIFF) return;
    const part = bytes.subarray(0, TEXT_SNIFF - this.seen);
    this.seen += part.length;
    for (const b of part) {
      // Control characters other than tab, newline, form feed and carriage return are not text.
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) {
        this.text = false;
        return;
      }
    }
    try {
      this.decoder.decode(part, { stream: this.seen < TEXT_SNIFF });
    } catch {
      this.text = false;
    }
  }
}

type Mode =
  | { kind: 'sniff' }
  | { kind: 'zip'; stream: ZipStream; plan: ZipPlan; safetensors: SafetensorsCheck | undefined }
  | { kind: 'legacy'; scans: PickleScan[]; reader: PickleReader }
  | { kind: 'npy'; check: NpyCheck }
  | { kind: 'safetensors'; check: SafetensorsCheck }
  | { kind: 'pickle'; reader: PickleReader; trailing: boolean; text: TextSniff }
  | { kind: 'decided'; report: ContentReport; safetensors?: SafetensorsCheck };

/**
 * The content check of one file in one hashing pass, in bounded memory. Protocol: while
 * `wanted()` names a range, read it (by position) and `provide()` it; then `push()` every byte of
 * the file in order, in chunks of any size; then `finish()`. `name` is the file's path (for its
 * extension), `size` its size when opened: a zip's directory is read at that size, and a zip
 * whose hashed length or bytes differ from what was read ahead is refused.
 */
export class ContentCheck {
  private mode: Mode = { kind: 'sniff' };
  private head: Uint8Array = new Uint8Array(0);
  private hashed = 0;
  private headRead: Uint8Array | undefined;
  private preread: ZipPreread | undefined;

  constructor(
    private readonly name: string,
    private readonly size: number,
  ) {
    if (size < 4) this.headRead = new Uint8Array(0);
  }

  /** The next range to read ahead of the stream, or undefined when streaming may start. */
  wanted(): ByteRange | undefined {
    if (!this.headRead) return { at: 0, length: 4 };
    return this.preread?.wanted();
  }

  provide(bytes: Uint8Array): void {
    if (!this.headRead) {
      this.headRead = copyBytes(bytes);
      if (isZip(this.headRead)) this.preread = new ZipPreread(this.size);
      return;
    }
    if (!this.preread?.wanted()) throw new Error('ContentCheck: nothing was wanted');
    this.preread.provide(bytes);
  }

  push(chunk: Uint8Array): void {
    if (this.hashed === 0 && this.wanted()) throw new Error('ContentCheck: read the ranges wanted() names before pushing the file');
    this.hashed += chunk.length;
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
      if (this.wanted()) throw new Error('ContentCheck: read the ranges wanted() names before finishing');
      this.choose();
      this.feed(this.head);
    }
    const mode = this.mode;
    switch (mode.kind) {
      case 'decided':
        if (mode.safetensors && mode.safetensors.finish(this.hashed).verdict === 'data-only') return polyglot();
        return mode.report;
      case 'safetensors':
        return mode.check.finish(this.hashed);
      case 'zip':
        return this.finishZip(mode.stream, mode.plan, mode.safetensors);
      case 'legacy':
        // The reader still open (the file ended inside a pickle) has not been counted yet.
        if (!mode.scans.includes(mode.reader.finish())) mode.scans.push(mode.reader.finish());
        return worst('pytorch-legacy', mode.scans.map((scan) => judgePickle(scan, 'pytorch-legacy')));
      case 'npy':
        return mode.check.finish();
      case 'pickle':
        return this.finishPickle(mode.reader.finish(), mode.trailing, mode.text.text);
      default:
        throw new Error('unreachable');
    }
  }

  private choose(): void {
    const bytes = this.head;
    // A file that is both a safetensors file and a zip is read as one by one loader, the other by another.
    const alsoSafetensors = () => (bytes.length >= 9 && bytes[8] === 0x7b ? new SafetensorsCheck() : undefined);
    if (isZip(bytes) || this.preread) {
      const preread = this.preread;
      if (!preread || !isZip(bytes)) {
        this.mode = { kind: 'decided', report: malformed('zip', 'zip_changed_while_read', 'the file began otherwise when its first bytes were read ahead than when it was hashed') };
      } else if (preread.plan) {
        this.mode = { kind: 'zip', stream: new ZipStream(preread.plan, preread.ranges), plan: preread.plan, safetensors: alsoSafetensors() };
      } else {
        this.mode = { kind: 'decided', report: malformed('zip', 'zip_malformed', preread.error ?? 'the directory was not read'), safetensors: alsoSafetensors() };
      }
    } else if (startsWith(bytes, LEGACY_TORCH_MAGIC)) {
      this.mode = { kind: 'legacy', scans: [], reader: new PickleReader(0) };
    } else if (bytes.length > 262 && startsWith(bytes, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) {
      this.mode = { kind: 'decided', report: malformed('pytorch-legacy-tar', 'legacy_tar_refused', "a tar archive (PyTorch's pre-1.6 tar format, which even weights_only loading refuses)") };
    } else if (startsWith(bytes, NPY_MAGIC)) {
      this.mode = { kind: 'npy', check: new NpyCheck(0) };
    } else if (bytes.length >= 9 && bytes[8] === 0x7b) {
      this.mode = { kind: 'safetensors', check: new SafetensorsCheck() };
    } else {
      this.mode = { kind: 'pickle', reader: new PickleReader(0), trailing: false, text: new TextSniff() };
    }
  }

  private feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const mode = this.mode;
    switch (mode.kind) {
      case 'zip':
        mode.stream.push(chunk);
        mode.safetensors?.push(chunk);
        return;
      case 'decided':
        mode.safetensors?.push(chunk);
        return;
      case 'safetensors':
        mode.check.push(chunk);
        return;
      case 'pickle': {
        mode.text.push(chunk);
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
        mode.check.push(chunk);
        return;
      default:
        return;
    }
  }

  /**
   * A raw pickle. An unsafe global is named under any name once the pickle reads to its STOP
   * (trailing bytes or not), and under a name a loader unpickles even when it breaks later (the
   * loader has run it by then). Under such a name a pickle followed by other bytes is judged as
   * the pickle (`pickle.load` ignores what follows), the trailing bytes a finding. Under any other
   * name, a pickle with no unsafe global followed by other bytes is not called one (a README
   * beginning "N.B." is a valid pickle followed by text), nor is what does not read to a STOP.
   */
  private finishPickle(scan: PickleScan, trailing: boolean, text: boolean): ContentReport {
    const capable = isPickleCapableName(this.name);
    const stopped = scan.error === undefined;
    const trailingFinding: ContentFinding[] = trailing && stopped ? [{ code: 'pickle_trailing_bytes', message: `bytes after the pickle's STOP at offset ${scan.end}, which a loader ignores` }] : [];
    const judged = () => {
      const report = judgePickle(scan);
      return { ...report, findings: [...report.findings, ...trailingFinding] };
    };
    if (scan.unsafe.length > 0 && (capable || stopped)) return judged();
    if (stopped && (capable || !trailing)) return judged();
    if (stopped && scan.globals.length > 0) return judged();
    if (!capable || stopped) return { verdict: 'unknown', format: undefined, findings: [] };
    // A text file (LICENSE, an extensionless README) is not a pickle: unpickling it fails before it imports anything.
    if (text) return { verdict: 'unknown', format: 'text', findings: [] };
    return malformed('unrecognised', 'unrecognised_content', `none of the formats the checker reads (safetensors, PyTorch zip or legacy, NumPy, pickle), and a ${extensionOf(this.name)} file can hold a pickle: refused`);
  }

  private finishZip(stream: ZipStream, plan: ZipPlan, safetensors: SafetensorsCheck | undefined): ContentReport {
    const result = stream.finish();
    if (safetensors && safetensors.finish(this.hashed).verdict === 'data-only') return polyglot();
    if (result.changed !== undefined) return malformed('zip', 'zip_changed_while_read', `${result.changed}: the file changed while it was read`);
    const entries = plan.entries;
    const isTorch = entries.some((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    const isNpz = !isTorch && result.members.length > 0 && result.members.every((m) => m.npy !== undefined);
    const format = isTorch ? 'pytorch-zip' : isNpz ? 'npz' : 'zip';
    // Problems do not stop the scan: a payload in any member is still named (code-capable wins).
    const reports: ContentReport[] = result.problems.map((p) => malformed(format, 'zip_malformed', p));
    const tops = new Set(entries.map((e) => (e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/')) : '')));
    if (isTorch && (tops.size !== 1 || tops.has(''))) reports.push(malformed(format, 'zip_layout', 'a PyTorch archive must keep every member under one top folder'));
    if (entries.filter((e) => e.name.endsWith('/data.pkl')).length > 1) reports.push(malformed(format, 'zip_layout', 'more than one data.pkl'));
    let unjudged = false;
    for (const member of result.members) {
      const report = memberReport(member, format);
      if (report) reports.push(report);
      else unjudged = true;
    }
    // A zip that is neither a PyTorch archive nor all arrays holds members no check reads.
    if (!isTorch && unjudged) reports.push({ verdict: 'unknown', format, findings: [] });
    if (reports.length === 0) return { verdict: isNpz ? 'data-only' : 'unknown', format, findings: [] };
    return worst(format, reports);
  }
}

/**
 * The verdict on one zip member, or undefined for data no check reads. A `.pkl` member is judged
 * as a pickle; any other member that reads to a STOP as a pickle with an unsafe global is named
 * (tensor bytes that merely start with PROTO and break are not a pickle anything loads); a .npy
 * member is judged as an array. A compressed pickle (PyTorch stores its pickles) is refused, and
 * still named code-capable if it imports something unsafe.
 */
function memberReport(member: MemberResult, format: string): ContentReport | undefined {
  const { entry } = member;
  const compressed = entry.method !== 0;
  const prefix = (report: ContentReport): ContentReport => ({ ...report, findings: report.findings.map((f) => ({ ...f, message: `${entry.name}: ${f.message}` })) });
  const compressedPickle = () => malformed(format, 'zip_compressed_pickle', `${entry.name}: the pickle is compressed (PyTorch stores its pickles uncompressed; a compressed one is refused)`);
  if (member.pickle) {
    const { scan, trailing } = member.pickle;
    const isPkl = entry.name.endsWith('.pkl');
    const stopped = scan.error === undefined;
    if (!isPkl && !(stopped && scan.unsafe.length > 0)) return undefined;
    const judged = judgePickle(scan, format);
    const findings = trailing && stopped ? [...judged.findings, { code: 'pickle_trailing_bytes', message: `bytes after the pickle's STOP, which a loader ignores` }] : judged.findings;
    const report = prefix({ ...judged, findings });
    if (compressed && report.verdict !== 'code-capable') return compressedPickle();
    return compressed ? worst(format, [report, compressedPickle()]) : report;
  }
  if (member.npy) {
    const report = prefix({ ...member.npy, format });
    // An object array is a pickle: compressed, it is refused like any compressed pickle.
    if (compressed && report.verdict === 'allowlisted-pickle') return compressedPickle();
    if (compressed && report.verdict === 'code-capable') return worst(format, [report, compressedPickle()]);
    return report;
  }
  if (compressed && entry.name.endsWith('.pkl')) return compressedPickle();
  return undefined;
}

function polyglot(): ContentReport {
  return malformed('zip', 'polyglot', 'the file is valid safetensors and also begins as a zip archive (a polyglot)');
}

/**
 * Reads the ranges `check.wanted()` names with `readAt` (a file read by position), then returns.
 * For callers that can read synchronously (the CLI); the browser does the same with `await`.
 */
export function readAhead(check: ContentCheck, readAt: (range: ByteRange) => Uint8Array): void {
  for (let range = check.wanted(); range; range = check.wanted()) check.provide(readAt(range));
}

/** One verdict for the file `name` (its path, for the extension) holding `bytes`. */
export function checkContent(name: string, bytes: Uint8Array): ContentReport {
  const check = new ContentCheck(name, bytes.length);
  readAhead(check, ({ at, length }) => bytes.subarray(at, at + length));
  check.push(bytes);
  return check.finish();
}

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.lastIndexOf('.') > 0 ? base.slice(base.lastIndexOf('.')) : 'extensionless';
}
