// What the content check says of one file: one verdict with a stable code, and the reasons.
// Shared by every format checker (safetensors, pickles, archives) and by whoever reports them
// (the CLI, the browser page).

export const CONTENT_VERDICTS = ['data-only', 'allowlisted-pickle', 'code-capable', 'malformed', 'unknown'] as const;
export type ContentVerdict = (typeof CONTENT_VERDICTS)[number];

export interface ContentFinding {
  /** Stable, e.g. `safetensors_offsets_not_contiguous`. */
  code: string;
  /** What is wrong, in words, naming the tensor or global at fault. */
  message: string;
}

export interface ContentReport {
  verdict: ContentVerdict;
  /** The format the file was read as (`safetensors`, `pickle`, `pytorch-zip`...), or undefined when none. */
  format: string | undefined;
  findings: ContentFinding[];
}

export function malformed(format: string, code: string, message: string): ContentReport {
  return { verdict: 'malformed', format, findings: [{ code, message }] };
}
