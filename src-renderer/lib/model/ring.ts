// Aligned float64 columns (one x column + any number of value columns) kept as a bounded ring
// that reads as contiguous views.
//
// Rows live in [head, head + length) of each buffer. Appending past the end either grows the
// buffers (only when created smaller than full) or slides the live rows back to index 0
// (copyWithin): both are amortized O(1) per row because the buffers keep at least maxRows / 4
// rows of slack. So a view is always a plain `subarray`, which uPlot can take as-is, and nothing
// is allocated per row.
//
// Columns are allocated at full size by default: growing 200 columns at once (24 MB for the cpu
// and rss tables at 4096 rows) cost a 50 ms frame in the renderer bench, mostly the garbage
// collection the big allocation set off; a column costs (maxRows * 1.25) * 8 bytes, 60 KB at
// the default 6000 rows, whatever the run's length.
//
// Invariant: every slot at or after head + length holds NaN, so a new row starts "missing" in
// every column without touching them.

import { lowerBound } from '../../../src-main/common/sorted.ts';

export class ColumnTable {
  readonly maxRows: number;
  #cap: number;
  readonly #maxCap: number;
  readonly #initialCap: number;
  #head = 0;
  #len = 0;
  /** Absolute sequence number of the row at head (rows ever appended before it were evicted). */
  #seq0 = 0;
  #x: Float64Array;
  #cols: Float64Array[] = [];
  /** Bumped whenever buffers, head, length or the column set change: views must be taken again. */
  layout = 0;

  /** `initialCapacity` (rows) below the full size makes the buffers grow by doubling instead. */
  constructor(maxRows: number, initialCapacity = Infinity) {
    if (!(maxRows >= 2)) throw new Error(`maxRows must be at least 2, got ${maxRows}`);
    this.maxRows = Math.floor(maxRows);
    this.#maxCap = this.maxRows + Math.max(16, this.maxRows >> 2);
    this.#initialCap = Math.min(this.#maxCap, Math.max(8, initialCapacity));
    this.#cap = this.#initialCap;
    this.#x = new Float64Array(this.#cap).fill(NaN);
  }

  get length(): number {
    return this.#len;
  }
  /** Sequence number of the first retained row. */
  get firstSeq(): number {
    return this.#seq0;
  }
  /** Sequence number the next appended row will get. */
  get endSeq(): number {
    return this.#seq0 + this.#len;
  }
  get columnCount(): number {
    return this.#cols.length;
  }

  /** Adds a column (missing in every existing row) and returns its index. */
  addColumn(): number {
    this.#cols.push(new Float64Array(this.#cap).fill(NaN));
    this.layout++;
    return this.#cols.length - 1;
  }

  /** Removes column i; later columns shift down by one. */
  removeColumn(i: number): void {
    this.#cols.splice(i, 1);
    this.layout++;
  }

  /** Appends a row at x with every value missing; evicts the oldest row when full. */
  appendRow(x: number): void {
    if (this.#len === this.maxRows) {
      // Evicted slots stay behind head until the next slide copies over them.
      this.#head++;
      this.#seq0++;
      this.#len--;
    }
    if (this.#head + this.#len === this.#cap) this.#makeRoom();
    this.#x[this.#head + this.#len] = x;
    this.#len++;
    this.layout++;
  }

  #makeRoom(): void {
    const live = this.#len;
    if (this.#cap < this.#maxCap && this.#head < this.#cap >> 2) {
      const cap = Math.min(this.#maxCap, this.#cap * 2);
      this.#x = grow(this.#x, this.#head, live, cap);
      for (let c = 0; c < this.#cols.length; c++) this.#cols[c] = grow(this.#cols[c], this.#head, live, cap);
      this.#cap = cap;
    } else {
      slide(this.#x, this.#head, live);
      for (let c = 0; c < this.#cols.length; c++) slide(this.#cols[c], this.#head, live);
    }
    this.#head = 0;
  }

  /** x of row r (0 = oldest retained). */
  x(r: number): number {
    return this.#x[this.#head + r];
  }
  setX(r: number, x: number): void {
    this.#x[this.#head + r] = x;
  }
  get(col: number, r: number): number {
    return this.#cols[col][this.#head + r];
  }
  set(col: number, r: number, v: number): void {
    this.#cols[col][this.#head + r] = v;
  }

  /** The retained x values, oldest first (a view: valid until `layout` changes). */
  xs(): Float64Array {
    return this.#x.subarray(this.#head, this.#head + this.#len);
  }
  column(col: number): Float64Array {
    return this.#cols[col].subarray(this.#head, this.#head + this.#len);
  }

  /** First row whose x >= v (length if none); xs must be non-decreasing. */
  lowerBound(v: number): number {
    return lowerBound(this.#x, v, this.#head, this.#head + this.#len) - this.#head;
  }

  /**
   * Merges runs of consecutive rows that share a bucket (`bucketOf(x)`) into one row at
   * `xOf(bucket)`, combining values column by column with `combine(col, earlier, later)`.
   * Used to halve a table's resolution in place (see queue-series.ts). Sequence numbers mean
   * nothing for a table that is merged.
   */
  mergeRows(bucketOf: (x: number) => number, xOf: (bucket: number) => number, combine: (col: number, earlier: number, later: number) => number): void {
    const h = this.#head;
    const n = this.#len;
    if (n === 0) return;
    let out = h;
    let cur = bucketOf(this.#x[h]);
    this.#x[out] = xOf(cur);
    for (let c = 0; c < this.#cols.length; c++) this.#cols[c][out] = this.#cols[c][h];
    for (let i = h + 1; i < h + n; i++) {
      const b = bucketOf(this.#x[i]);
      if (b === cur) {
        for (let c = 0; c < this.#cols.length; c++) {
          const col = this.#cols[c];
          col[out] = combine(c, col[out], col[i]);
        }
      } else {
        out++;
        cur = b;
        this.#x[out] = xOf(b);
        for (let c = 0; c < this.#cols.length; c++) this.#cols[c][out] = this.#cols[c][i];
      }
    }
    const kept = out - h + 1;
    // Restore the invariant: everything after the live rows is missing.
    this.#x.fill(NaN, h + kept, h + n);
    for (let c = 0; c < this.#cols.length; c++) this.#cols[c].fill(NaN, h + kept, h + n);
    this.#len = kept;
    this.layout++;
  }

  /** Drops every row and column. */
  clear(): void {
    this.#cap = this.#initialCap;
    this.#x = new Float64Array(this.#cap).fill(NaN);
    this.#cols = [];
    this.#head = 0;
    this.#len = 0;
    this.#seq0 = 0;
    this.layout++;
  }
}

function grow(a: Float64Array, head: number, live: number, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a.subarray(head, head + live));
  b.fill(NaN, live);
  return b;
}

function slide(a: Float64Array, head: number, live: number): void {
  a.copyWithin(0, head, head + live);
  a.fill(NaN, live);
}
