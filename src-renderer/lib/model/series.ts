// Per-process time series (CPU %, or RSS) as aligned columns, plus a max pyramid for drawing.
//
// Row = one sampler round, column = one process. 200 processes x 6000 rows is 1.2 M points:
// far more than a chart is wide, and stroking them all every frame would blow the frame budget.
// So next to the raw table we keep levels 1..L where a row is the MAX of 2^k consecutive raw
// rows (max, not mean: a CPU burst or a memory peak must stay visible when zoomed out). Levels are
// maintained as samples arrive (L small updates per sample), so a chart picks the coarsest level
// that still has about one point per pixel of the visible range, and hands uPlot views of it.
// A level row's x is the x of the last raw row folded into it, so a live line reaches "now".

import { ColumnTable } from './ring.ts';
import type { AlignedSeries, SeriesInfo } from './types.ts';
import { lowerBound } from '../../../src-main/common/sorted.ts';

/** Levels up to buckets of 2^MAX_LEVEL raw rows. */
const MAX_LEVEL = 8;

export class SampleSeries {
  readonly raw: ColumnTable;
  /** levels[k - 1] holds buckets of 2^k raw rows. */
  readonly levels: ColumnTable[] = [];
  #meta: SeriesInfo[] = [];
  /** Sequence of the last raw row that had a value, per column (to drop columns gone for good). */
  #lastSeen: number[] = [];
  /** Bucket number (raw seq >> k) of the last row of each level. */
  #lastBucket: number[] = [];
  /** Bumped when columns are added or removed. */
  structure = 0;
  #viewCache: { layout: number; level: number; structure: number; view: AlignedSeries }[] = [];

  /**
   * Levels take a row's values when the next row starts, not as each value arrives: for a value
   * that is overwritten within its row (a sum of the latest readings, which moves as each process
   * of the round reports), folding each intermediate value would leave a peak that never was.
   */
  readonly #foldOnAppend: boolean;

  constructor(maxPoints: number, opts: { foldOnAppend?: boolean } = {}) {
    this.#foldOnAppend = opts.foldOnAppend ?? false;
    this.raw = new ColumnTable(maxPoints);
    // Enough levels that the coarsest one has at most ~128 rows.
    const levels = Math.max(0, Math.min(MAX_LEVEL, Math.ceil(Math.log2(maxPoints / 128))));
    for (let k = 1; k <= levels; k++) {
      this.levels.push(new ColumnTable(Math.ceil(maxPoints / 2 ** k) + 1));
      this.#lastBucket.push(-1);
    }
  }

  get length(): number {
    return this.raw.length;
  }
  get series(): readonly SeriesInfo[] {
    return this.#meta;
  }
  get levelCount(): number {
    return this.levels.length;
  }

  add(info: SeriesInfo): number {
    this.#meta.push(info);
    this.#lastSeen.push(this.raw.endSeq);
    this.raw.addColumn();
    for (const l of this.levels) l.addColumn();
    this.structure++;
    return this.#meta.length - 1;
  }

  /** Updates a series' label (e.g. the pid became known). */
  relabel(col: number, label: string): void {
    if (this.#meta[col].label === label) return;
    this.#meta[col] = { ...this.#meta[col], label };
    this.structure++;
  }

  remove(col: number): void {
    this.#meta.splice(col, 1);
    this.#lastSeen.splice(col, 1);
    this.raw.removeColumn(col);
    for (const l of this.levels) l.removeColumn(col);
    this.structure++;
  }

  /** Columns whose every retained value is missing (their rows were all evicted). */
  isEmpty(col: number): boolean {
    return this.#lastSeen[col] < this.raw.firstSeq;
  }

  appendRow(x: number): void {
    if (this.#foldOnAppend && this.raw.length > 0) {
      const r = this.raw.length - 1;
      for (let col = 0; col < this.#meta.length; col++) this.#fold(col, this.raw.get(col, r));
    }
    const seq = this.raw.endSeq;
    this.raw.appendRow(x);
    for (let k = 1; k <= this.levels.length; k++) {
      const level = this.levels[k - 1];
      const bucket = Math.floor(seq / 2 ** k);
      if (bucket !== this.#lastBucket[k - 1]) {
        level.appendRow(x);
        this.#lastBucket[k - 1] = bucket;
      } else {
        level.setX(level.length - 1, x);
      }
    }
  }

  /** Whether column `col` already has a value in the latest row. */
  hasLatest(col: number): boolean {
    const n = this.raw.length;
    if (n === 0) return false;
    const v = this.raw.get(col, n - 1);
    return v === v;
  }

  /** Sets column `col` in the latest row and folds it into every level (see foldOnAppend). */
  setLatest(col: number, v: number): void {
    const n = this.raw.length;
    if (n === 0 || v !== v) return;
    this.raw.set(col, n - 1, v);
    this.#lastSeen[col] = this.raw.endSeq - 1;
    if (!this.#foldOnAppend) this.#fold(col, v);
  }

  #fold(col: number, v: number): void {
    if (v !== v) return;
    for (let k = 0; k < this.levels.length; k++) {
      const level = this.levels[k];
      const r = level.length - 1;
      const cur = level.get(col, r);
      if (!(cur >= v)) level.set(col, r, v);
    }
  }

  /**
   * The coarsest level whose rows between x0 and x1 number at most `points` (level 0 = raw).
   * A chart passes its plot width in CSS pixels: about one point per pixel column.
   */
  pickLevel(x0: number, x1: number, points: number): number {
    const rows = this.raw.lowerBound(x1 + 1e-9) - this.raw.lowerBound(x0);
    let k = 0;
    while (k < this.levels.length && rows / 2 ** k > points) k++;
    return k;
  }

  /** Aligned views of a level, cached until the table's layout or columns change. */
  view(level = 0): AlignedSeries {
    const k = Math.max(0, Math.min(level, this.levels.length));
    const t = k === 0 ? this.raw : this.levels[k - 1];
    let c = this.#viewCache[k];
    if (!c || c.layout !== t.layout || c.structure !== this.structure) {
      const data = [t.xs()] as AlignedSeries['data'];
      for (let i = 0; i < t.columnCount; i++) data.push(t.column(i));
      c = this.#viewCache[k] = {
        layout: t.layout,
        level: k,
        structure: this.structure,
        view: { data, series: this.#meta.slice(), level: k, bucket: 2 ** k, structure: this.structure },
      };
    }
    return c.view;
  }

  clear(): void {
    this.raw.clear();
    for (const l of this.levels) l.clear();
    this.#meta = [];
    this.#lastSeen = [];
    this.#lastBucket.fill(-1);
    this.#viewCache = [];
    this.structure++;
  }
}

/**
 * The largest value of any of `columns` over the rows whose x lies in [from, to] (xs sorted),
 * ignoring NaN; -Infinity when there is none. Charts range their y axis with it: uPlot's own
 * auto-range starts from the first value of the window, which is NaN for a process that had not
 * started yet, and a NaN poisons every comparison after it.
 */
export function maxInRange(xs: Float64Array, columns: readonly Float64Array[], from: number, to: number): number {
  const lo = lowerBound(xs, from);
  // The row before the window still shapes the line entering it.
  const i0 = Math.max(0, lo - 1);
  let i1 = lo;
  while (i1 < xs.length && xs[i1] <= to) i1++;
  i1 = Math.min(xs.length, i1 + 1);
  let max = -Infinity;
  for (const col of columns) {
    for (let i = i0; i < i1; i++) {
      const v = col[i];
      if (v > max) max = v;
    }
  }
  return max;
}
