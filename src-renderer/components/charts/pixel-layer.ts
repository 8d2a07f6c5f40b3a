// A software pixel layer for the dense part of a chart: 200 process lines, thousands of lock
// segments. Why not canvas paths: without a GPU (a VM, headless Chromium, a remote desktop) the
// canvas rasterizes paths on the CPU, and measured there, stroking 200 lines of 600 points costs
// 35 ms with 1 px bevel joins and 765 ms with uPlot's default 1.25 px round joins: whole frames
// lost. Writing the pixels into a Uint32Array ourselves costs a few ms and is the same on every
// machine. Lines are 1 device pixel, unantialiased: with hundreds of them that reads fine.
//
// The buffer is plain typed-array work (no DOM) so it can be tested; pixel-blit.ts puts it on a
// canvas.

/** A 32-bit pixel as the canvas stores it (RGBA bytes; little-endian machines, which all are). */
export type Pixel = number;

const parseCache = new Map<string, Pixel>();

/** Packs r, g, b (0..255) and alpha (0..1) into a pixel. */
export function rgba(r: number, g: number, b: number, a = 1): Pixel {
  return (((Math.round(a * 255) & 255) << 24) | ((b & 255) << 16) | ((g & 255) << 8) | (r & 255)) >>> 0;
}

/** '#rgb', '#rrggbb', 'rgb(r, g, b)' or 'rgba(r, g, b, a)' as a pixel (opaque black if unknown). */
export function parseColor(css: string, alpha = 1): Pixel {
  const key = `${css}|${alpha}`;
  const hit = parseCache.get(key);
  if (hit !== undefined) return hit;
  let r = 0;
  let g = 0;
  let b = 0;
  let a = 1;
  const s = css.trim();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(s);
  if (hex) {
    let h = hex[1];
    if (h.length === 3) h = h.replace(/./g, (c) => c + c);
    const n = parseInt(h, 16);
    r = (n >> 16) & 255;
    g = (n >> 8) & 255;
    b = n & 255;
  } else {
    const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(s);
    if (m) {
      r = +m[1];
      g = +m[2];
      b = +m[3];
      if (m[4] !== undefined) a = m[4].endsWith('%') ? parseFloat(m[4]) / 100 : +m[4];
    }
  }
  const px = rgba(r, g, b, a * alpha);
  parseCache.set(key, px);
  return px;
}

/** The pixel row of value `v` (y = v * ky + by), kept inside rows 0..H1: an off-scale value is drawn at the edge. */
function rowOf(v: number, ky: number, by: number, H1: number): number {
  const y = Math.round(v * ky + by);
  return y < 0 ? 0 : y > H1 ? H1 : y;
}

/** `a` mixed toward `b` by t (0: a, 1: b), alpha included. */
export function mix(a: Pixel, b: Pixel, t: number): Pixel {
  const c = (shift: number) => Math.round(((a >>> shift) & 255) * (1 - t) + ((b >>> shift) & 255) * t);
  return rgba(c(0), c(8), c(16), c(24) / 255);
}

export class PixelBuffer {
  width = 0;
  height = 0;
  data: Uint32Array<ArrayBuffer> = new Uint32Array(0);

  /** Makes the buffer w x h (device px) and clears it; reuses the memory when it is big enough. */
  reset(w: number, h: number): void {
    w = Math.max(0, Math.floor(w));
    h = Math.max(0, Math.floor(h));
    if (this.data.length < w * h) this.data = new Uint32Array(Math.ceil(w * h * 1.25));
    this.width = w;
    this.height = h;
    this.data.fill(0, 0, w * h);
  }

  /** Fills [x0, x1) x [y0, y1), clipped. */
  rect(x0: number, y0: number, x1: number, y1: number, color: Pixel): void {
    const W = this.width;
    const a = Math.max(0, Math.floor(x0));
    const b = Math.min(W, Math.ceil(x1));
    const top = Math.max(0, Math.floor(y0));
    const bottom = Math.min(this.height, Math.ceil(y1));
    const d = this.data;
    if (b - a <= 8) {
      // Narrow (a bar one or two pixels wide): plain writes beat a fill() call per row.
      for (let y = top; y < bottom; y++) for (let p = y * W + a, end = y * W + b; p < end; p++) d[p] = color;
    } else {
      for (let y = top; y < bottom; y++) d.fill(color, y * W + a, y * W + b);
    }
  }

