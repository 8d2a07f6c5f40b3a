// The lock lanes' hot loops, apart from their drawing: which segments of a lane to paint for the
// visible range, and which one is under the pointer.

import type { SegmentColumns } from '../../lib/model/types.ts';
import type { Pixel } from './pixel-layer.ts';

/** What a pixel column of a participant's row shows. */
export const FREE = 0;
export const HELD = 1;
export const WAITING = 2;

/**
 * Which process holds a lock in each pixel column, and what each participant does there, for the
 * visible range: one pass over the segments in view writing typed arrays (a busy lock has tens of
 * thousands of segments in view, most narrower than a pixel: no call per segment), then runs of
 * equal columns are painted as one rectangle each.
 */
export class LaneCoverage {
  /** Per pixel column: the row index (model's process index) of the holder, or -1. */
  holder = new Int32Array(0);
  /** Per participant row, per pixel column: FREE, HELD or WAITING. */
  rows: Uint8Array[] = [];
  width = 0;

  /**
   * Reads `holds` and `waits` in [fromMs, toMs] (open ones up to nowMs) into columns of `width`
   * pixels (x = ms * kx + bx); `rowOf(proc)` is the participant row of a process, or -1 (no rows).
   */
  read(holds: SegmentColumns, waits: SegmentColumns | null, fromMs: number, toMs: number, nowMs: number, kx: number, bx: number, width: number, rowCount: number, rowOf: Int32Array): void {
    const w = Math.max(0, Math.ceil(width));
    if (this.holder.length < w) this.holder = new Int32Array(w);
    this.holder.fill(-1, 0, w);
    while (this.rows.length < rowCount) this.rows.push(new Uint8Array(w));
    for (let r = 0; r < rowCount; r++) {
      if (this.rows[r].length < w) this.rows[r] = new Uint8Array(w);
      this.rows[r].fill(FREE, 0, w);
    }
    this.width = w;
    this.#cover(holds, fromMs, toMs, nowMs, kx, bx, rowOf, rowCount, true);
    if (waits && rowCount > 0) this.#cover(waits, fromMs, toMs, nowMs, kx, bx, rowOf, rowCount, false);
  }

  #cover(cols: SegmentColumns, fromMs: number, toMs: number, nowMs: number, kx: number, bx: number, rowOf: Int32Array, rowCount: number, held: boolean): void {
    const w = this.width;
    const { start, end, proc } = cols;
    const mark = (s: number, e: number, p: number) => {
      let a = Math.floor((s > fromMs ? s : fromMs) * kx + bx);
      let b = Math.ceil((e < toMs ? e : toMs) * kx + bx);
      if (a < 0) a = 0;
      if (b <= a) b = a + 1;
      if (b > w) b = w;
      const r = p < rowOf.length ? rowOf[p] : -1;
      const row = r >= 0 && r < rowCount ? this.rows[r] : null;
      for (let c = a; c < b; c++) {
        if (held) {
          this.holder[c] = p;
          if (row) row[c] = HELD;
        } else if (row && row[c] === FREE) row[c] = WAITING;
      }
    };
    const hi = cols.lowerBound(toMs);
    for (let i = cols.lowerBound(fromMs - cols.maxSpan); i < hi; i++) {
      const e = end[i];
      if (e !== e || e < fromMs) continue; // open ones below
      mark(start[i], e, proc[i]);
    }
    for (const i of cols.openIndices()) if (start[i] <= toMs) mark(start[i], nowMs, proc[i]);
  }

  /** Calls `paint(a, b, value)` for each run of equal, non-empty values in `cols` (a..b pixel columns). */
  static runs(values: ArrayLike<number>, width: number, empty: number, paint: (a: number, b: number, value: number) => void): void {
    let a = 0;
    while (a < width) {
      const v = values[a];
      let b = a + 1;
      while (b < width && values[b] === v) b++;
      if (v !== empty) paint(a, b, v);
      a = b;
    }
  }
}

/**
 * The segment of `cols` under time ms (of process row `proc`, or any): the one that contains it,
 * else the nearest within `slack` ms (a segment narrower than a pixel can still be pointed at);
 * -1 when none. Open segments last until nowMs.
 */
export function segmentAt(cols: SegmentColumns, ms: number, slack: number, proc: number | null, nowMs: number): number {
  const hi = cols.lowerBound(ms + slack);
  const lo = cols.lowerBound(ms - slack - cols.maxSpan);
  let best = -1;
  let bestD = Infinity;
  const consider = (i: number) => {
    if (proc !== null && cols.proc[i] !== proc) return;
    const end = cols.end[i] === cols.end[i] ? cols.end[i] : nowMs;
    const d = ms < cols.start[i] ? cols.start[i] - ms : ms > end ? ms - end : 0;
    if (d <= slack && d < bestD) {
      best = i;
      bestD = d;
    }
  };
  for (let i = hi - 1; i >= lo && i >= hi - 20_000 && bestD > 0; i--) consider(i);
  for (const i of cols.openIndices()) consider(i);
  return best;
}
