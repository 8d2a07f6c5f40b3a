// The time range the charts show when nothing is zoomed: the run itself, from its first event to
// its last, with a little room on each side. While a run is live the right edge is its latest
// event, so the axis grows with it; a run of 300 ms fills the width instead of the last 15% of a
// one-second axis.

export interface TimeRange {
  /** Seconds since the run started. */
  min: number;
  max: number;
}

/** Room on each side of the run, as a share of its length. */
export const FIT_PAD = 0.02;
/** The shortest range shown (seconds): a run that just began still gets an axis. */
export const MIN_SPAN = 0.05;

/**
 * The range for a run whose events span [firstMs, lastMs] (null: nothing to draw yet). Live runs
 * get the padding on the left only: the right edge is "now", where the newest event lands.
 */
export function fitRange(span: { first: number; last: number } | null, live: boolean): TimeRange {
  if (!span) return { min: 0, max: 1 };
  const a = span.first / 1000;
  const b = Math.max(a, span.last / 1000);
  const len = Math.max(b - a, MIN_SPAN);
  const pad = len * FIT_PAD;
  const min = Math.max(0, a - pad);
  const max = live ? Math.max(b, a + MIN_SPAN) : Math.max(b, a + MIN_SPAN) + pad;
  return { min, max };
}

/** The range zoomed by `factor` (< 1 zooms in) around `at` (seconds), kept inside `bounds`. */
export function zoomAround(r: TimeRange, factor: number, at: number, bounds: TimeRange): TimeRange {
  const span = r.max - r.min;
  const boundSpan = bounds.max - bounds.min;
  const next = Math.min(boundSpan, Math.max(1e-4, span * factor));
  const c = Math.min(r.max, Math.max(r.min, at));
  const k = span > 0 ? (c - r.min) / span : 0.5;
  let min = c - next * k;
  let max = min + next;
  if (min < bounds.min) {
    max += bounds.min - min;
    min = bounds.min;
  }
  if (max > bounds.max) {
    min -= max - bounds.max;
    max = bounds.max;
  }
  return { min: Math.max(bounds.min, min), max };
}

/** The range moved by `fraction` of its width (negative: earlier), kept inside `bounds`. */
export function panBy(r: TimeRange, fraction: number, bounds: TimeRange): TimeRange {
  const span = r.max - r.min;
  let min = r.min + span * fraction;
  min = Math.max(bounds.min, Math.min(bounds.max - span, min));
  return { min, max: min + span };
}

/**
 * One range for several runs drawn one above the other (Compare): from the earliest first event to
 * the latest last one, each run's time counted from its own start, so equal lengths look equal.
 */
export function sharedFit(spans: readonly ({ first: number; last: number } | null)[]): TimeRange | undefined {
  const known = spans.filter((s): s is { first: number; last: number } => s !== null);
  if (known.length === 0) return undefined;
  return fitRange({ first: Math.min(...known.map((s) => s.first)), last: Math.max(...known.map((s) => s.last)) }, false);
}
