// What every chart shares: the theme read from CSS variables, the time axis (same left gutter,
// same x format, cursor sync, drag-to-zoom and double-click-to-reset through timeAxis), sizing,
// and a few canvas helpers. Charts stay aligned in time because every one of them reserves
// the same GUTTER on the left and PAD_RIGHT on the right.

import uPlot from 'uplot';
import { SYNC_KEY, timeAxis } from '../../lib/time-axis.svelte.ts';

/** Left gutter of every chart, CSS px: y values, lane labels and stats, process names. */
export const GUTTER = 196;
/**
 * Room for half of an x label centred on the right edge ("0:00.005" is ~49 px at 11 px): a tick
 * lands there often (a run under a second is shown up to 0:01.0), and its label was cut.
 */
export const PAD_RIGHT = 26;
/** Height of the x axis under each chart, CSS px. */
export const X_AXIS = 22;

export interface ChartTheme {
  text: string;
  muted: string;
  faint: string;
  grid: string;
  surface: string;
  danger: string;
  ok: string;
  marker: string;
  font: string;
  dark: boolean;
}

const DARK_QUERY = '(prefers-color-scheme: dark)';

function cssVar(s: CSSStyleDeclaration, names: string[], fallback: string): string {
  for (const n of names) {
    const v = s.getPropertyValue(n).trim();
    if (v) return v;
  }
  return fallback;
}

/**
 * The chart colors, from the app's theme variables (theme.css) when present, else defaults for
 * the system's light or dark scheme. `--chart-*` variables override either.
 */
export function readTheme(el: Element, into?: ChartTheme): ChartTheme {
  const dark = typeof matchMedia === 'function' && matchMedia(DARK_QUERY).matches;
  const s = getComputedStyle(el);
  const t: ChartTheme = {
    text: cssVar(s, ['--chart-text', '--text'], dark ? '#e3e6ea' : '#1b1f24'),
    muted: cssVar(s, ['--chart-muted', '--text-muted'], dark ? '#9aa4b0' : '#57606a'),
    faint: cssVar(s, ['--chart-faint', '--text-faint'], dark ? '#6b7480' : '#8c959f'),
    grid: cssVar(s, ['--chart-grid'], dark ? 'rgba(255,255,255,0.07)' : 'rgba(0,0,0,0.07)'),
    surface: cssVar(s, ['--chart-surface', '--surface'], dark ? '#15181d' : '#ffffff'),
    danger: cssVar(s, ['--chart-danger', '--danger'], dark ? '#ff6b5e' : '#c42b1c'),
    ok: cssVar(s, ['--chart-ok', '--ok'], dark ? '#4ade80' : '#15803d'),
    marker: cssVar(s, ['--chart-marker', '--accent'], dark ? '#4c8dff' : '#2563eb'),
    font: cssVar(s, ['--chart-font', '--sans'], 'system-ui, sans-serif'),
    dark,
  };
  return into ? Object.assign(into, t) : t;
}

/** Calls `cb` when the system switches between light and dark; returns the unsubscribe. */
export function onSchemeChange(cb: () => void): () => void {
  if (typeof matchMedia !== 'function') return () => {};
  const mq = matchMedia(DARK_QUERY);
  mq.addEventListener('change', cb);
  return () => mq.removeEventListener('change', cb);
}

/** Calls `cb(width)` when the element's content width changes (whole CSS px). */
export function observeWidth(el: HTMLElement, cb: (width: number) => void): () => void {
  let last = -1;
  const ro = new ResizeObserver((entries) => {
    const w = Math.floor(entries[entries.length - 1].contentRect.width);
    if (w !== last && w > 0) {
      last = w;
      cb(w);
    }
  });
  ro.observe(el);
  return () => ro.disconnect();
}

// ---------------------------------------------------------------------------------------------
// Time axis

/** Tick steps for seconds: sub-second while zoomed in, then 1 s … 1 h. */
const TIME_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
];

/** `m:ss` (or `h:mm:ss`), with as many decimals as the tick step needs. No words: any language. */
export function formatClock(sec: number, step = 1): string {
  const decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
  const neg = sec < 0;
  let v = Math.abs(sec);
  v = Math.round(v * 10 ** decimals) / 10 ** decimals;
  const h = Math.floor(v / 3600);
  const m = Math.floor((v % 3600) / 60);
  const s = v % 60;
  let ss = s.toFixed(decimals);
  if (s < 10) ss = `0${ss}`;
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  return neg ? `-${body}` : body;
}

/** A number with about three significant digits (stats, axis values). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  return v.toPrecision(2).replace(/\.?0+$/, '');
}

let compact: Intl.NumberFormat | null = null;
let compactLang = '';

/** A count that fits the gutter: 9999 as is, then compact in the page's language (50.8K, 5.1万). */
export function formatCount(n: number): string {
  if (Math.abs(n) < 10_000) return String(n);
  const lang = (typeof document !== 'undefined' && document.documentElement.lang) || 'en';
  if (!compact || compactLang !== lang) {
    compactLang = lang;
    try {
      compact = new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 });
    } catch {
      compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
    }
  }
  return compact.format(n);
}

