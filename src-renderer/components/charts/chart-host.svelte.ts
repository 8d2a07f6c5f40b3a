// The life of one uPlot inside a chart component, the same for every chart: built once on mount
// from baseOptions, resized in place when its element's width changes, re-themed when the system
// scheme flips, redrawn through the shared frame budget only when the redraw gate says the pixels
// would differ, and destroyed on unmount. A chart hands over what is its own (scale, draw hook,
// what to read from the model) and keeps its drawing and its DOM.
//
// Call `hostChart` while the component initialises: it registers the component's effects.

import { untrack } from 'svelte';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './chart.css';
import type { RunArea, RunModel } from '../../lib/model/run-model.ts';
import type { RunStore } from '../../lib/run-store.svelte.ts';
import { tooltip } from '../../lib/state/tooltip.svelte.ts';
import { timeAxis } from '../../lib/time-axis.svelte.ts';
import { fitRange, type TimeRange } from '../../lib/view/time-fit.ts';
import type { Tip } from '../../lib/view/tooltips.ts';
import { chartFrames, type ChartJob } from './frame-budget.ts';
import { DRAW_NOW, RedrawGate, type GateState } from './redraw-gate.ts';
import type { ChartLabels } from './labels.ts';
import { baseOptions, observeWidth, onSchemeChange, readTheme, type BaseOptions, type ChartTheme } from './uplot-kit.ts';

/**
 * New data alone redraws a chart at most this often (ms). The sampler reports at 10 Hz at most,
 * and a lane repaints its whole visible history: ten redraws a second of new data still read as
 * live, and leave the frame to the table and the dock. A zoom, a resize or a selection redraws at once.
 */
const DATA_REDRAW_MS = 100;

/** The props every chart of rows (process lifetimes, Pool workers, lock lanes) takes from the panel. */
export interface RowChartProps {
  labels?: Partial<ChartLabels>;
  /** Height of a row, CSS px. */
  rowHeight?: number;
  /** The app's time cursor in ms (a vertical marker), or null. */
  marker?: number | null;
  store?: RunStore;
  selectedKey?: string | null;
  onSelect?: (key: string) => void;
  /** Fold choices shared with the table (process-tree.ts). */
  folds?: ReadonlyMap<string, boolean>;
  onToggleFold?: (key: string, folded: boolean) => void;
  /** The unzoomed range when the panel sets it (Compare: both runs on one scale). */
  fit?: TimeRange;
}

/** What a row chart's picture depends on besides its data: its props, read at every redraw. */
export interface RowChartView {
  rowHeight: number;
  marker: number | null;
  labels: unknown;
  selectedKey: string | null;
  folds: ReadonlyMap<string, boolean>;
  fit: TimeRange | undefined;
  /** Anything else of the chart's own that changes the picture (a selected lock). */
  also?: string | null;
}

/** The spec entries every row chart derives from its props alone (see RowChartView). */
export function rowChartWatch(view: () => RowChartView): Pick<ChartSpec, 'marker' | 'labels' | 'watch' | 'extra' | 'fit'> {
  const foldsKey = (folds: ReadonlyMap<string, boolean>) => [...folds.entries()].map(([k, v]) => `${k}:${v ? 1 : 0}`).join(',');
  return {
    marker: () => view().marker,
    labels: () => view().labels,
    watch: () => {
      const v = view();
      return [v.rowHeight, v.marker, v.labels, v.selectedKey, v.also, foldsKey(v.folds), v.fit];
    },
    extra: () => {
      const v = view();
      return `${v.rowHeight}|${v.marker}|${v.selectedKey}|${v.also ?? ''}|${foldsKey(v.folds)}|${v.fit?.min}|${v.fit?.max}`;
    },
    fit: () => view().fit,
  };
}

/** What the host hands a chart's update: the model and the visible range it will show. */
export interface UpdateContext {
  model: RunModel;
  /** The run's "now" (its end once it ended), ms. */
  nowMs: number;
  /** The visible x range, seconds (set on the chart right after the update). */
  min: number;
  max: number;
}

