// Small sums over chart columns that the CPU and memory charts do at draw time, for the rows in
// view only.

/**
 * out[i] = total[i] minus the lines' values at row i (a line without a reading counts 0), never
 * below 0, for i in [i0, i1]: what the processes without a line of their own add up to. NaN where
 * the total is missing. (At a coarse level every column is a max over its bucket, so this is an
 * estimate there; at full resolution it is exact.)
 */
export function othersInto(out: Float64Array, total: ArrayLike<number>, lines: readonly ArrayLike<number>[], i0: number, i1: number): void {
  for (let i = i0; i <= i1; i++) {
    let v = total[i];
    if (v !== v) {
      out[i] = NaN;
      continue;
    }
    for (const l of lines) {
      const x = l[i];
      if (x === x) v -= x;
    }
    out[i] = v > 1e-9 ? v : 0;
  }
}

/** The row of `xs` (ascending) nearest to x, or -1 when xs is empty. */
export function nearestRow(xs: ArrayLike<number>, x: number): number {
  const n = xs.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= n) return n - 1;
  if (lo > 0 && x - xs[lo - 1] < xs[lo] - x) return lo - 1;
  return lo;
}
