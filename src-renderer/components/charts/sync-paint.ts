// The top row of a lane whose object is not a plain Lock: how many hold a semaphore (or wait at a
// barrier) against its capacity, an Event's set state, and the instants that let waiters go
// (notify, set, clear, a generation's release, abort, reset, broken). Kept apart from the lanes'
// hold and wait painting (lane-paint.ts); each visits only what is in view, and marks closer than
// a pixel to the previous one of the same kind are drawn once.

import type { SyncMark } from '../../lib/model/sync-marks.ts';
import type { QueueView } from '../../lib/model/types.ts';
import { lowerBound } from '../../../src-main/common/sorted.ts';
import type { Pixel, PixelBuffer } from './pixel-layer.ts';
import type { ChartTheme } from './uplot-kit.ts';

/** Maps ms to the plot's pixel x (device px, from the plot's left). */
export interface XMap {
  kx: number;
  bx: number;
  fromMs: number;
  toMs: number;
  nowMs: number;
  width: number;
}

/** The value of a step series (seconds) at time ms: the last row at or before it (0 before the first). */
export function stepAt(s: QueueView, ms: number): { depth: number; peak: number } {
  const i = lowerBound(s.xs, ms / 1000 + 1e-9) - 1;
  return i < 0 ? { depth: 0, peak: 0 } : { depth: s.depth[i], peak: s.peak[i] };
}

/**
 * A count against a capacity as a bar from the row's bottom, full height = capacity (semaphore
 * holders, barrier arrivals): `full` when at capacity, else `part`. Calls `label(a, b, n)` for each
 * run of one count, so the caller can write it where it fits.
 */
export function paintCount(buf: PixelBuffer, s: QueueView, capacity: number, x: XMap, y: number, h: number, part: Pixel, full: Pixel, label: (a: number, b: number, n: number) => void): void {
  const { xs, depth } = s;
  if (xs.length === 0) return;
  const cap = Math.max(1, capacity);
  const i0 = Math.max(0, lowerBound(xs, x.fromMs / 1000) - 1);
  const i1 = Math.min(xs.length - 1, lowerBound(xs, x.toMs / 1000));
  let runA = NaN;
  let runN = -1;
  let lastB = 0;
  for (let i = i0; i <= i1; i++) {
    const n = depth[i];
    const a = Math.max(0, Math.round(xs[i] * 1000 * x.kx + x.bx));
    const endMs = i < xs.length - 1 ? xs[i + 1] * 1000 : x.nowMs;
    const b = Math.min(x.width, Math.max(a + 1, Math.round(endMs * x.kx + x.bx)));
    if (b <= 0 || a >= x.width) continue;
    if (n > 0) {
      const bh = Math.max(2, Math.round((h * Math.min(n, cap)) / cap));
      buf.rect(a, y + h - bh, b, y + h, n >= cap ? full : part);
    }
    if (n !== runN) {
      if (runN > 0) label(runA, a, runN);
      runA = a;
      runN = n;
    }
    lastB = b;
  }
  if (runN > 0) label(runA, lastB, runN);
}

/** An Event's set state from its marks: filled while set. */
export function paintEventState(buf: PixelBuffer, marks: readonly SyncMark[], x: XMap, y: number, h: number, color: Pixel): void {
  let since = NaN;
  // Columns already filled: a busy Event sets and clears many times within one pixel.
  let filled = 0;
  const fillTo = (end: number) => {
    const a = Math.max(filled, Math.round(since * x.kx + x.bx));
    const b = Math.min(x.width, Math.max(a + 1, Math.round(end * x.kx + x.bx)));
    if (b > a && a < x.width) {
      buf.rect(a, y, b, y + h, color);
      filled = b;
    }
  };
  // Past the range's end nothing more shows: a set still open there fills to the end.
  for (const m of marks) {
    if (m.t > x.toMs) break;
    if (m.op === 'set' && since !== since) since = m.t;
    else if (m.op === 'clear' && since === since) {
      fillTo(m.t);
      since = NaN;
    }
  }
  if (since === since) fillTo(x.nowMs);
}

