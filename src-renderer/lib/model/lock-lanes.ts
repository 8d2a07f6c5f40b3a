// One lane per lock: who held it when (holds), who waited when (waits), its flag and its stats.
//
// Which events open and close a hold or a wait is decided once, for the window and the trace
// export alike, by src-main/common/lock-spans.ts; this lane keeps the spans in bounded columns
// and sums the figures (an acquisition "waited" when a wait of its own ended in it).

import type { LockEvent, Pid } from '../../../src-main/api.ts';
import { LockSpans, type HoldEnd, type WaitEnd } from '../../../src-main/common/lock-spans.ts';
import { LockStatsAccumulator } from './lock-stats.ts';
import { OUTCOME_ACQUIRED, OUTCOME_EXITED, OUTCOME_TIMEOUT, SegmentList } from './segments.ts';
import type { LaneFlag, LaneKind, LockLaneView, LockStats, Segment, SegmentColumns } from './types.ts';

export interface LaneProcs {
  /** Row index of the process with this pid (creating a row if unknown). */
  procOf(pid: Pid, t: number): number;
  keyOf(proc: number): string;
  colorOf(proc: number): string;
}

export function abandonedText(pid: Pid): string {
  return `held by ${pid}, which exited`;
}

export function deadlockText(cycle: readonly { pid: Pid; lockLabel: string; holder: Pid }[]): string {
  return `Deadlock: ${cycle.map((e) => `${e.pid} waits for ${e.lockLabel} held by ${e.holder}`).join('; ')}`;
}

const WAIT_OUTCOME: Record<WaitEnd, number> = { acquired: OUTCOME_ACQUIRED, timeout: OUTCOME_TIMEOUT, exited: OUTCOME_EXITED };
const HOLD_OUTCOME: Record<HoldEnd, number> = { released: OUTCOME_ACQUIRED, abandoned: OUTCOME_EXITED };

const LANE_NAMES: Record<LaneKind, string> = {
  lock: 'Lock',
  semaphore: 'Semaphore',
  'bounded-semaphore': 'BoundedSemaphore',
  condition: 'Condition',
  event: 'Event',
  barrier: 'Barrier',
};

const NO_PROCS: LaneProcs = { procOf: () => 0, keyOf: () => '', colorOf: () => '' };

export class LockLane {
  readonly id: string;
  /** 1-based creation order. */
  readonly index: number;
  readonly holds: SegmentList;
  readonly waits: SegmentList;
  readonly stats = new LockStatsAccumulator();
  flag: LaneFlag | null = null;
  kind: LaneKind = 'lock';
  capacity = 1;
  holder: Pid | null = null;
  waiters: readonly Pid[] = [];
  /** The holder died holding it: the lock stays held from then on (Python semantics). */
  abandoned: { pid: Pid; proc: number; at: number } | null = null;
  readonly #spans: LockSpans;
  #procs: LaneProcs = NO_PROCS;
  /** The wait that the event being applied ended in an acquisition (NaN: none). */
  #acquiredAfter = NaN;

  constructor(id: string, index: number, maxSegments: number) {
    this.id = id;
    this.index = index;
    this.holds = new SegmentList(maxSegments);
    this.waits = new SegmentList(maxSegments);
    this.#spans = new LockSpans({
      waitStarted: (pid, t) => void this.waits.open(pid, this.#procs.procOf(pid, t), t),
      waitEnded: (pid, t, how) => {
        const span = this.waits.close(pid, t, WAIT_OUTCOME[how]);
        if (how === 'acquired') this.#acquiredAfter = span;
      },
      holdStarted: (pid, t) => void this.holds.open(pid, this.#procs.procOf(pid, t), t),
      holdEnded: (pid, t, how) => this.stats.held(this.holds.close(pid, t, HOLD_OUTCOME[how])),
    });
  }

  get label(): string {
    return `${LANE_NAMES[this.kind]} ${this.index}`;
  }

