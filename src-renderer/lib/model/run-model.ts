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
  QueueEvent,
  RunEvent,
  RunStartedEvent,
  SampleEvent,
  SharedEvent,
  SyncEvent,
  TaskEvent,
  WarningEvent,
} from '../../../src-main/api.ts';
import { ProfileData } from '../../../src-main/common/profile/profile-data.ts';
import { WaitTable } from '../../../src-main/common/profile/wait-table.ts';
import { ConsoleLog } from './console-log.ts';
import { deadlockText, LockLane, type LaneProcs } from './lock-lanes.ts';
import { ProcessTable, type ProcRecord } from './process-table.ts';
import { QueueSeries } from './queue-series.ts';
import { ResourceSeries, type SeriesWindow } from './resource-series.ts';
import { SharedUse, type SharedMatrix } from './shared-use.ts';
import { SyncMarks, type SyncMark } from './sync-marks.ts';
import { treeOrder } from './tree.ts';
import type { AlignedSeries, ConsoleLine, LockLaneView, ProcRow, QueueView, TaskMarks, TimelineRow, TopSeriesView } from './types.ts';

export interface RunModelOptions {
  /** Sampler rounds kept per series (default 6000: 10 min at 10 samples/s). */
  maxPoints?: number;
  /** Output lines kept (default 20 000). */
  maxConsoleLines?: number;
  /**
   * Hold and wait segments kept per lock, each (default 20 000; older ones are merged, see
   * segments.ts). The lanes visit every segment in view at each redraw: 20 000 over a 10-minute run
   * is still 30 ms each, far finer than a pixel of the whole run, and a zoom shows the newest in full.
   */
  maxSegments?: number;
  /** Warnings and controls kept (default 1000 each). */
  maxNotes?: number;
}

/** The parts of a run a chart draws, each with its own revision (see `revision`). */
export type { SeriesWindow };

interface QueueWaits {
  waits: number;
  /** ms, of the waits that ended. */
  waited: number;
  longest: number;
  since: number | null;
  /** The latest wait: which end, from when, until when (null: going on). */
  last: { side: 'get' | 'put'; start: number; end: number | null } | null;
}

export type RunArea = 'samples' | 'queues' | 'locks' | 'processes' | 'shared';


/** Tasks kept per Pool worker (a mark each): beyond this the table's count still grows. */
const MAX_TASK_MARKS = 100_000;

export class RunModel {
  /** The run's profile samples and its blocking waits (read by the Profile tab; see profile-data.ts). */
  readonly profile = new ProfileData();
  readonly waits = new WaitTable();
  readonly maxPoints: number;
  /** Increments whenever an ingested batch changed anything. */
  version = 0;
  /** Per area: bumped when an event of that area arrives (see revision()). */
  readonly #rev: Record<RunArea, number> = { samples: 0, queues: 0, locks: 0, processes: 0, shared: 0 };

