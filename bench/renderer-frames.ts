// Renderer frame-time bench: a synthetic run (bench/synthetic-run.ts) of 200 processes sampled at
// 10 Hz for 10 minutes, plus a busy queue and two contended locks, streamed into the whole window
// (App, through an in-page ProcscopeApi: table, charts, dock and all) while it draws, with a
// process selected as a person would. Frame times are measured WHILE ingesting, never after:
//
//   * rAF deltas: the gap between consecutive animation frames (16.7 ms when nothing is late);
//   * work: from the start of a frame's first rAF callback to a message posted from it, which
//     runs once that frame's callbacks, Svelte effects, uPlot redraws, style, layout and paint
//     are done: the main-thread cost of the frame;
//   * long tasks (PerformanceObserver 'longtask': any task over 50 ms).
//
// The result lands in `window.__benchResult` = { frames, p50, p95, p99, max, longTasks, … }
// (frames/p50…max are rAF deltas in ms), for Playwright to read.
//
// Query parameters: processes=200 hz=10 minutes=10 speed=20 (sim ms per wall ms) queueOps=2000
// (per sim second) warm=0 (minutes ingested at once before measuring); only=charts|cpu|memory|
// queues|locks|timeline|none mounts the charts panel or that one chart (or nothing) instead of the
// window, fed straight into the run store (to see which costs what); log=<url of a run log>
// replays that log (all at once) for a look.
//
// This file is type-checked by the root tsconfig (Node types, no DOM lib): the browser is
// reached through the small typed handle `win` below.

import { mount } from 'svelte';
import type { PushMessage, RunEvent, RunStatus } from '../src-main/api.ts';
import App from '../src-renderer/App.svelte';
import { SyntheticRun } from './synthetic-run.ts';
import ChartsPanel from '../src-renderer/components/charts/ChartsPanel.svelte';
import CpuChart from '../src-renderer/components/charts/CpuChart.svelte';
import LockLanes from '../src-renderer/components/charts/LockLanes.svelte';
import MemoryChart from '../src-renderer/components/charts/MemoryChart.svelte';
import QueueChart from '../src-renderer/components/charts/QueueChart.svelte';
import Timeline from '../src-renderer/components/charts/Timeline.svelte';
import { chartFrames } from '../src-renderer/components/charts/frame-budget.ts';
import { runStore } from '../src-renderer/lib/run-store.svelte.ts';
import '../src-renderer/theme.css';

interface BenchElement {
  textContent: string | null;
}

interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

interface BenchResult extends Stats {
  /** Frames measured (rAF deltas). */
  frames: number;
  /** Long tasks (> 50 ms) seen while ingesting. */
  longTasks: number;
  longTaskMs: number;
  /** Main-thread work per frame (ms), see the header. */
  work: Stats;
  /** Of which: RunStore.ingest (the model). */
  ingest: Stats;
  /** Of which: making up the synthetic events (not the renderer's cost). */
  generate: Stats;
  /** Frames whose work exceeded 16 ms. */
  framesOver16: number;
  /** The shared chart scheduler: frames that drew, chart redraws, deferrals, learnt cost factor. */
  scheduler: { frames: number; draws: number; deferred: number; factor: number };
  /** The ten costliest frames: when (sim s) and what they spent (ms). */
  worst: { sim: number; work: number; ingest: number; generate: number; events: number }[];
  /** The same figures for the last third of the run, when every chart holds its full window. */
  lastThird: { frames: number; rafP95: number; rafMax: number; workP95: number; workP99: number; workMax: number };
  events: number;
  simSeconds: number;
  wallMs: number;
  params: Record<string, number>;
  done: true;
}

interface BenchWindow {
  document: { getElementById(id: string): BenchElement | null };
  location: { search: string };
  requestAnimationFrame(cb: (t: number) => void): number;
  fetch(url: string): Promise<{ ok: boolean; status: number; text(): Promise<string> }>;
  __benchResult?: BenchResult | { error: string };
}

const win = globalThis as unknown as BenchWindow;
const query = new URLSearchParams(win.location.search);
const num = (k: string, d: number) => {
  const v = Number(query.get(k));
  return Number.isFinite(v) && v > 0 ? v : d;
};