export interface ChartSpec {
  /** The element uPlot goes in (read on mount). */
  element: () => HTMLElement;
  store: () => RunStore;
  /** The model area whose revision means "this chart's data changed". */
  area: RunArea;
  /** Whether something drawn reaches "now" (open bars, segments), so "now" moving alone redraws. */
  reachesNow: boolean;
  /** Height on mount, CSS px. */
  height: () => number;
  /** The y scale, y axis and draw hooks of this chart (the rest comes from baseOptions). */
  options: () => Pick<BaseOptions, 'yScale' | 'yAxis' | 'draw' | 'drawUnder'>;
  /** The app's time cursor in ms, read at every draw. */
  marker: () => number | null;
  /** A legend or readout: called when the cursor moves, and after each update while the cursor is off the chart (it shows "now"). */
  readout?: (u: uPlot) => void;
  /** The chart's labels: a change redraws (through the gate's `extra`). */
  labels: () => unknown;
  /** Reads every prop that changes the picture: the reactive dependencies of a redraw. */
  watch: () => unknown;
  /** Those props as a string, compared by the gate (size, marker, unit…). */
  extra: () => string;
  /** Reads the model into what the draw hook paints, sizes and y-ranges the chart. */
  update: (u: uPlot, c: UpdateContext) => void;
  /** After the theme was re-read (charts caching colors drop them). */
  themed?: (theme: ChartTheme) => void;
  /**
   * What is under the pointer at (left, top), CSS px inside the plot: its tooltip, and what a
   * click on it does. null: nothing there.
   */
  hit?: (u: uPlot, left: number, top: number) => { tip: Tip; select?: () => void } | null;
  /** The unzoomed range (default: the store's run, fitted). Compare passes one for both runs. */
  fit?: () => TimeRange | undefined;
}

/** The run's "now" in ms (its end once it ended), the same for every chart of a round of redraws. */
function runNow(model: RunModel): number {
  return model.end()?.t ?? chartFrames.steady(model, () => model.now());
}

/** The unzoomed range of a store's run (see view/time-fit.ts). */
export function fittedRange(model: RunModel): TimeRange {
  const span = model.span();
  const live = model.end() === null;
  return fitRange(span && live ? { first: span.first, last: runNow(model) } : span, live);
}

/** The options of a chart that draws its own rows (lanes, timeline): a y scale without an axis. */
export const ROWS_Y: Pick<BaseOptions, 'yScale' | 'yAxis'> = {
  yScale: { auto: false, range: [0, 1] },
  yAxis: { splits: () => [], values: () => [], grid: { show: false } },
};

/**
 * A y scale ranged by the chart's update from the visible data: uPlot's own auto-range starts
 * from the window's first value, NaN before a process or queue existed, and NaN poisons it.
 */
export const Y_FROM_UPDATE: uPlot.Scale = { auto: false, range: (_u, min, max) => [min, max] };

export interface HostedChart {
  readonly chart: uPlot | null;
  /** The theme the chart was built with, refreshed in place on a scheme change. */
  readonly theme: ChartTheme | null;
}

/**
 * The plot's geometry and range on the chart's element (CSS px from the element's corner,
 * seconds), so tests and tools can point at a time: the canvas itself says nothing.
 */
function expose(u: uPlot, min: number, max: number): void {
  const d = u.root.parentElement?.dataset;
  if (!d) return;
  const p = uPlot.pxRatio;
  d.xmin = String(min);
  d.xmax = String(max);
  d.plotLeft = String(u.bbox.left / p);
  d.plotTop = String(u.bbox.top / p);
  d.plotWidth = String(u.bbox.width / p);
  d.plotHeight = String(u.bbox.height / p);
}