  /**
   * Fills [x0, x1) x [y0, y1) with diagonal stripes: `color` where (x + y) mod period is below
   * `thickness`, `background` elsewhere (0 leaves those pixels as they are). Anchored to the
   * buffer, so neighbouring rects' stripes line up.
   */
  hatch(x0: number, y0: number, x1: number, y1: number, color: Pixel, background: Pixel, period = 6, thickness = 2): void {
    const W = this.width;
    const a = Math.max(0, Math.floor(x0));
    const b = Math.min(W, Math.ceil(x1));
    const top = Math.max(0, Math.floor(y0));
    const bottom = Math.min(this.height, Math.ceil(y1));
    const d = this.data;
    for (let y = top; y < bottom; y++) {
      const row = y * W;
      let phase = (a + y) % period;
      for (let x = a; x < b; x++) {
        if (phase < thickness) d[row + x] = color;
        else if (background) d[row + x] = background;
        if (++phase === period) phase = 0;
      }
    }
  }

  /** A vertical run at column x from y0 to y1 (inclusive, either order), clipped. */
  vspan(x: number, y0: number, y1: number, color: Pixel): void {
    if (x < 0 || x >= this.width) return;
    let lo = y0 < y1 ? y0 : y1;
    let hi = y0 < y1 ? y1 : y0;
    if (lo < 0) lo = 0;
    if (hi > this.height - 1) hi = this.height - 1;
    const W = this.width;
    const d = this.data;
    for (let p = lo * W + x, end = hi * W + x; p <= end; p += W) d[p] = color;
  }

  /**
   * A reading that covers the time since the previous one (CPU % over a sampling interval), drawn
   * as steps: row i's value holds from xs[i - 1] to xs[i]; the first of a run (after a gap) is a
   * dot at its own x. With `fill`, the area under the steps down to the bottom row instead.
   */
  stepsBefore(xs: ArrayLike<number>, ys: ArrayLike<number>, i0: number, i1: number, kx: number, bx: number, ky: number, by: number, color: Pixel, fill = false): void {
    const H1 = this.height - 1;
    let px = 0;
    let py = 0;
    let have = false;
    for (let i = i0; i <= i1; i++) {
      const v = ys[i];
      if (v !== v) {
        have = false;
        continue;
      }
      const x = Math.round(xs[i] * kx + bx);
      const y = rowOf(v, ky, by, H1);
      if (!have) {
        if (fill) this.vspan(x, y, H1, color);
        else this.rect(x - 1, y - 1, x + 2, y + 2, color);
      } else {
        const a = Math.max(0, px + 1);
        const b = Math.min(this.width, x + 1);
        if (fill) for (let c = a; c < b; c++) this.vspan(c, y, H1, color);
        else {
          this.vspan(px, py, y, color);
          this.rect(a, y, b, y + 1, color);
        }
      }
      have = true;
      px = x;
      py = y;
    }
  }

  /**
   * The area under the line through (xs[i], ys[i]), down to the bottom row: one vertical run per
   * pixel column, from the line's height (interpolated between points) to the bottom. NaN breaks it.
   * With `hold`, each value holds until the next point instead (a sum of readings, which changes
   * only when one of them does).
   */
  area(xs: ArrayLike<number>, ys: ArrayLike<number>, i0: number, i1: number, kx: number, bx: number, ky: number, by: number, color: Pixel, hold = false): void {
    const H1 = this.height - 1;
    let px = 0;
    let py = 0;
    let have = false;
    for (let i = i0; i <= i1; i++) {
      const v = ys[i];
      if (v !== v) {
        have = false;
        continue;
      }
      const x = Math.round(xs[i] * kx + bx);
      const y = rowOf(v, ky, by, H1);
      if (have && x > px) {
        const c0 = px < 0 ? 0 : px;
        const c1 = x > this.width ? this.width : x;
        for (let c = c0; c < c1; c++) this.vspan(c, hold ? py : py + Math.round(((y - py) * (c - px)) / (x - px)), H1, color);
      } else if (!have) {
        this.vspan(x, y, H1, color);
      }
      have = true;
      px = x;
      py = y;
    }
    if (have) this.vspan(px, py, H1, color);
  }

