// Everything the window shows about one run, computed from its events in order: live batches,
// or a past run's log replayed (the same events in one batch or in many give the same state).
//
// Ingesting is the hot path (a busy run sends tens of thousands of events a second): it updates
// typed columns and counters in place and allocates nothing per sample. Queries are for
// components: each is cheap and cached until `version` changes.

import type {
  ControlEvent,
  DeadlockEvent,
  EndEvent,
  LockEvent,
  Pid,
  RunEvent,
  RunStartedEvent,
  SampleEvent,
  WarningEvent,
} from '../../../src-main/api.ts';
import { ProfileData } from '../../../src-main/common/profile/profile-data.ts';
import { WaitTable } from '../../../src-main/common/profile/wait-table.ts';
import { ConsoleLog } from './console-log.ts';
import { deadlockText, LockLane, type LaneProcs } from './lock-lanes.ts';
import { ProcessTable, type ProcRecord } from './process-table.ts';
import { QueueSeries } from './queue-series.ts';
import { SampleSeries } from './series.ts';
import { treeOrder } from './tree.ts';
import type { AlignedSeries, ConsoleLine, LockLaneView, ProcRow, QueueView, TimelineRow } from './types.ts';

export interface RunModelOptions {
  /** Sampler rounds kept per series (default 6000: 10 min at 10 samples/s). */
  maxPoints?: number;
  /** Output lines kept (default 20 000). */
  maxConsoleLines?: number;
  /** Hold and wait segments kept per lock, each (default 50 000; older ones are merged, see segments.ts). */
  maxSegments?: number;
  /** Warnings and controls kept (default 1000 each). */
  maxNotes?: number;
}

/** The parts of a run a chart draws, each with its own revision (see `revision`). */
export type RunArea = 'samples' | 'queues' | 'locks' | 'processes';

/** Which part of a series a chart shows, so the model can hand it a level that fits. */
export interface SeriesWindow {
  /** Visible range in seconds (default: everything). */
  from?: number;
  to?: number;
  /** About how many points the chart can show across that range (its width in CSS pixels). */
  points?: number;
}

const MiB = 1024 * 1024;
/** How often (in sampler rounds) to look for series whose data has all been evicted. */
const PRUNE_EVERY = 64;

export class RunModel {
  /** The run's profile samples and its blocking waits (read by the Profile tab; see profile-data.ts). */
  readonly profile = new ProfileData();
  readonly waits = new WaitTable();
  readonly maxPoints: number;
  /** Increments whenever an ingested batch changed anything. */
  version = 0;
  /** Per area: bumped when an event of that area arrives (see revision()). */
  readonly #rev: Record<RunArea, number> = { samples: 0, queues: 0, locks: 0, processes: 0 };

  readonly #opts: Required<RunModelOptions>;
  readonly #procs = new ProcessTable();
  readonly #cpu: SampleSeries;
  readonly #rss: SampleSeries;
  /** The process of each cpu/rss column. */
  #colOwner: ProcRecord[] = [];
  #roundStart = -Infinity;
  #roundWindow = 450;
  #rounds = 0;
  readonly #queues: QueueSeries;
  #lanes: LockLane[] = [];
  readonly #laneById = new Map<string, LockLane>();
  readonly #console: ConsoleLog;
  #deadlocks: DeadlockEvent[] = [];
  #warnings: WarningEvent[] = [];
  #controls: ControlEvent[] = [];
  #run: RunStartedEvent | null = null;
  #end: EndEvent | null = null;
  #now = 0;
  readonly #laneProcs: LaneProcs;
  #cache = new Map<string, { version: number; value: unknown }>();

