// Pure display helpers: numbers, sizes, durations and values the way a Python learner expects to
// read them. No DOM, no state: unit-tested in test/unit/renderer-ui.

import { signalOfExitcode as signalName } from '../../src-main/common/exitcode.ts';

/** Bytes in binary units, one decimal from KiB up ("56.8 MiB"); `—` for null. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  // 1023.96 would round to "1024.0 KiB": move to the next unit instead.
  if (v >= 1023.95 && u < units.length - 1) return `1.0 ${units[u + 1]}`;
  return `${v.toFixed(1)} ${units[u]}`;
}

/** CPU percent of one core, one decimal ("43.9%"); `—` for null. */
export function formatCpu(cpu: number | null | undefined): string {
  if (cpu === null || cpu === undefined || !Number.isFinite(cpu)) return '—';
  return `${cpu.toFixed(1)}%`;
}

/** CPU time in seconds as htop's TIME+ reads: "0:01.23" (m:ss.cc), "1:02:03" past an hour; `—` for null. */
export function formatCpuTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const cs = Math.round(seconds * 100);
  const h = Math.floor(cs / 360_000);
  const m = Math.floor((cs % 360_000) / 6000);
  const s = Math.floor((cs % 6000) / 100);
  const c = cs % 100;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return `${m}:${String(s).padStart(2, '0')}.${String(c).padStart(2, '0')}`;
}

/**
 * A duration in ms for people: "840 ms", "1.24 s", "12.3 s", "2:05.1" (minutes), "1:02:05" (hours).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) s = `${Math.round(a)} ms`;
  else if (a < 10_000) s = `${(a / 1000).toFixed(2)} s`;
  else if (a < 60_000) s = `${(a / 1000).toFixed(1)} s`;
  else if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    const sec = (a - m * 60_000) / 1000;
    s = `${m}:${sec.toFixed(1).padStart(4, '0')}`;
  } else {
    const h = Math.floor(a / 3_600_000);
    const m = Math.floor((a - h * 3_600_000) / 60_000);
    const sec = Math.floor((a - h * 3_600_000 - m * 60_000) / 1000);
    s = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  }
  return neg ? `-${s}` : s;
}

/** A profile's time: tenths of a ms below 10 ms (a few samples), else as formatDuration. */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return Math.abs(ms) < 10 ? `${ms.toFixed(1)} ms` : formatDuration(ms);
}

/** A run clock: "00:03.2", "12:40.0", "1:02:05.3"; fixed width so it does not jitter while ticking. */
export function formatClock(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '00:00.0';
  const tenths = Math.floor(ms / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = Math.floor((tenths % 600) / 10);
  const d = tenths % 10;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${d}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** A run-relative timestamp for the console gutter: seconds with milliseconds ("12.345"). */
export function formatOffset(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  return (ms / 1000).toFixed(3);
}

/**
 * A JavaScript value as Python's repr() would print it: None, True, False, 'text', [1, 2].
 * The results the engine sends are already Python text; this is for values the page itself shows,
 * such as an exitcode that is still None.
 */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return String(v);
  }
  if (typeof v === 'string') {
    // Python prefers single quotes and switches to double quotes when the text has a single quote.
    if (v.includes("'") && !v.includes('"')) return `"${v}"`;
    return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return String(v);
}

/**
 * Python's exitcode -N means "killed by signal N": the signal's name (the common tier's table),
 * `signal N` for one it does not name, or null for other codes.
 */
export function signalOfExitcode(exitcode: number | null | undefined): string | null {
  if (exitcode === null || exitcode === undefined || exitcode >= 0) return null;
  return signalName(exitcode) ?? `signal ${-exitcode}`;
}

/** The last path segment of a scenario path, for either separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export { clampInterval } from '../../src-main/common/interval.ts';

/**
 * Parses the join timeout a person typed: empty means "no timeout" (wait, as join() does);
 * otherwise seconds >= 0. Returns undefined for "none" and null when the text is not a number.
 */
export function parseTimeout(text: string): number | undefined | null {
  const s = text.trim();
  if (s === '') return undefined;
  const v = Number(s.replace(',', '.'));
  if (!Number.isFinite(v) || v < 0 || v > 86_400) return null;
  return v;
}

/** A wall-clock time for the history list: same day shows the time, else the date too. */
export function formatStartedAt(iso: string, locale: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === now.toDateString();
  const opts: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale, opts).format(d);
}