function stats(xs: number[]): Stats {
  if (xs.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const s = xs.slice().sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const r = (v: number) => Math.round(v * 100) / 100;
  return { p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s[s.length - 1]), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

const status = win.document.getElementById('status');
const target = win.document.getElementById('charts');
if (!status || !target) throw new Error('bench page is missing #status or #charts');
const onlyParam = query.get('only');
const only = { cpu: CpuChart, memory: MemoryChart, queues: QueueChart, locks: LockLanes, timeline: Timeline, charts: ChartsPanel }[onlyParam ?? ''];

/**
 * The whole window (the default): App, fed through the same ProcscopeApi a shell gives it, here
 * an in-page one that answers the startup commands and pushes the synthetic run as live batches.
 * So the bench measures everything a live run costs: model, table, charts, dock, status line.
 */
const listeners = new Set<(msg: PushMessage) => void>();
const benchStatus: RunStatus = { runId: 'bench', logPath: '/bench.jsonl', scenario: 'bench-synthetic', runtime: 'typescript', state: 'running', end: null };
let following = false;
(win as unknown as { procscope: unknown }).procscope = {
  call: async (command: string) => {
    switch (command) {
      case 'presets.list':
      case 'runs.list':
        return [];
      case 'app.info':
        return { shell: 'web', version: 'bench', platform: 'linux', runsDir: '/' };
      case 'settings.get':
        return { interval: 100, python: 'python3' };
      case 'run.current':
        // The app resets its view on this answer: pushes may start once it has arrived.
        queueMicrotask(() => (following = true));
        return benchStatus;
      default:
        throw { name: 'BenchError', message: `${command} is not part of the bench` };
    }
  },
  subscribe: (l: (msg: PushMessage) => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

const wholeWindow = onlyParam === null;
/** Feeds a batch: to the window through its api, or straight into the run store. */
const feed = (events: RunEvent[]) => {
  if (events.length === 0) return;
  if (wholeWindow) for (const l of listeners) l({ type: 'events', runId: 'bench', events });
  else runStore.ingest(events);
};

// only=none mounts nothing: the cost of ingesting alone.
if (wholeWindow) mount(App, { target: target as never });
else if (onlyParam !== 'none') mount(only as typeof ChartsPanel, { target: target as never, props: {} });

/** Resolves once the window follows the run (its startup commands answered). */
async function windowReady(): Promise<void> {
  while (wholeWindow && !following) await new Promise((r) => setTimeout(r, 20));
}

/** With the whole window: a process selected (details pane, highlighted row and lanes), as a person would. */
function selectAProcess(): void {
  const doc = win.document as unknown as { querySelectorAll(s: string): ArrayLike<{ click(): void }> };
  const rows = doc.querySelectorAll('[data-testid=process-row]');
  if (rows.length > 1) rows[1].click();
}

async function replayLog(url: string): Promise<void> {
  const res = await win.fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: ${res.status}`);
  const events = (await res.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RunEvent);
  feed(events);
  status!.textContent = `replayed ${events.length} events from ${url}`;
  win.__benchResult = { frames: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0, longTasks: 0, longTaskMs: 0, work: stats([]), ingest: stats([]), generate: stats([]), framesOver16: 0, scheduler: { ...chartFrames.stats, factor: chartFrames.factor }, worst: [], lastThird: { frames: 0, rafP95: 0, rafMax: 0, workP95: 0, workP99: 0, workMax: 0 }, events: events.length, simSeconds: 0, wallMs: 0, params: {}, done: true };
}

function runSynthetic(): void {
  const params = {
    processes: num('processes', 200),
    hz: num('hz', 10),
    minutes: num('minutes', 10),
    speed: num('speed', 20),
    queueOps: num('queueOps', 2000),
    /** Minutes of the run ingested at once before measuring (then it goes on live at `speed`). */
    warm: Number(query.get('warm')) || 0,
  };
  const sim = new SyntheticRun(params.processes, params.hz, params.minutes, params.queueOps);
  // warm=9 with speed=1: the charts already hold 9 minutes when the measured, live minute starts.
  const warmMs = Math.min(params.warm * 60_000, sim.totalMs);
  if (warmMs > 0) feed(sim.until(warmMs));
  const raf: number[] = [];
  const work: number[] = [];
  const ingest: number[] = [];
  const generate: number[] = [];
  /** Per work sample: sim time reached and batch size, to explain the worst frames. */
  const simAt: number[] = [];
  const batchSize: number[] = [];
  const longTasks: number[] = [];
  const longTaskStarts: number[] = [];
  /** performance.now() from which frames count (after a warm start's first frames). */
  let steadyFrom = 0;
  let observer: { disconnect(): void } | null = null;
  try {
    const po = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        longTasks.push(e.duration);
        longTaskStarts.push(e.startTime);
      }
    });
    po.observe({ type: 'longtask', buffered: false } as never);
    observer = po;
  } catch {
    // No long-task support (not Chromium): the figure stays 0.
  }

  const channel = new MessageChannel();
  let frameStart = 0;
  // (Node's MessagePort type, which the root tsconfig sees, has no onmessage; the browser's has.)
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
    work.push(performance.now() - frameStart);
  };

  let wall0 = -1;
  let frameNo = 0;
  let last = -1;
  let lastStatus = 0;
  const frame = (ts: number) => {
    const now = performance.now();
    frameStart = now;
    if (wall0 < 0) wall0 = ts;
    // After a warm start, the first frames draw the preloaded minutes once: not the steady state.
    if (last >= 0 && ++frameNo > (warmMs > 0 ? 5 : 0)) raf.push(ts - last);
    if (frameNo === (warmMs > 0 ? 6 : 0)) steadyFrom = now;
    last = ts;
    const done = sim.now >= sim.totalMs;
    if (done) {
      finish();
      return;
    }
    win.requestAnimationFrame(frame);
    const g0 = performance.now();
    const batch = sim.until(warmMs + (ts - wall0) * params.speed);
    const g1 = performance.now();
    feed(batch);
    if (frameNo === 3) selectAProcess();
    const g2 = performance.now();
    generate.push(g1 - g0);
    ingest.push(g2 - g1);
    simAt.push(sim.now / 1000);
    batchSize.push(batch.length);
    channel.port2.postMessage(null);
    if (now - lastStatus > 250) {
      lastStatus = now;
      const s = stats(raf.slice(-120));
      status!.textContent =
        `sim ${(sim.now / 1000).toFixed(0)} / ${(sim.totalMs / 1000).toFixed(0)} s · ${sim.events.toLocaleString('en')} events · ` +
        `rAF p50 ${s.p50} ms p95 ${s.p95} ms · work p95 ${stats(work.slice(-120)).p95} ms · long tasks ${longTasks.length}`;
    }
  };

  const finish = () => {
    observer?.disconnect();
    if (warmMs > 0) {
      // The same first frames the rAF figures leave out (see frame()).
      for (const a of [work, ingest, generate, simAt, batchSize]) a.splice(0, 6);
      // Long tasks then were the preload's first drawing, not the run's.
      const kept = longTasks.filter((_, i) => longTaskStarts[i] >= steadyFrom);
      longTasks.splice(0, longTasks.length, ...kept);
    }
    const third = Math.floor((work.length * 2) / 3);
    const lastRaf = stats(raf.slice(Math.floor((raf.length * 2) / 3)));
    const lastWork = stats(work.slice(third));
    const r = stats(raf);
    const result: BenchResult = {
      frames: raf.length,
      ...r,
      longTasks: longTasks.length,
      longTaskMs: Math.round(longTasks.reduce((a, b) => a + b, 0)),
      work: stats(work),
      ingest: stats(ingest),
      generate: stats(generate),
      framesOver16: work.filter((w) => w > 16).length,
      scheduler: { ...chartFrames.stats, factor: Math.round(chartFrames.factor * 100) / 100 },
      worst: work
        .map((w, i) => ({ sim: Math.round(simAt[i] * 10) / 10, work: Math.round(w * 10) / 10, ingest: Math.round(ingest[i] * 10) / 10, generate: Math.round(generate[i] * 10) / 10, events: batchSize[i] }))
        .sort((a, b) => b.work - a.work)
        .slice(0, 10),
      lastThird: { frames: raf.length - Math.floor((raf.length * 2) / 3), rafP95: lastRaf.p95, rafMax: lastRaf.max, workP95: lastWork.p95, workP99: lastWork.p99, workMax: lastWork.max },
      events: sim.events,
      simSeconds: sim.totalMs / 1000,
      wallMs: Math.round(performance.now() - wall0),
      params,
      done: true,
    };
    win.__benchResult = result;
    status!.textContent =
      `done: ${result.frames} frames over ${(result.wallMs / 1000).toFixed(1)} s, ${result.events.toLocaleString('en')} events · ` +
      `rAF p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} max ${r.max} ms · work p50 ${result.work.p50} p95 ${result.work.p95} ` +
      `p99 ${result.work.p99} max ${result.work.max} ms · long tasks ${result.longTasks}`;
  };

  win.requestAnimationFrame(frame);
}

const log = query.get('log');
if (log) {
  windowReady().then(() => replayLog(log)).catch((e: unknown) => {
    win.__benchResult = { error: String(e) };
    status.textContent = String(e);
  });
} else {
  void windowReady().then(runSynthetic);
}
