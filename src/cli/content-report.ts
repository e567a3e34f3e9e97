// How the commands speak of the content check's verdicts: which ones stop a command, the claim
// `sign` sends, and the words for a file's verdict.
import type { ContentClaim } from '../core/content-claim.ts';
import { ALLOWLIST_TORCH_VERSION, ALLOWLIST_VERSION } from '../core/scan/pickle/allowlist.ts';
import type { ContentReport, ContentVerdict } from '../core/scan/verdict.ts';
import { printableName } from '../core/unicode.ts';

export const CHECKER = 'modelsign-scan';

/** What `sign` refuses and `verify`/`audit` fail on, unless --allow-unsafe-content. */
export function isUnsafeVerdict(verdict: ContentVerdict): boolean {
  return verdict === 'code-capable' || verdict === 'malformed';
}

export interface CheckedFile {
  path: string;
  content?: ContentReport | undefined;
}

export function unsafeFiles<T extends CheckedFile>(files: readonly T[]): (T & { content: ContentReport })[] {
  return files.filter((f): f is T & { content: ContentReport } => f.content !== undefined && isUnsafeVerdict(f.content.verdict));
}

export function contentClaimOf(files: readonly CheckedFile[]): ContentClaim {
  return {
    checker: CHECKER,
    allowlist: ALLOWLIST_VERSION,
    torch: ALLOWLIST_TORCH_VERSION,
    files: files.filter((f) => f.content).map((f) => ({ name: f.path, verdict: f.content!.verdict, ...(f.content!.format ? { format: f.content!.format } : {}) })),
  };
}

/** One line: the verdict, the format and the first reasons (a file's name is never trusted to display as itself). */
export function describeContent(path: string, report: ContentReport): string {
  const reasons = report.findings.slice(0, 3).map((f) => `${f.code}: ${f.message}`);
  const more = report.findings.length > 3 ? ` (and ${report.findings.length - 3} more)` : '';
  return `${report.verdict}  ${printableName(path)}${report.format ? ` (${report.format})` : ''}${reasons.length > 0 ? `: ${reasons.join('; ')}${more}` : ''}`;
}

/** Counts by verdict, for a summary line: "2 data-only, 1 allowlisted-pickle". */
export function verdictCounts(reports: readonly (ContentReport | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const r of reports) if (r) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}