  readonly #opts: Required<RunModelOptions>;
  readonly #procs = new ProcessTable();
  /** CPU and memory of every process, and the run's totals (resource-series.ts). */
  readonly #res: ResourceSeries;
  /** How many processes wait for each lock, as a step series (the lanes' count band). */
  readonly #waiting: QueueSeries;
  /** How many processes hold each semaphore, over time (its lane's top row). */
  readonly #holding: QueueSeries;
  /** The marks of each Condition, Event and Barrier (notify, set, clear, release, abort…), by id. */
  readonly #marks = new Map<string, SyncMarks>();
  /** Reads and writes of a manager's shared objects, per process (the shared-objects view). */
  readonly #shared = new SharedUse();
  /** How many processes are blocked in a get or a put of each queue, over time. */
  readonly #queueWaiting: QueueSeries;
  /** Each Pool worker's finished tasks (see TaskMarks), and the time of each pid's last `get`. */
  readonly #tasks = new Map<Pid, TaskMarks>();
  readonly #lastGet = new Map<Pid, number>();
  /** Puts and gets per process and queue, for the details pane. */
  readonly #queueOps = new Map<Pid, Map<string, { put: number; get: number }>>();
  /** Per process and queue: its blocked gets and puts (count, total and longest ms), and the one going on. */
  readonly #queueWaits = new Map<Pid, Map<string, QueueWaits>>();
  /** Time of the run's first event after its `run` line (the first thing there is to draw), ms. */
  #first = Infinity;
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
      maxSegments: opts.maxSegments ?? 20_000,
      maxNotes: opts.maxNotes ?? 1000,
    };
    this.maxPoints = this.#opts.maxPoints;
    this.#res = new ResourceSeries(this.maxPoints);
    this.#waiting = new QueueSeries(this.maxPoints);
    this.#holding = new QueueSeries(this.maxPoints);
    this.#queueWaiting = new QueueSeries(this.maxPoints);
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
    this.#res.clear();
    this.#waiting.clear();
    this.#holding.clear();
    this.#marks.clear();
    this.#shared.clear();
    this.#queueWaiting.clear();
    this.#tasks.clear();
    this.#lastGet.clear();
    this.#queueOps.clear();
    this.#queueWaits.clear();
    this.#first = Infinity;
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
      if (e.t < this.#first && e.type !== 'run' && e.type !== 'end') this.#first = e.t;
      this.profile.ingest(e);
      this.waits.ingest(e);
      switch (e.type) {
        case 'sample':
          this.#sample(e);
          this.#rev.samples++;
          break;
        case 'queue':
          if (e.op === 'wait' || e.op === 'woken' || e.op === 'timeout') {
            this.#queueWait(e);
            this.#rev.queues++;
            break;
          }
          this.#queues.record(e.queue, e.t, e.depth, e.maxsize, e.op, e.pid);
          if (e.op === 'get') this.#lastGet.set(e.pid, e.t);
          if (e.op !== 'create') {
            let byQueue = this.#queueOps.get(e.pid);
            if (!byQueue) this.#queueOps.set(e.pid, (byQueue = new Map()));
            let c = byQueue.get(e.queue);
            if (!c) byQueue.set(e.queue, (c = { put: 0, get: 0 }));
            c[e.op]++;
          }
          this.#rev.queues++;
          break;
        case 'lock':
          this.#lock(e);
          this.#rev.locks++;
          break;
        case 'sync':
          this.#sync(e);
          this.#rev.locks++;
          break;
        case 'shared':
          this.#shared.record(e as SharedEvent);
          this.#rev.shared++;
          break;
        case 'output': {
          const rec = this.#procs.ensurePid(e.pid, e.t);
          this.#console.push({ t: e.t, pid: e.pid, stream: e.stream, text: e.text, color: rec.color, name: rec.name });
          break;
        }
        case 'process': {
          const rec = this.#procs.started(e);
          // A pid can come back within a run: its lock events start afresh.
          for (const lane of this.#lanes) lane.started(e.pid);
          this.#res.relabel(rec);
          this.#rev.processes++;
          break;
        }
        case 'created':
          this.#procs.created(e);
          this.#rev.processes++;
          break;
        case 'exit': {
          const rec = this.#procs.byPid(e.pid);
          if (rec && rec.state === 'running') this.#res.exited(rec);
          this.#procs.exited(e);
          for (const lane of this.#lanes) lane.exited(e.pid, e.t);
          this.#rev.processes++;
          this.#rev.locks++;
          break;
        }
        case 'closed':
          this.#procs.closed(e);
          this.#rev.processes++;
          break;
        case 'task':
          this.#procs.task(e);
          this.#task(e);
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
          this.#res.setInterval(e.interval);
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
    const live = rec.state === 'running';
    this.#procs.sampled(rec, e);
    this.#res.sample(rec, e, live);
  }

  /**
   * A Pool worker finished a task. It took the task with its last `get` (from the pool's task
   * queue) since its previous task ended: that is when the task started. A runtime whose queue
   * the monitor does not see gives no start: the task is then only a mark at its end.
   */
  #task(e: TaskEvent): void {
    let marks = this.#tasks.get(e.pid);
    if (!marks) this.#tasks.set(e.pid, (marks = { start: [], end: [], failed: [] }));
    const prevEnd = marks.end.length > 0 ? marks.end[marks.end.length - 1] : -Infinity;
    const got = this.#lastGet.get(e.pid);
    const prevFailed = marks.failed.length > 0 ? marks.failed.reduce((a, b) => a + (b ? 1 : 0), 0) : 0;
    if (marks.end.length >= MAX_TASK_MARKS) return;
    marks.start.push(got !== undefined && got >= prevEnd && got <= e.t ? got : NaN);
    marks.end.push(e.t);
    marks.failed.push(e.failed > prevFailed);
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

  /** A blocked get or put began or ended (the queue chart's band of waiting getters and putters). */
  #queueWait(e: QueueEvent): void {
    this.#queueWaiting.record(e.queue, e.t, (e.getters?.length ?? 0) + (e.putters?.length ?? 0), 0);
    let byQueue = this.#queueWaits.get(e.pid);
    if (!byQueue) this.#queueWaits.set(e.pid, (byQueue = new Map()));
    let w = byQueue.get(e.queue);
    if (!w) byQueue.set(e.queue, (w = { waits: 0, waited: 0, longest: 0, since: null, last: null }));
    if (e.op === 'wait') {
      w.waits += 1;
      w.since = e.t;
      w.last = { side: e.side ?? 'get', start: e.t, end: null };
    } else if (w.since !== null) {
      if (w.last) w.last.end = e.t;
      const d = e.t - w.since;
      w.waited += d;
      if (d > w.longest) w.longest = d;
      w.since = null;
    }
  }

  /**
   * A Condition, Event or Barrier gets a lane like a lock's, without holders: each waiter's row
   * shows its wait, which ends where a notify, a set or the barrier's last party let it go (all
   * at one instant for an Event's set). Read as the lock facts those are.
   */
  #sync(e: SyncEvent): void {
    const lane = this.#lane(e.sync);
    const fact = (op: LockEvent['op'], pid: Pid, waiters: readonly Pid[], t = e.t): LockEvent => ({
      t,
      type: 'lock',
      lock: e.sync,
      op,
      pid,
      holder: null,
      waiters: waiters as Pid[],
      holders: [],
    });
    let marks = this.#marks.get(e.sync);
    if (!marks) this.#marks.set(e.sync, (marks = new SyncMarks(this.#opts.maxSegments)));
    marks.record(e);
    if (e.op === 'create') {
      lane.kind = e.kind;
      if (e.parties !== undefined) lane.capacity = e.parties;
    }
    // An Event already set lets a wait() return at once: no wait to draw.
    else if (e.op === 'wait' && e.kind === 'event' && e.set === true && !e.waiters.includes(e.pid)) return;
    else if (e.op === 'wait') {
      lane.apply(fact('request', e.pid, e.waiters), this.#laneProcs);
      // A waiter's report can arrive after the set(), release or abort that let it go (each
      // process sends its own batches): that mark ends the wait it has just opened.
      const { marks: ms, times } = marks;
      for (let i = ms.length - 1; i >= 0 && times[i] >= e.t; i--) {
        const m = ms[i];
        if (m.op !== 'notify' && m.op !== 'clear' && m.op !== 'broken' && m.released.includes(e.pid)) {
          lane.apply(fact(m.op === 'set' || m.op === 'release' ? 'acquire' : 'timeout', e.pid, e.waiters, m.t), this.#laneProcs);
          break;
        }
      }
    }
    else if (e.op === 'woken') lane.apply(fact('acquire', e.pid, e.waiters), this.#laneProcs);
    else if (e.op === 'timeout' || e.op === 'broken') lane.apply(fact('timeout', e.pid, e.waiters), this.#laneProcs);
    for (const pid of e.released ?? []) {
      const goes = e.op === 'set' || e.op === 'release';
      if (!lane.letGo(pid, e.t, goes)) lane.apply(fact(goes ? 'acquire' : 'timeout', pid, e.waiters), this.#laneProcs);
    }
    this.#waiting.record(e.sync, e.t, e.waiters.length, 0);
  }

  #lock(e: LockEvent): void {
    const lane = this.#lane(e.lock);
    lane.apply(e, this.#laneProcs);
    this.#waiting.record(e.lock, e.t, e.waiters.length, 0);
    if (lane.kind === 'semaphore' || lane.kind === 'bounded-semaphore') this.#holding.record(e.lock, e.t, e.holders?.length ?? (e.holder === null ? 0 : 1), lane.capacity);
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
      return order.filter((i) => !rows[i].hidden).map((i) => procRow(rows[i], depth[i]));
    });
  }

  /** CPU % per process, aligned by sampler round (see ResourceSeries.all). */
  cpu(window?: SeriesWindow): AlignedSeries {
    return this.#res.all('cpu', window);
  }

  /** Resident memory per process in MiB, aligned like cpu(). */
  rss(window?: SeriesWindow): AlignedSeries {
    return this.#res.all('rss', window);
  }

  /** The run's total, the top `n` processes and the selected one (see ResourceSeries.top). */
  topSeries(kind: 'cpu' | 'rss', window: SeriesWindow | undefined, n: number, selectedKey: string | null): TopSeriesView {
    return this.#res.top(kind, window, n, selectedKey);
  }

  /** How many processes waited for each lock over time, by lock id (step data, like a queue's depth). */
  lockWaiting(): ReadonlyMap<string, QueueView> {
    return this.#cached('waiting', () => new Map(this.#waiting.view().map((v) => [v.queue, v])));
  }

  /** How many processes held each semaphore over time, by lock id (step data; `maxsize` is its capacity). */
  lockHolding(): ReadonlyMap<string, QueueView> {
    return this.#cached('holding', () => new Map(this.#holding.view().map((v) => [v.queue, v])));
  }

  /** The marks of a Condition, Event or Barrier lane, sorted by time (a notify's `released`: whom it woke). */
  syncMarks(id: string): { marks: readonly SyncMark[]; times: readonly number[] } | null {
    const m = this.#marks.get(id);
    return m ? { marks: m.linked(), times: m.times } : null;
  }

  /** Reads and writes of the manager's shared objects per process within [fromMs, toMs]. */
  sharedMatrix(fromMs: number, toMs: number): SharedMatrix {
    return this.#shared.matrix(fromMs, toMs);
  }

  /** How many shared objects the run made or used. */
  sharedCount(): number {
    return this.#shared.size;
  }

  /** How many processes were blocked in a get or a put of each queue over time, by queue id (only queues where one ever was). */
  queueWaiting(): ReadonlyMap<string, QueueView> {
    return this.#cached('queueWaiting', () => new Map(this.#queueWaiting.view().map((v) => [v.queue, v])));
  }

  /** Each Pool worker's finished tasks, by pid (see #task). */
  taskMarks(): ReadonlyMap<Pid, TaskMarks> {
    return this.#tasks;
  }

  /** A process's puts and gets, by queue id. */
  /** A process's blocked gets and puts, by queue (`since`: when the one going on began). */
  queueWaitsOf(pid: Pid): ReadonlyMap<string, Readonly<QueueWaits>> {
    return this.#queueWaits.get(pid) ?? new Map();
  }

  queueOpsOf(pid: Pid): ReadonlyMap<string, { put: number; get: number }> {
    return this.#queueOps.get(pid) ?? new Map();
  }

  /** The process of a row index (segments and lanes name processes by it). */
  procAt(index: number): { key: string; name: string; pid: Pid | null; color: string } | null {
    const r = this.#procs.rows[index];
    return r ? { key: r.key, name: r.name, pid: r.pid, color: r.color } : null;
  }

  /** The time there is something to draw: first event after `run`, last event (ms); null before. */
  span(): { first: number; last: number } | null {
    if (this.#first === Infinity) return null;
    return { first: this.#first, last: this.#end?.t ?? this.#now };
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
        ppid: p.ppid,
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
    cpuSeconds: r.cpuSeconds,
    peakRss: r.peakRss,
    poolWorker: r.poolWorker,
    ...(r.tasks ? { tasks: { ...r.tasks } } : {}),
  };
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
