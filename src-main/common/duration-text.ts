// How the verdicts and the compare table write a length of time: the one place that picks its
// unit and precision, so the same duration reads the same everywhere.

import type { Lang } from '../api.ts';

const UNITS: Record<Lang, { ms: string; s: string }> = {
  en: { ms: ' ms', s: ' s' },
  zh: { ms: ' 毫秒', s: ' 秒' },
};

/**
 * `ms` milliseconds in words: under 0.1 s in ms (one decimal under 10 ms, where lock waits live),
 * from there on in seconds with two decimals, as the CLI's lifetimes read. Without `lang` the
 * units are the SI symbols every language reads (`ms`, `s`).
 */
export function formatDuration(ms: number, lang: Lang = 'en'): string {
  const u = UNITS[lang];
  const v = Math.max(0, ms);
  if (v === 0) return `0${u.ms}`;
  if (v < 9.95) return `${v.toFixed(1)}${u.ms}`;
  if (v < 99.5) return `${Math.round(v)}${u.ms}`;
  return `${(v / 1000).toFixed(2)}${u.s}`;
}
