// The one time axis every chart shares. uPlot's cursor.sync (key SYNC_KEY) moves the cursor line
// across charts; zoom goes through here: a drag on any chart, W/S (zoom around the pointer) and
// A/D (pan) set `zoom`; 0, Esc or a double-click clear it, and every chart applies the same x
// range (seconds since the run started). Unzoomed, charts show the run fitted (view/time-fit.ts).

import { panBy, zoomAround, type TimeRange } from './view/time-fit.ts';

export type { TimeRange };

export const SYNC_KEY = 'procscope-time';

export class TimeAxis {
  /** The zoomed range, or null to show the whole run and follow it live. */
  zoom = $state.raw<TimeRange | null>(null);
  /** Where the pointer is over a chart (seconds), for W/S to zoom around; null when off the charts. */
  pointer: number | null = null;
  /** The fitted range the charts showed last (what W/S/A/D start from when not zoomed). */
  fitted: TimeRange = { min: 0, max: 1 };

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

  /** The range charts show: the zoom, or the fitted range of the run. */
  range(fitted: TimeRange): TimeRange {
    this.fitted = fitted;
    return this.zoom ?? fitted;
  }

  /** W (factor < 1) and S (> 1): zoom around the pointer, or the middle. */
  zoomBy(factor: number): void {
    const r = this.zoom ?? this.fitted;
    const at = this.pointer ?? (r.min + r.max) / 2;
    const bounds = this.#bounds(r);
    const next = zoomAround(r, factor, at, bounds);
    if (next.max - next.min >= bounds.max - bounds.min - 1e-9 && next.min <= bounds.min + 1e-9) this.reset();
    else this.setZoom(next.min, next.max);
  }

  /** A (negative) and D: move by a share of the visible width. */
  panBy(fraction: number): void {
    if (!this.zoom) return;
    const next = panBy(this.zoom, fraction, this.#bounds(this.zoom));
    this.setZoom(next.min, next.max);
  }

  /** Zoom and pan stay within the run (or what is zoomed, when that reaches beyond it). */
  #bounds(r: TimeRange): TimeRange {
    return { min: Math.min(this.fitted.min, r.min), max: Math.max(this.fitted.max, r.max) };
  }
}

export const timeAxis = new TimeAxis();