export interface BaseOptions {
  width: number;
  height: number;
  theme: ChartTheme;
  /** Series after the x series (index 0 is added here). */
  series: uPlot.Series[];
  /** The y scale (key 'y'). */
  yScale: uPlot.Scale;
  /** Extra y axis options (values, splits…); size is always GUTTER. */
  yAxis?: Partial<uPlot.Axis>;
  /** Draws on top of the series (canvas px; clip to u.bbox yourself). */
  draw?: (u: uPlot) => void;
  /** Draws under the series (after the axes and grid). */
  drawUnder?: (u: uPlot) => void;
  /** The time the app's scrubber points at, ms (a vertical marker), read at every draw. */
  marker?: () => number | null;
  /** Called when a redraw is complete (charts time themselves with it, see frame-budget.ts). */
  drawn?: () => void;
}

/** The options every chart starts from: shared time axis, gutter, theme, sync and zoom. */
export function baseOptions(o: BaseOptions): uPlot.Options {
  const th = o.theme;
  const font = () => `11px ${th.font}`;
  const hooks: uPlot.Hooks.Arrays = {
    setSelect: [
      (u) => {
        const sel = u.select;
        if (sel.width >= 3) {
          const min = u.posToVal(sel.left, 'x');
          const max = u.posToVal(sel.left + sel.width, 'x');
          timeAxis.setZoom(min, max);
        }
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      },
    ],
    drawClear: [],
    drawAxes: o.drawUnder ? [o.drawUnder] : [],
    draw: [
      (u) => {
        o.draw?.(u);
        const m = o.marker?.();
        if (m !== null && m !== undefined) drawTimeMarker(u, m / 1000, th.marker);
        o.drawn?.();
      },
    ],
  };
  return {
    width: o.width,
    height: o.height,
    padding: [6, PAD_RIGHT, 0, 0],
    legend: { show: false },
    cursor: {
      y: false,
      points: { show: false },
      sync: { key: SYNC_KEY, setSeries: false },
      drag: { x: true, y: false, setScale: false },
      // Double-click resets every chart (through timeAxis), not only this one.
      bind: {
        dblclick: () => () => {
          timeAxis.reset();
          return null;
        },
      },
    },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      // The x range is always set from timeAxis; never auto-ranged from a chart's own data, so
      // charts whose data starts at different times still line up.
      x: { time: false, auto: false, range: (_u, min, max) => [min, max] },
      y: o.yScale,
    },
    axes: [
      {
        scale: 'x',
        size: X_AXIS,
        space: 64,
        gap: 3,
        font: font(),
        stroke: () => th.muted,
        grid: { stroke: () => th.grid, width: 1 },
        ticks: { stroke: () => th.grid, width: 1, size: 3 },
        incrs: TIME_INCRS,
        values: (_u, splits, _ax, _space, incr) => splits.map((v) => formatClock(v, incr)),
      },
      {
        scale: 'y',
        side: 3,
        size: GUTTER,
        gap: 6,
        font: font(),
        stroke: () => th.muted,
        grid: { stroke: () => th.grid, width: 1 },
        ticks: { show: false },
        ...o.yAxis,
      },
    ],
    series: [{}, ...o.series],
    hooks,
  };
}

/** A vertical line at t seconds across the plot. */
export function drawTimeMarker(u: uPlot, tSec: number, color: string): void {
  const { left, top, width, height } = u.bbox;
  const x = Math.round(u.valToPos(tSec, 'x', true));
  if (x < left || x > left + width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(1, uPlot.pxRatio * 1.5);
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x + 0.5, top);
  ctx.lineTo(x + 0.5, top + height);
  ctx.stroke();
  ctx.restore();
}

// ---------------------------------------------------------------------------------------------
// Canvas helpers for the custom-drawn charts (lanes, timeline)

const hatches = new Map<string, CanvasPattern | string>();

/** Diagonal hatching in `color` (transparent between the lines), cached per color and density. */
export function hatch(ctx: CanvasRenderingContext2D, color: string, pxRatio: number): CanvasPattern | string {
  const key = `${color}|${pxRatio}`;
  let p = hatches.get(key);
  if (p) return p;
  const size = Math.max(4, Math.round(6 * pxRatio));
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  if (!g) return color;
  g.strokeStyle = color;
  g.lineWidth = Math.max(1, pxRatio * 1.6);
  g.beginPath();
  // Three strokes so the lines join across tile edges.
  for (const o of [-size, 0, size]) {
    g.moveTo(o, size);
    g.lineTo(o + size, 0);
  }
  g.stroke();
  p = ctx.createPattern(c, 'repeat') ?? color;
  hatches.set(key, p);
  return p;
}

/** Text cut to fit `maxWidth` (canvas px), with an ellipsis. */
export function fitText(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  if (ctx.measureText(text).width <= maxWidth) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? `${text.slice(0, lo)}…` : '';
}

let colorCtx: CanvasRenderingContext2D | null = null;

/**
 * Any CSS color the theme may hold (`#fff`, `rgb()`, `hsl()`, a name…) as the canvas normalizes
 * it: `#rrggbb`, or `rgba(…)` when it has alpha. pixel-layer's parseColor reads both.
 */
export function normalizeColor(css: string): string {
  colorCtx ??= document.createElement('canvas').getContext('2d');
  if (!colorCtx) return css;
  colorCtx.fillStyle = '#000000';
  colorCtx.fillStyle = css;
  return String(colorCtx.fillStyle);
}

/** A color with alpha (accepts #rgb / #rrggbb; anything else is returned as is). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  let h = m[1];
  if (h.length === 3) h = h.replace(/./g, (c) => c + c);
  const n = parseInt(h, 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export { lowerBound } from '../../../src-main/common/sorted.ts';

/** The smallest "nice" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^n) at or above v. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}