/** The color a mark is drawn in. */
export function markColor(op: SyncMark['op'], th: ChartTheme): string {
  switch (op) {
    case 'set':
    case 'release':
      return th.ok;
    case 'notify':
      return th.dark ? '#a78bfa' : '#7c3aed';
    case 'clear':
      return th.muted;
    default:
      return th.danger;
  }
}

/** The short word written beside a mark when there is room; `gen` words a generation (`gen {n}`). */
export function markWord(m: SyncMark, gen: string): string {
  switch (m.op) {
    case 'notify':
      return `notify ${m.released.length}`;
    case 'set':
      return m.released.length > 0 ? `set ${m.released.length}` : 'set';
    case 'release':
      return gen.replace('{n}', String(m.generation ?? '?'));
    case 'broken':
      return '✕';
    default:
      return m.op;
  }
}

/**
 * Draws the marks in view: a line through the top row (half of it for `broken`, which is a
 * waiter's, not the object's), its word on the right when the next mark is far enough. Returns the
 * indices drawn (for the links to the waiters they let go).
 */
export function drawMarks(
  ctx: CanvasRenderingContext2D,
  marks: readonly SyncMark[],
  times: readonly number[],
  x: XMap,
  left: number,
  y: number,
  h: number,
  p: number,
  th: ChartTheme,
  selected: number,
  gen: string,
): number[] {
  const drawn: number[] = [];
  const lo = lowerBound(times, x.fromMs - 1);
  const hi = lowerBound(times, x.toMs + 1);
  const lastX = new Map<string, number>();
  ctx.font = `600 ${9.5 * p}px ${th.font}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  for (let i = lo; i < hi; i++) {
    const m = marks[i];
    const px = Math.round(left + m.t * x.kx + x.bx);
    if (lastX.get(m.op) === px && i !== selected) continue;
    lastX.set(m.op, px);
    drawn.push(i);
    const color = markColor(m.op, th);
    ctx.fillStyle = color;
    const w = Math.max(1, Math.round((m.op === 'clear' ? 1 : 2) * p));
    const top = m.op === 'broken' ? y + h / 2 : y;
    ctx.fillRect(px - (w >> 1), top, w, y + h - top);
    // A head: a triangle for what lets waiters go, a square for abort/reset.
    const s = 3 * p;
    ctx.beginPath();
    if (m.op === 'abort' || m.op === 'reset') ctx.rect(px - s, y, 2 * s, 2 * s);
    else if (m.op !== 'broken' && m.op !== 'clear') {
      ctx.moveTo(px - s, y);
      ctx.lineTo(px + s, y);
      ctx.lineTo(px, y + 1.5 * s);
    }
    ctx.fill();
    if (i === selected) {
      ctx.strokeStyle = th.text;
      ctx.lineWidth = p;
      ctx.strokeRect(px - 4 * p, y - p, 8 * p, h + 2 * p);
    }
    const word = markWord(m, gen);
    const nextX = i + 1 < hi ? left + marks[i + 1].t * x.kx + x.bx : left + x.width;
    const tw = ctx.measureText(word).width;
    if (nextX - px > tw + 8 * p && m.op !== 'broken') {
      ctx.fillStyle = color;
      ctx.fillText(word, px + 4 * p, y + h / 2 + p);
    }
  }
  return drawn;
}

/** The mark nearest ms within slack (ms), or -1. */
export function markAt(times: readonly number[], ms: number, slack: number): number {
  const i = lowerBound(times, ms);
  let best = -1;
  let bestD = slack;
  for (const j of [i - 1, i, i + 1]) {
    if (j < 0 || j >= times.length) continue;
    const d = Math.abs(times[j] - ms);
    if (d <= bestD) {
      best = j;
      bestD = d;
    }
  }
  return best;
}
