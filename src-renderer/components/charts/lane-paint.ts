// The lock lanes' hot loops, apart from their drawing: which segments of a lane to paint for the
// visible range, and which one is under the pointer.

import type { SegmentColumns } from '../../lib/model/types.ts';
import type { Pixel } from './pixel-layer.ts';

export class SegmentPainter {
  /** Per process row index: the pixel column up to which it has been painted. */
  #paintedTo = new Float64Array(64).fill(-1);

  /**
   * The segments of `cols` overlapping [fromMs, toMs] (open ones up to nowMs): a binary search for
   * the window, then one paint each, skipping any that falls entirely on pixel columns already
   * painted for its process, so a lock taken a million times costs about one paint per pixel
   * column and process. The skip test is the hot path (a busy lock has tens of thousands of
   * segments in view): plain typed-array reads, no call. kx, bx map ms to pixels.
   */
  paint(
    cols: SegmentColumns,
    fromMs: number,
    toMs: number,
    nowMs: number,
    kx: number,
    bx: number,
    colorOf: (proc: number) => [Pixel, Pixel],
    paint: (a: number, b: number, proc: number, px: [Pixel, Pixel]) => void,
  ): void {
    const hi = cols.lowerBound(toMs);
    const lo = cols.lowerBound(fromMs - cols.maxSpan);
    const { start, end, proc } = cols;
    for (let i = lo; i < hi; i++) {
      const e = end[i];
      if (e !== e || e < fromMs) continue; // open ones below
      const p = proc[i];
      if (p >= this.#paintedTo.length) this.#grow(p);
      const b0 = Math.ceil((e < toMs ? e : toMs) * kx + bx);
      if (b0 <= this.#paintedTo[p]) continue;
      const a = Math.floor((start[i] > fromMs ? start[i] : fromMs) * kx + bx);
      const b = b0 > a + 1 ? b0 : a + 1;
      paint(a, b, p, colorOf(p));
      this.#paintedTo[p] = b;
    }
    this.#paintedTo.fill(-1);
    for (const i of cols.openIndices()) {
      if (start[i] > toMs) continue;
      const p = proc[i];
      const a = Math.floor(Math.max(start[i], fromMs) * kx + bx);
      paint(a, Math.max(a + 1, Math.ceil(Math.min(nowMs, toMs) * kx + bx)), p, colorOf(p));
    }
  }

  #grow(p: number): void {
    const next = new Float64Array(Math.max(p + 1, this.#paintedTo.length * 2)).fill(-1);
    next.set(this.#paintedTo);
    this.#paintedTo = next;
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