  constructor(opts: RunModelOptions = {}) {
    this.#opts = {
      maxPoints: Math.max(16, Math.floor(opts.maxPoints ?? 6000)),
      maxConsoleLines: opts.maxConsoleLines ?? 20_000,
      maxSegments: opts.maxSegments ?? 50_000,
      maxNotes: opts.maxNotes ?? 1000,
    };
    this.maxPoints = this.#opts.maxPoints;
    this.#cpu = new SampleSeries(this.maxPoints);
    this.#rss = new SampleSeries(this.maxPoints);
    this.#queues = new QueueSeries(this.maxPoints);
    this.#console = new ConsoleLog(this.#opts.maxConsoleLines);
    const rows = this.#procs.rows;
    this.#laneProcs = {
      procOf: (pid, t) => this.#procs.ensurePid(pid, t).index,
      keyOf: (proc) => rows[proc].key,
      colorOf: (proc) => rows[proc].color,
    };
  }

  reset(): void {
    this.#procs.clear();
    this.#cpu.clear();
    this.#rss.clear();
    this.#colOwner = [];
    this.#roundStart = -Infinity;
    this.#roundWindow = 450;
    this.#rounds = 0;
    this.#queues.clear();
    this.#lanes = [];
    this.#laneById.clear();
    this.#console.clear();
    this.#deadlocks = [];
    this.#warnings = [];
    this.#controls = [];
    this.#run = null;
    this.#end = null;
    this.#now = 0;
    this.#cache.clear();
    this.profile.reset();
    this.waits.reset();
    for (const k of Object.keys(this.#rev) as RunArea[]) this.#rev[k]++;
    this.version++;
  }

  ingest(events: readonly RunEvent[]): void {
    if (events.length === 0) return;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.t > this.#now) this.#now = e.t;
      this.profile.ingest(e);
      this.waits.ingest(e);
      switch (e.type) {
        case 'sample':
          this.#sample(e);
          this.#rev.samples++;
          break;
        case 'queue':
          this.#queues.record(e.queue, e.t, e.depth, e.maxsize);
          this.#rev.queues++;
          break;
        case 'lock':
          this.#lock(e);
          this.#rev.locks++;
          break;
        case 'output': {
          const rec = this.#procs.ensurePid(e.pid, e.t);
          this.#console.push({ t: e.t, pid: e.pid, stream: e.stream, text: e.text, color: rec.color, name: rec.name });
          break;
        }
        case 'process': {
          const rec = this.#procs.started(e);
          if (rec.col >= 0) this.#relabel(rec);
          this.#rev.processes++;
          break;
        }
        case 'created':
          this.#procs.created(e);
          this.#rev.processes++;
          break;
        case 'exit':
          this.#procs.exited(e);
          for (const lane of this.#lanes) lane.exited(e.pid, e.t);
          this.#rev.processes++;
          this.#rev.locks++;
          break;
        case 'closed':
          this.#procs.closed(e);
          this.#rev.processes++;
          break;
        case 'task':
          this.#procs.task(e);
          this.#rev.processes++;
          break;
        case 'deadlock':
          this.#deadlock(e);
          this.#rev.locks++;
          break;
        case 'control':
          pushBounded(this.#controls, e, this.#opts.maxNotes);
          break;
        case 'warning':
          pushBounded(this.#warnings, e, this.#opts.maxNotes);
          break;
        case 'run':
          this.#run = e;
          // A sampler round reads every live pid at once, and the next round starts at least one
          // interval after the previous one ended: samples closer than that belong together.
          this.#roundWindow = Math.max(1, e.interval * 0.9);
          break;
        case 'end':
          this.#end = e;
          break;
      }
    }
    this.version++;
  }

  // -------------------------------------------------------------------------------------------
  // Ingest helpers

  #sample(e: SampleEvent): void {
    const rec = this.#procs.ensurePid(e.pid, e.t);
    rec.cpu = e.cpu;
    rec.rss = e.rss;
    let col = rec.col;
    if (col < 0) {
      const info = { key: rec.key, label: seriesLabel(rec), color: rec.color };
      col = rec.col = this.#cpu.add(info);
      this.#rss.add(info);
      this.#colOwner.push(rec);
    }
    // A new round starts after the window, or when this pid already has a value in this round.
    if (e.t - this.#roundStart > this.#roundWindow || this.#cpu.hasLatest(col)) {
      this.#roundStart = e.t;
      const x = e.t / 1000;
      this.#cpu.appendRow(x);
      this.#rss.appendRow(x);
      if (++this.#rounds % PRUNE_EVERY === 0) this.#prune();
    }
    this.#cpu.setLatest(col, e.cpu);
    this.#rss.setLatest(col, e.rss / MiB);
  }

  /** Drops the series of processes that ended and whose every sample has been evicted. */
  #prune(): void {
    for (let col = this.#colOwner.length - 1; col >= 0; col--) {
      const owner = this.#colOwner[col];
      if (owner.state === 'running' || !this.#cpu.isEmpty(col)) continue;
      this.#cpu.remove(col);
      this.#rss.remove(col);
      this.#colOwner.splice(col, 1);
      owner.col = -1;
      for (let c = col; c < this.#colOwner.length; c++) this.#colOwner[c].col = c;
    }
  }

  #relabel(rec: ProcRecord): void {
    const label = seriesLabel(rec);
    this.#cpu.relabel(rec.col, label);
    this.#rss.relabel(rec.col, label);
  }

  #lane(id: string): LockLane {
    let lane = this.#laneById.get(id);
    if (!lane) {
      lane = new LockLane(id, this.#lanes.length + 1, this.#opts.maxSegments);
      this.#lanes.push(lane);
      this.#laneById.set(id, lane);
    }
    return lane;
  }

  #lock(e: LockEvent): void {
    this.#lane(e.lock).apply(e, this.#laneProcs);
  }

  #deadlock(e: DeadlockEvent): void {
    this.#deadlocks.push(e);
    const cycle = e.cycle.map((edge) => ({ ...edge, lockLabel: this.#lane(edge.lock).label }));
    const pids = [...new Set(cycle.map((edge) => edge.pid))];
    const flag = { kind: 'deadlock' as const, text: deadlockText(cycle), pids, cycle };
    for (const edge of e.cycle) this.#lane(edge.lock).flag = flag;
  }

  #cached<T>(key: string, build: () => T): T {
    const c = this.#cache.get(key);
    if (c && c.version === this.version) return c.value as T;
    const value = build();
    this.#cache.set(key, { version: this.version, value });
    return value;
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  /** Every process in tree order (parent above its children, children in order of appearance). */
  processes(): ProcRow[] {
    return this.#cached('processes', () => {
      const rows = this.#procs.rows;
      const { order, depth } = treeOrder(rows);
      return order.map((i) => procRow(rows[i], depth[i]));
    });
  }

  /**
   * CPU % per process, aligned by sampler round. Without a window: every retained round. With
   * one: the coarsest max-level that still has about `points` points in [from, to].
   */
  cpu(window?: SeriesWindow): AlignedSeries {
    return this.#cpu.view(levelFor(this.#cpu, window));
  }

  /** Resident memory per process in MiB, aligned like cpu(). */
  rss(window?: SeriesWindow): AlignedSeries {
    return this.#rss.view(levelFor(this.#rss, window));
  }

  /** Every queue, in creation order, as downsampled step data (see queue-series.ts). */
  queues(): QueueView[] {
    return this.#queues.view();
  }

  lockLanes(): LockLaneView[] {
    return this.#cached('lanes', () => this.#lanes.map((l) => l.view(this.#laneProcs)));
  }

  /** Gantt rows of process lifetimes, in tree order. */
  timeline(): TimelineRow[] {
    return this.#cached('timeline', () =>
      this.processes().map((p) => ({
        key: p.key,
        pid: p.pid,
        name: p.name,
        start: p.startedAt,
        end: p.endedAt,
        exitcode: p.exitcode,
        state: p.state,
        color: p.color,
        depth: p.depth,
      })),
    );
  }

  /** The last output lines (oldest first), only those of the given pids when filtered. */
  console(filter?: ReadonlySet<Pid>): ConsoleLine[] {
    if (!filter) return this.#cached('console', () => this.#console.lines());
    const c = this.#cache.get('console-filtered') as { version: number; value: ConsoleLine[]; filter: ReadonlySet<Pid> } | undefined;
    if (c && c.version === this.version && c.filter === filter) return c.value;
    const value = this.#console.lines(filter);
    this.#cache.set('console-filtered', { version: this.version, value, filter } as { version: number; value: unknown });
    return value;
  }

  /**
   * A number that changes whenever the data of `area` changed (cpu and rss are 'samples'). A
   * chart compares it, with its visible range, to skip redraws that would paint the same pixels:
   * `version` moves with every batch, and a busy queue sends batches every frame.
   */
  revision(area: RunArea): number {
    return this.#rev[area];
  }

  run(): RunStartedEvent | null {
    return this.#run;
  }
  end(): EndEvent | null {
    return this.#end;
  }
  /** Latest event time, ms since the run started. */
  now(): number {
    return this.#now;
  }
  // Copies per version, so a `$derived` sees a new array when one was added.
  deadlocks(): DeadlockEvent[] {
    return this.#cached('deadlocks', () => this.#deadlocks.slice());
  }
  warnings(): WarningEvent[] {
    return this.#cached('warnings', () => this.#warnings.slice());
  }
  controls(): ControlEvent[] {
    return this.#cached('controls', () => this.#controls.slice());
  }
}

function levelFor(s: SampleSeries, w: SeriesWindow | undefined): number {
  if (!w || !w.points) return 0;
  return s.pickLevel(w.from ?? -Infinity, w.to ?? Infinity, w.points);
}

function seriesLabel(rec: ProcRecord): string {
  return rec.pid === null ? rec.name : `${rec.name} (${rec.pid})`;
}

function procRow(r: ProcRecord, depth: number): ProcRow {
  return {
    key: r.key,
    handle: r.handle,
    pid: r.pid,
    ppid: r.ppid,
    name: r.name,
    daemon: r.daemon,
    state: r.state,
    exitcode: r.exitcode,
    cpu: r.cpu,
    rss: r.rss,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    color: r.color,
    depth,
    ...(r.tasks ? { tasks: { ...r.tasks } } : {}),
  };
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
