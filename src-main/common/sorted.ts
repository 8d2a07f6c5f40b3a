// Binary search over ascending numbers (times, mostly), for the engine and the renderer alike.

/**
 * The first index in [from, to) of `a` whose value is >= x (`to` if none): where a time range
 * starts in a column of ascending times. `a` must be non-decreasing over [from, to).
 */
export function lowerBound(a: ArrayLike<number>, x: number, from = 0, to = a.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
