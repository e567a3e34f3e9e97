// What a model file is, by its content and never by its name: safetensors, a PyTorch zip (every
// pickle member checked), a legacy PyTorch file (its pickles checked), a NumPy array (object
// arrays are pickles), a raw pickle. A file none of these whose name could hold a pickle is
// refused rather than called unknown: a loader given it would unpickle it.
import { judgePickle, scanPickle } from './pickle/vm.ts';
import { checkSafetensors } from './safetensors.ts';
import { malformed, type ContentReport, type ContentVerdict } from './verdict.ts';
import { isZip, readZipDirectory } from './zip.ts';

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

/** One verdict for the file `name` (its path, for the extension) holding `bytes`. */
export function checkContent(name: string, bytes: Uint8Array): ContentReport {
  if (isZip(bytes)) return checkZip(bytes);
  if (startsWith(bytes, LEGACY_TORCH_MAGIC)) return checkLegacyTorch(bytes);
  if (bytes.length > 262 && startsWith(bytes, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) {
    return malformed('pytorch-legacy-tar', 'legacy_tar_refused', 'a tar archive (PyTorch\'s pre-1.6 tar format, which even weights_only loading refuses)');
  }
  if (startsWith(bytes, NPY_MAGIC)) return checkNpy(bytes);
  if (bytes.length >= 9 && bytes[8] === 0x7b) return checkSafetensors(bytes, bytes.length);
  const scan = scanPickle(bytes);
  if (scan.unsafe.length > 0 || (scan.error === undefined && scan.end === bytes.length)) return judgePickle(scan);
  if (scan.error === undefined) return malformed('pickle', 'pickle_trailing_bytes', `bytes after the pickle's STOP at offset ${scan.end}`);
  if (pickleCapable(name)) {
    return malformed('unrecognised', 'unrecognised_content', `none of the formats the checker reads (safetensors, PyTorch zip or legacy, NumPy, pickle), and a ${name.includes('.') ? name.slice(name.lastIndexOf('.')) : 'extensionless'} file can hold a pickle: refused`);
  }
  return { verdict: 'unknown', format: undefined, findings: [] };
}

function checkZip(bytes: Uint8Array): ContentReport {
  // A file that is both a safetensors file and a zip is read as one by one loader, the other by another.
  if (bytes.length >= 9 && bytes[8] === 0x7b && checkSafetensors(bytes, bytes.length).verdict === 'data-only') {
    return malformed('zip', 'polyglot', 'the file is valid safetensors and also begins as a zip archive (a polyglot)');
  }
  const dir = readZipDirectory(bytes);
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
    const data = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    // Every member is sniffed by content: a pickle may hide under any name.
    const looksPickled = entry.name.endsWith('.pkl') || data[0] === 0x80;
    if (!looksPickled) continue;
    if (entry.method !== 0) {
      reports.push(malformed(format, 'zip_compressed_pickle', `the pickle ${JSON.stringify(entry.name)} is compressed (PyTorch stores its pickles uncompressed)`));
      continue;
    }
    const scan = scanPickle(data);
    if (scan.error === undefined && scan.end !== data.length) scan.error = `bytes after the pickle's STOP in ${entry.name}`;
    const report = judgePickle(scan, format);
    reports.push({ ...report, findings: report.findings.map((f) => ({ ...f, message: `${entry.name}: ${f.message}` })) });
  }
  if (reports.length === 0) return { verdict: 'unknown', format, findings: [] };
  return worst(format, reports);
}

function checkLegacyTorch(bytes: Uint8Array): ContentReport {
  // Five pickles in a row: the magic number, the protocol version, system info, the object, the storage keys.
  const reports: ContentReport[] = [];
  let at = 0;
  for (let k = 0; k < 5; k++) {
    const scan = scanPickle(bytes, at);
    reports.push(judgePickle(scan, 'pytorch-legacy'));
    if (scan.error !== undefined) break;
    at = scan.end;
  }
  return worst('pytorch-legacy', reports);
}

function checkNpy(bytes: Uint8Array): ContentReport {
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if ((major !== 1 && major !== 2 && major !== 3) || bytes.length < 12) return malformed('npy', 'npy_header', 'an unknown .npy version');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (headerLength > 65_535 || start + headerLength > bytes.length) return malformed('npy', 'npy_header', 'the .npy header runs past the end');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*(.*?),\s*'fortran_order'/s.exec(header)?.[1];
  if (descr === undefined) return malformed('npy', 'npy_header', 'the .npy header has no descr');
  // An object dtype anywhere (also inside a structured dtype) means the data is a pickle.
  if (!/'\|?O\d*'|[<>|=]O/.test(descr)) return { verdict: 'data-only', format: 'npy', findings: [] };
  const scan = scanPickle(bytes, start + headerLength);
  return judgePickle(scan, 'npy');
}