export function hostChart(spec: ChartSpec): HostedChart {
  let chart: uPlot | null = null;
  let theme: ChartTheme | null = null;
  /** This chart's turn in the shared frame budget. */
  let job: ChartJob | null = null;
  /** When the pending redraw was asked for (its cost is measured up to the draw hook). */
  let drawStart = 0;
  /** Skips redraws that would paint the same pixels (redraw-gate.ts). */
  const gate = new RedrawGate(DATA_REDRAW_MS);
  /** Bumped when the labels change, so the gate sees it. */
  let labelsSeen = 0;
  /** A redraw the gate postponed (data changed too soon after the last one). */
  let later: ReturnType<typeof setTimeout> | undefined;

  function drawn(): void {
    if (drawStart > 0) job?.measured(performance.now() - drawStart);
    drawStart = 0;
  }

  function build(el: HTMLElement, width: number): uPlot {
    const th = (theme = readTheme(el, theme ?? undefined));
    const opts = baseOptions({
      width,
      height: spec.height(),
      theme: th,
      // uPlot shows an axis only when a series uses its scale: one invisible series does.
      series: [{ scale: 'y', stroke: 'transparent', points: { show: false } }],
      ...spec.options(),
      marker: spec.marker,
      drawn,
    });
    const readout = spec.readout;
    if (readout) (opts.hooks!.setCursor ??= []).push((u) => readout(u));
    (opts.hooks!.setCursor ??= []).push(hover);
    const u = new uPlot(opts, [new Float64Array([0, 1]), new Float64Array([NaN, NaN])], el);
    listenClicks(u);
    return u;
  }

  /** The pointer moved over the plot (or left it): the shared pointer time and the tooltip. */
  function hover(u: uPlot): void {
    const left = u.cursor.left ?? -1;
    const top = u.cursor.top ?? -1;
    if (left < 0 || top < 0) {
      timeAxis.pointer = null;
      tooltip.hide(u);
      return;
    }
    timeAxis.pointer = u.posToVal(left, 'x');
    // Only the chart under the pointer answers: the others follow the synced cursor line only.
    if (!spec.hit || !hovered) return;
    const found = spec.hit(u, left, top);
    if (!found) {
      tooltip.hide(u);
      return;
    }
    const box = u.over.getBoundingClientRect();
    tooltip.show(u, box.left + left, box.top + top, found.tip);
  }

  let hovered = false;

  /** A click that did not drag selects what is under it (a drag zooms, see uplot-kit). */
  function listenClicks(u: uPlot): void {
    let down: { x: number; y: number } | null = null;
    u.over.addEventListener('mouseenter', () => (hovered = true));
    u.over.addEventListener('mouseleave', () => {
      hovered = false;
      tooltip.hide(u);
    });
    u.over.addEventListener('mousedown', (e) => (down = { x: e.clientX, y: e.clientY }));
    u.over.addEventListener('click', (e) => {
      const d = down;
      down = null;
      if (!d || Math.abs(e.clientX - d.x) > 3 || Math.abs(e.clientY - d.y) > 3 || !spec.hit) return;
      const box = u.over.getBoundingClientRect();
      spec.hit(u, e.clientX - box.left, e.clientY - box.top)?.select?.();
    });
  }

  function askLater(ms: number): void {
    later ??= setTimeout(() => {
      later = undefined;
      job?.request();
    }, ms);
  }

  function visible(model: RunModel): TimeRange {
    return timeAxis.range(spec.fit?.() ?? fittedRange(model));
  }

  function gateState(u: uPlot): GateState {
    const model = spec.store().model;
    const nowS = runNow(model) / 1000;
    const { min, max } = visible(model);
    return {
      rev: model.revision(spec.area),
      min,
      max,
      // Lines that end at their last sample do not change when only "now" moves.
      now: spec.reachesNow ? nowS : min,
      width: u.bbox.width,
      // The run's end redraws once more (axes end exactly there).
      extra: `${spec.extra()}|${labelsSeen}|${model.end() ? 1 : 0}`,
    };
  }

  function update(): void {
    const u = chart;
    if (!u) return;
    drawStart = performance.now();
    const drawing = gateState(u);
    const model = spec.store().model;
    const nowMs = runNow(model);
    const { min, max } = visible(model);
    spec.update(u, { model, nowMs, min, max });
    u.setScale('x', { min, max });
    expose(u, min, max);
    gate.drawn(drawing, performance.now());
    if (u.cursor.left == null || u.cursor.left < 0) spec.readout?.(u);
  }

  // One uPlot per mounted component, resized in place, destroyed on unmount.
  $effect(() => {
    const el = spec.element();
    job = chartFrames.register(update);
    chart = untrack(() => build(el, Math.max(120, el.clientWidth)));
    untrack(update);
    const stopWidth = observeWidth(el, (w) => {
      chart?.setSize({ width: w, height: chart.height });
      gate.reset();
      update();
    });
    // A web font (the bundled CJK face) that arrives after a draw: canvas text does not redraw itself.
    const fonts = typeof document !== 'undefined' ? document.fonts : undefined;
    const onFonts = () => {
      gate.reset();
      job?.request();
    };
    fonts?.addEventListener('loadingdone', onFonts);
    const stopScheme = onSchemeChange(() => {
      gate.reset();
      if (theme) {
        readTheme(el, theme);
        spec.themed?.(theme);
      }
      chart?.redraw(false, true);
    });
    return () => {
      stopWidth();
      stopScheme();
      fonts?.removeEventListener('loadingdone', onFonts);
      if (chart) tooltip.hide(chart);
      clearTimeout(later);
      later = undefined;
      job?.dispose();
      job = null;
      chart?.destroy();
      chart = null;
    };
  });

  $effect(() => {
    void spec.labels();
    labelsSeen++;
  });

  // New data (at most once per frame), a zoom, new props: a redraw, never a rebuild.
  $effect(() => {
    void spec.store().version;
    void timeAxis.zoom;
    void spec.watch();
    // On a coming frame, when the shared budget allows (frame-budget.ts).
    untrack(() => {
      if (!chart) return;
      const wait = gate.check(gateState(chart), performance.now());
      if (wait === DRAW_NOW) job?.request();
      else if (wait > 0) askLater(wait);
    });
  });

  return {
    get chart() {
      return chart;
    },
    get theme() {
      return theme;
    },
  };
}