  apply(e: LockEvent, procs: LaneProcs): void {
    this.#procs = procs;
    this.#acquiredAfter = NaN;
    if (e.op === 'create' && e.kind !== undefined) {
      this.kind = e.kind;
      this.capacity = e.capacity ?? 1;
    }
    this.#spans.apply(e);
    if (e.op === 'acquire') this.stats.acquired(this.#acquiredAfter);
    else if (e.op === 'timeout') this.stats.timedOut();
    else if (e.op === 'abandoned') {
      this.abandoned = { pid: e.pid, proc: procs.procOf(e.pid, e.t), at: e.t };
      if (this.flag?.kind !== 'deadlock') this.flag = { kind: 'abandoned', text: abandonedText(e.pid), pid: e.pid, at: e.t };
    }
    this.holder = e.holder;
    this.waiters = e.waiters;
  }

  /**
   * A set(), a barrier's release or its abort let pid go at t (`acquired`: it went on; else it was
   * broken). Its open wait ends there; a wait already ended at its exit after t (the waiter's
   * exit was reported before the mark: each process sends its own batches) ends at t instead.
   */
  letGo(pid: Pid, t: number, acquired: boolean): boolean {
    if (this.waits.openIndex(pid) >= 0) return false;
    const w = this.waits;
    for (let i = w.length - 1; i >= 0 && i >= w.length - 500; i--) {
      if (w.pid[i] !== pid) continue;
      if (w.outcome[i] === OUTCOME_EXITED && w.start[i] <= t && w.end[i] > t) w.endEarlier(i, t, acquired ? OUTCOME_ACQUIRED : OUTCOME_TIMEOUT);
      return true;
    }
    return true;
  }

  /** pid exited: a wait it had open ends there. */
  exited(pid: Pid, t: number): void {
    this.#spans.exited(pid, t);
  }

  /** pid started (a pid can be reused within a run): its lock events count again. */
  started(pid: Pid): void {
    this.#spans.started(pid);
  }

  view(procs: LaneProcs): LockLaneView {
    return new LaneSnapshot(this, procs);
  }
}

/** A lane as of one model version; the segment objects are only built if someone reads them. */
class LaneSnapshot implements LockLaneView {
  readonly lock: string;
  readonly label: string;
  readonly index: number;
  readonly kind: LaneKind;
  readonly capacity: number;
  readonly holdCols: SegmentColumns;
  readonly waitCols: SegmentColumns;
  readonly colorOf: (proc: number) => string;
  readonly flag: LaneFlag | null;
  readonly stats: LockStats;
  readonly holder: Pid | null;
  readonly waiters: readonly Pid[];
  readonly abandoned: { pid: Pid; proc: number; at: number } | null;
  readonly #procs: LaneProcs;
  #holds: Segment[] | null = null;
  #waits: Segment[] | null = null;

  constructor(lane: LockLane, procs: LaneProcs) {
    this.lock = lane.id;
    this.label = lane.label;
    this.index = lane.index;
    this.kind = lane.kind;
    this.capacity = lane.capacity;
    this.holdCols = lane.holds;
    this.waitCols = lane.waits;
    this.colorOf = procs.colorOf;
    this.flag = lane.flag;
    this.stats = lane.stats.snapshot();
    this.holder = lane.holder;
    this.waiters = lane.waiters;
    this.abandoned = lane.abandoned;
    this.#procs = procs;
  }

  get holds(): Segment[] {
    return (this.#holds ??= toSegments(this.holdCols, this.#procs));
  }
  get waits(): Segment[] {
    return (this.#waits ??= toSegments(this.waitCols, this.#procs));
  }
}

function toSegments(c: SegmentColumns, procs: LaneProcs): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < c.length; i++) {
    const end = c.end[i];
    out.push({
      key: procs.keyOf(c.proc[i]),
      pid: c.pid[i],
      start: c.start[i],
      end: end === end ? end : null,
      color: procs.colorOf(c.proc[i]),
    });
  }
  return out;
}
