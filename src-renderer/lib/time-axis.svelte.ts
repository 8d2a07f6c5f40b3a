// The one time axis every chart shares. uPlot's cursor.sync (key SYNC_KEY) moves the cursor line
// across charts; zoom goes through here: a drag on any chart sets `zoom`, a double-click
// clears it, and every chart applies the same x range (in seconds since the run started).

export const SYNC_KEY = 'procscope-time';

export interface TimeRange {
  min: number;
  max: number;
}

export class TimeAxis {
  /** The zoomed range, or null to show the whole run and follow it live. */
  zoom = $state.raw<TimeRange | null>(null);

  /** Zooms every chart to [min, max] seconds (ignored when the range is empty). */
  setZoom(min: number, max: number): void {
    if (!(max - min > 1e-6)) return;
    const z = this.zoom;
    if (z && z.min === min && z.max === max) return;
    this.zoom = { min, max };
  }

  /** Back to the whole run. */
  reset(): void {
    if (this.zoom !== null) this.zoom = null;
  }

  /** The range charts show: the zoom, or the run so far ([0, now], at least one second). */
  range(nowSeconds: number): TimeRange {
    return this.zoom ?? { min: 0, max: Math.max(1, nowSeconds) };
  }
}

export const timeAxis = new TimeAxis();
