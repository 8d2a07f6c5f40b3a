// Decides whether a redraw would paint different pixels from the last one.
//
// The run store moves its version with every batch, and a busy queue or lock sends a batch every
// frame; but a CPU chart only changes when a sampler round arrives (10 a second at most), and
// while the view follows a live run over 10 minutes "now" moves 0.03 px per frame. So each chart
// redraws only when its own data changed (RunModel.revision), when its range moved by half a
// pixel or more, or when its size, labels or marker changed. A change of data alone redraws at
// most every `minDataIntervalMs` (30 a second by default): a queue changing depth 100 000 times
// a second does not need 60 redraws a second to be seen, and the time saved goes to the other
// charts.

export interface GateState {
  /** The data's revision (RunModel.revision of the chart's area). */
  rev: number;
  /** Visible range and the run's "now", seconds. */
  min: number;
  max: number;
  now: number;
  /** Plot width in pixels (device px): what half a pixel is in seconds. */
  width: number;
  /** Anything else that changes the picture (size, marker, labels…), compared as is. */
  extra: string;
}

/** `check`'s answers besides a delay in ms. */
export const DRAW_NOW = 0;
export const UNCHANGED = -1;

export class RedrawGate {
  readonly minDataIntervalMs: number;
  #last: GateState | null = null;
  #lastAt = -Infinity;

  constructor(minDataIntervalMs = 33) {
    this.minDataIntervalMs = minDataIntervalMs;
  }

  /** Whether drawing `s` would differ from what was drawn last. */
  changed(s: GateState): boolean {
    return this.#viewChanged(s) || this.#last?.rev !== s.rev;
  }

  /**
   * DRAW_NOW, UNCHANGED, or how many ms to wait before drawing (the data changed, but the last
   * redraw was less than minDataIntervalMs ago: ask again then, even if nothing else happens).
   */
  check(s: GateState, nowMs: number): number {
    if (this.#viewChanged(s)) return DRAW_NOW;
    if (this.#last?.rev === s.rev) return UNCHANGED;
    const wait = this.#lastAt + this.minDataIntervalMs - nowMs;
    return wait > 0 ? wait : DRAW_NOW;
  }

  #viewChanged(s: GateState): boolean {
    const l = this.#last;
    if (!l || l.extra !== s.extra || l.width !== s.width) return true;
    const k = s.width / Math.max(1e-9, s.max - s.min);
    return Math.abs(s.min - l.min) * k >= 0.5 || Math.abs(s.max - l.max) * k >= 0.5 || Math.abs(s.now - l.now) * k >= 0.5;
  }

  /** Records what was just drawn, and when (ms, same clock as `check`). */
  drawn(s: GateState, atMs = 0): void {
    this.#last = { ...s };
    this.#lastAt = atMs;
  }

  /** Forgets: the next check says "changed" (after a resize, a theme change…). */
  reset(): void {
    this.#last = null;
  }
}
