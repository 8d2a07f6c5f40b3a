// The Stacks tab's pure part: when stacks can be captured, what an answer holds once checked, the
// order and colors of its processes, the words for a process that cannot say. No DOM, no
// state: unit-tested in test/unit/renderer-ui.

import type { ProcessStacks, StackError, StackFrame, ThreadStack } from '../../src-main/api.ts';
import type { MessageKey } from '../i18n/en.ts';

/**
 * One process of an answer as the tab shows it: the contract's, except that `error` may be a code
 * this window does not know yet (a newer engine), shown as it came.
 */
export type ShownStacks = Omit<ProcessStacks, 'error'> & { error?: string };

const ERROR_KEYS: Record<StackError, MessageKey> = {
  typescript: 'stacks.errTypescript',
  'no-answer': 'stacks.errNoAnswer',
  'not-connected': 'stacks.errNotConnected',
};

/** The message that explains a process's `error` code, or null for a code this window does not know. */
export function stackErrorKey(code: string): MessageKey | null {
  return Object.hasOwn(ERROR_KEYS, code) ? ERROR_KEYS[code as StackError] : null;
}

/** Why Capture is disabled, or null when the view shows a live, running program. */
export type StacksWhy = null | 'idle' | 'starting' | 'ended' | 'replay';

export interface StacksView {
  viewMode: 'live' | 'past';
  /** The phase of the run shown (app-state's Phase). */
  phase: string;
  /** The view holds a run's events (it started, or a log was opened). */
  hasRun: boolean;
}

/**
 * Only a running program has stacks: not a replay (the engine would answer for the run going on
 * now, not the one shown), not before a run, not after its end.
 */
export function stacksUnavailable(v: StacksView): StacksWhy {
  if (v.viewMode === 'past') return 'replay';
  if (v.phase === 'running') return null;
  if (v.phase === 'starting') return 'starting';
  if (v.phase === 'idle' || !v.hasRun) return 'idle';
  return 'ended';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

function frameOf(v: unknown): StackFrame | null {
  if (!isObj(v)) return null;
  const line = typeof v.line === 'number' && Number.isFinite(v.line) ? v.line : 0;
  return { file: str(v.file, '?'), line, func: str(v.func, '?'), code: str(v.code), lib: v.lib === true };
}

function threadOf(v: unknown): ThreadStack | null {
  if (!isObj(v)) return null;
  const frames = Array.isArray(v.frames) ? v.frames.map(frameOf).filter((f): f is StackFrame => f !== null) : [];
  return { name: str(v.name, '?'), frames };
}

/**
 * The engine's answer to `run.stacks`, checked: null when it is not a list at all (an engine that
 * does not know the command yet answers nothing), else the processes that have a pid (each pid
 * once), each with well-formed threads and frames. A malformed part is dropped or filled in, never thrown on: one
 * odd frame must not hide every other stack.
 */
export function readStacks(v: unknown): ShownStacks[] | null {
  if (!Array.isArray(v)) return null;
  const out: ShownStacks[] = [];
  const seen = new Set<number>();
  for (const p of v) {
    if (!isObj(p) || typeof p.pid !== 'number' || !Number.isInteger(p.pid) || seen.has(p.pid)) continue;
    seen.add(p.pid);
    const threads = Array.isArray(p.threads) ? p.threads.map(threadOf).filter((x): x is ThreadStack => x !== null) : [];
    const item: ShownStacks = { pid: p.pid, name: str(p.name, String(p.pid)), threads };
    if (typeof p.error === 'string' && p.error.trim() !== '') item.error = p.error;
    out.push(item);
  }
  return out;
}

/** The pids the window knows, with their color; the rows' order is the process table's. */
export interface PidRow {
  pid: number | null;
  color: string;
  state?: string;
}

/**
 * Each pid's color, as the process table and the console chips draw it. A pid the OS reused
 * belongs to the row still running, else to the last row that had it.
 */
export function colorsByPid(rows: readonly PidRow[]): Map<number, string> {
  const colors = new Map<number, string>();
  const running = new Set<number>();
  for (const r of rows) {
    if (r.pid === null) continue;
    if (running.has(r.pid)) continue;
    colors.set(r.pid, r.color);
    if (r.state === 'running') running.add(r.pid);
  }
  return colors;
}

/**
 * The processes in the process table's order (parent above children), so the stacks read in the
 * same order as the rows; pids the table does not know yet come last, in the engine's order.
 */
export function orderLikeRows<S extends { pid: number }>(stacks: readonly S[], rows: readonly PidRow[]): S[] {
  const rank = new Map<number, number>();
  rows.forEach((r, i) => {
    if (r.pid !== null && !rank.has(r.pid)) rank.set(r.pid, i);
  });
  return stacks
    .map((s, i) => ({ s, i, r: rank.get(s.pid) ?? rows.length }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.s);
}

/** Whether a frame's line is Python (coloured as the code tab colours Python), by its file. */
export function isPythonFile(file: string): boolean {
  return /\.pyw?$/i.test(file);
}

/** A line of a thread's stack as shown: a frame, or a run of library frames folded into one. */
export type FrameItem =
  | { kind: 'frame'; frame: StackFrame; /** Its index in the thread's frames. */ at: number; innermost: boolean }
  | { kind: 'folded'; count: number; /** Index of its first frame. */ from: number };

/**
 * The frames to show, outermost first. With library frames hidden, each run of two or more
 * consecutive library frames becomes one folded line (a single one costs no more than its
 * fold); the innermost frame is always shown, library or not: it is where the thread is now.
 */
export function foldFrames(frames: readonly StackFrame[], showLib: boolean): FrameItem[] {
  const last = frames.length - 1;
  const out: FrameItem[] = [];
  let i = 0;
  while (i <= last) {
    const f = frames[i];
    if (!showLib && f.lib && i < last) {
      let j = i;
      while (j < last && frames[j].lib) j++;
      // frames[i..j-1] are library frames above the innermost.
      if (j - i >= 2) {
        out.push({ kind: 'folded', count: j - i, from: i });
        i = j;
        continue;
      }
    }
    out.push({ kind: 'frame', frame: f, at: i, innermost: i === last });
    i++;
  }
  return out;
}

/** Whether any thread of a capture has a library frame (else there is nothing to fold). */
export function hasLibFrames(stacks: readonly ShownStacks[]): boolean {
  return stacks.some((p) => p.threads.some((th) => th.frames.some((f) => f.lib)));
}