  /**
   * The line through (xs[i], ys[i]) for i in [i0, i1], mapped to pixels by x*kx + bx and
   * y*ky + by. A NaN value breaks the line (the process was not running then). Each segment is
   * drawn as one vertical run per pixel column it crosses, so the cost is the pixels touched.
   * A point alone between gaps (a process sampled once: it lived less than two intervals) is a
   * 3 x 3 dot; as a line of one pixel it was invisible, while the readout named the process.
   * With `hold`, each value holds until the next point, then steps (a reading such as RSS, drawn
   * as the total of readings is: the lines then add up to it at every pixel).
   */
  polyline(xs: ArrayLike<number>, ys: ArrayLike<number>, i0: number, i1: number, kx: number, bx: number, ky: number, by: number, color: Pixel, hold = false): void {
    const H1 = this.height - 1;
    let px = 0;
    let py = 0;
    let have = false;
    let alone = false;
    const end = () => {
      if (alone) this.rect(px - 1, py - 1, px + 2, py + 2, color);
      else this.vspan(px, py, py, color);
    };
    for (let i = i0; i <= i1; i++) {
      const v = ys[i];
      if (v !== v) {
        if (have) end();
        have = false;
        continue;
      }
      const x = Math.round(xs[i] * kx + bx);
      const y = rowOf(v, ky, by, H1);
      alone = !have;
      if (!have) {
        have = true;
      } else if (x === px) {
        this.vspan(x, py, y, color);
      } else if (hold && x > px) {
        this.rect(px, py, x, py + 1, color);
        this.vspan(x, py, y, color);
      } else if (x === px + 1) {
        // The common case (about one point per pixel column): one run.
        this.vspan(px, py, y, color);
      } else if (x > px) {
        // Columns px .. x-1 each get the run between the line's heights at their two edges.
        const dx = x - px;
        const dy = y - py;
        let ya = py;
        const c0 = px < 0 ? 0 : px;
        const c1 = x > this.width ? this.width : x;
        if (c0 > px) ya = py + Math.round((dy * (c0 - px)) / dx);
        for (let c = c0; c < c1; c++) {
          const yb = py + Math.round((dy * (c + 1 - px)) / dx);
          this.vspan(c, ya, yb, color);
          ya = yb;
        }
      }
      px = x;
      py = y;
    }
    if (have) end();
  }
}

/**
 * Step-after lines and bands (queue depths): row i holds from xs[i] until xs[i + 1], the last one
 * until `xEnd` (now). NaN rows are skipped (the queue did not exist yet).
 *
 * A busy queue has many rows per pixel column: the rows that start in one column are drawn as one
 * vertical run from the lowest to the highest depth they reach (what their chained risers cover),
 * so the cost is the pixels, not the rows.
 */
export function drawSteps(
  buf: PixelBuffer,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  i0: number,
  i1: number,
  xEnd: number,
  kx: number,
  bx: number,
  ky: number,
  by: number,
  color: Pixel,
): void {
  const H1 = buf.height - 1;
  let have = false;
  let py = 0;
  // The column being gathered: its x, the span of y it covers, and the last row's tread.
  let cx = NaN;
  let lo = 0;
  let hi = 0;
  let tread = 0;
  const flush = () => {
    if (cx !== cx) return;
    if (hi > lo) buf.vspan(cx, lo, hi, color);
    buf.rect(cx, py, tread, py + 1, color);
    cx = NaN;
  };
  for (let i = i0; i <= i1; i++) {
    const v = ys[i];
    if (v !== v) {
      flush();
      have = false;
      continue;
    }
    const x = Math.round(xs[i] * kx + bx);
    const next = i < i1 ? xs[i + 1] : xEnd;
    const xn = Math.max(x + 1, Math.round(next * kx + bx));
    const y = rowOf(v, ky, by, H1);
    if (x !== cx) {
      flush();
      cx = x;
      lo = have ? Math.min(py, y) : y;
      hi = have ? Math.max(py, y) : y;
    } else {
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    tread = xn;
    have = true;
    py = y;
  }
  flush();
}

/**
 * Fills, per row, from `lows` up to `highs` over the row's time span, at most `maxSpan` (a peak
 * band: the highest depth inside a bucket lasts no longer than the bucket). Rows that
 * start in one pixel column are filled as one run over all the depths they span: a queue's depth
 * moves one item at a time, so every depth between their lowest and highest was reached there.
 */
export function drawStepBands(
  buf: PixelBuffer,
  xs: ArrayLike<number>,
  lows: ArrayLike<number>,
  highs: ArrayLike<number>,
  i0: number,
  i1: number,
  xEnd: number,
  kx: number,
  bx: number,
  ky: number,
  by: number,
  color: Pixel,
  maxSpan = Infinity,
): void {
  let cx = NaN;
  let cxn = 0;
  let top = 0;
  let bottom = 0;
  const flush = () => {
    if (cx === cx) buf.rect(cx, top, cxn, bottom, color);
    cx = NaN;
  };
  for (let i = i0; i <= i1; i++) {
    const lo = lows[i];
    const hi = highs[i];
    if (!(hi > lo)) continue;
    const x = Math.round(xs[i] * kx + bx);
    const next = Math.min(i < i1 ? xs[i + 1] : xEnd, xs[i] + maxSpan);
    const xn = Math.max(x + 1, Math.round(next * kx + bx));
    const t = Math.round(hi * ky + by);
    const b = Math.round(lo * ky + by) + 1;
    if (x === cx && cxn === x + 1) {
      if (t < top) top = t;
      if (b > bottom) bottom = b;
      if (xn === x + 1) continue;
      // It holds past this column: the column is complete, the rest is this row's alone.
      flush();
      cx = x + 1;
      cxn = xn;
      top = t;
      bottom = b;
      continue;
    }
    flush();
    cx = x;
    cxn = xn;
    top = t;
    bottom = b;
  }
  flush();
}
