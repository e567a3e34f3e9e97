// Durations as operators write them: `90s`, `15m`, `12h`, `30d`.
import { ModelsignError } from './errors.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const MAX_DURATION_MS = 3650 * UNIT_MS.d;

export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms > 0 && ms <= MAX_DURATION_MS)) {
    throw new ModelsignError('invalid_duration', `duration ${JSON.stringify(text)} must be a positive whole number followed by s, m, h or d, at most 3650d`);
  }
  return ms;
}
