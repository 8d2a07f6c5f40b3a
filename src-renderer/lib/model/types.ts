// The shapes the run model hands to components. Plain data: no classes, no DOM.
//
// Time units: every `t`, `start`, `end`, `startedAt` and stat is in milliseconds since the run
// started, exactly as in the events; only the x values of chart series (`xs`) are in seconds,
// because that is what the charts' shared time axis shows.

import type { LockKind, Pid, SyncKind, ProcessInfo, ProcessState, StreamName } from '../../../src-main/api.ts';

/** A process row as components see it: the engine's row, placed in the tree and colored. */
export interface ProcRow extends Omit<ProcessInfo, 'cpuTime' | 'peakRss'> {
  /** Stable palette color, from the order the process first appeared. */
  color: string;
  /** Depth in the process tree (0 for a root). */
  depth: number;
  /**
   * CPU time used so far, seconds (htop's TIME+): the engine's figure when its samples carry one,
   * else the samples' CPU % integrated over the time between them. null before the first sample.
   */
  cpuSeconds: number | null;
  /** Highest resident memory seen, bytes; kept after the process exits. */
  peakRss: number | null;
  /** A Pool worker (by its name, or because it reported tasks). */
  poolWorker: boolean;
}

export interface SeriesInfo {
  key: string;
  /** `<name> (<pid>)` */
  label: string;
  color: string;
}

/**
 * uPlot-ready aligned columns: `data = [xs, ...ys]`, xs in seconds since the run started.
 * A missing value is NaN, not null: a JS array holding nulls stores every other number boxed
 * (one heap object per point), which is what the typed columns avoid. uPlot's line path skips a
 * NaN point (canvas ignores it), so a process's line simply starts when it starts and stops
 * when it exits. `level` k means each row is the max of 2^k raw rows (see series.ts).
 */
export interface AlignedSeries {
  data: [xs: Float64Array, ...ys: Float64Array[]];
  series: SeriesInfo[];
  level: number;
  /** Raw rows per point at this level (2^level). */
  bucket: number;
  /** Changes whenever `series` changes (added or dropped columns); charts rebuild series then. */
  structure: number;
}

export interface QueueView {
  queue: string;
  /** `Queue 1`, `Queue 2`… by creation order. */
  label: string;
  /** 1-based creation order, for labels a chart translates itself. */
  index: number;
  /** 0 means unbounded. */
  maxsize: number;
  color: string;
  /** This queue's bucket start times in seconds (see queue-series.ts). */
  xs: Float64Array;
  /** Depth at the end of each bucket: the step line (it holds until the next row). */
  depth: Float64Array;
  /** Highest depth reached inside each bucket, so a spike shorter than a bucket stays visible. */
  peak: Float64Array;
  /** The bucket's last operation: 1 put, -1 get, 0 create (for a lock's count band: 0). */
  op: Float64Array;
  /** Who did it (pid). */
  pid: Float64Array;
  /** Operations in the bucket. */
  count: Float64Array;
  /** This queue's bucket width in ms (it doubles as the run grows, see queue-series.ts). */
  bucketMs: number;
}

export interface Segment {
  key: string;
  pid: Pid;
  start: number;
  /** null while still open. */
  end: number | null;
  color: string;
}

/** How a wait ended. */
export type WaitOutcome = 'acquired' | 'timeout' | 'exited' | 'open';

export type LaneFlag =
  | { kind: 'deadlock'; text: string; pids: Pid[]; cycle: { pid: Pid; lock: string; lockLabel: string; holder: Pid }[] }
  | { kind: 'abandoned'; text: string; pid: Pid; at: number };

/** What Linux's lock_stat reports, in ms. Wait figures are over the acquisitions that waited. */
export interface LockStats {
  acquisitions: number;
  /** Acquisitions that had to wait because another process held the lock (or was queued first). */
  waited: number;
  avgWait: number;
  maxWait: number;
  /** Over completed holds (released or abandoned). */
  avgHold: number;
  maxHold: number;
  /** Waits that ended by timeout (including a failed non-blocking acquire). */
  timeouts: number;
}

/** Columnar segments: index i is one segment; `end` NaN while open. Times in ms. */
export interface SegmentColumns {
  readonly length: number;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly pid: Float64Array;
  /** Index of the process row (for its color: `palette[color[i]]` is resolved in `colorOf`). */
  readonly proc: Int32Array;
  /** For waits: 0 acquired, 1 timeout, 2 exited (NaN end: still waiting). */
  readonly outcome: Uint8Array;
  /** The longest closed segment so far, so a reader can find every segment overlapping a window. */
  readonly maxSpan: number;
  /** First index whose start >= t. */
  lowerBound(t: number): number;
  /** Indices of the open segments (at most one per process). */
  openIndices(): Iterable<number>;
}

export type LaneKind = LockKind | SyncKind | 'lock';

export interface LockLaneView {
  lock: string;
  /** `Lock 1`, `Semaphore 2`… by creation order. */
  label: string;
  index: number;
  /** A semaphore's kind and capacity (from its create); a Lock: `lock`, 1; a Condition, Event or Barrier: its kind (waiters only). */
  kind: LaneKind;
  capacity: number;
  /** Segments as objects (built on first read; the charts read `holdCols`/`waitCols`). */
  readonly holds: Segment[];
  readonly waits: Segment[];
  holdCols: SegmentColumns;
  waitCols: SegmentColumns;
  /** Process color of row index `proc`. */
  colorOf: (proc: number) => string;
  flag: LaneFlag | null;
  stats: LockStats;
  holder: Pid | null;
  waiters: readonly Pid[];
  /** Set once the holder exited holding the lock: it stays held by the dead process from `at` on. */
  abandoned: { pid: Pid; proc: number; at: number } | null;
}

export interface TimelineRow {
  key: string;
  ppid: Pid;
  pid: Pid | null;
  name: string;
  /** null while the Process object is created but not started. */
  start: number | null;
  /** null while running (the bar is open to "now"). */
  end: number | null;
  exitcode: number | null;
  state: ProcessState;
  color: string;
  depth: number;
}

export interface ConsoleLine {
  t: number;
  pid: Pid;
  stream: StreamName;
  text: string;
  color: string;
  name: string;
}

/** What a CPU or memory chart draws when it cannot draw every process (RunModel.topSeries). */
export interface TopSeriesView {
  /** Sampler rounds, seconds. */
  xs: Float64Array;
  /** The sum of every live process's latest reading, per round. */
  total: Float64Array;
  /** The busiest processes (and the selected one), busiest first; NaN where a process has no reading. */
  lines: { key: string; name: string; pid: Pid | null; label: string; color: string; data: Float64Array; selected: boolean; col: number }[];
  /** Processes with a reading that have no line of their own: drawn together as "others". */
  others: number;
  level: number;
  /** Changes when the set of columns changes. */
  structure: number;
}

/** A Pool worker's finished tasks: start (NaN when unknown) and end in ms, and whether it raised. */
export interface TaskMarks {
  start: number[];
  end: number[];
  failed: boolean[];
}
