// The sampling interval: one rule for every place that takes one (the contract's validators, the
// sampler, the CLI's --interval, the settings file, the window's field).

/** Shortest interval, ms: below this the sampler's own cost starts to show in what it measures. */
export const MIN_INTERVAL_MS = 50;
/** Longest interval, ms. */
export const MAX_INTERVAL_MS = 10_000;
/**
 * The default, ms. One tick of 200 processes costs the monitor about 2.3 ms of CPU
 * (bench/sampler-cost.mjs), so ten a second stay under 3% of one core while a short run still
 * gets a curve rather than two points.
 */
export const DEFAULT_INTERVAL_MS = 100;

export function isInterval(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= MIN_INTERVAL_MS && (v as number) <= MAX_INTERVAL_MS;
}

/** Why `v` is not an interval, in one line, or null when it is one. */
export function intervalProblem(v: unknown): string | null {
  if (isInterval(v)) return null;
  const shown = typeof v === 'string' ? JSON.stringify(v) : String(v).replace(/\s+/g, ' ');
  return `interval must be an integer between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS} ms, got ${shown}`;
}

/** The nearest interval to `ms` (a person's typing, say); the default for something not a number. */
export function clampInterval(ms: number): number {
  if (!Number.isFinite(ms)) return DEFAULT_INTERVAL_MS;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));
}
