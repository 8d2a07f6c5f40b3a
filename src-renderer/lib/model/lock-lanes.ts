// One lane per lock: who held it when (holds), who waited when (waits), its flag and its stats.
//
// Holds run from `acquire` to the holder's `release`, or to `abandoned` when the holder exited
// holding it. A wait runs from `request` to the waiter's `acquire`, its `timeout`, or its exit
// (the broker drops a dead waiter silently). A request counts as a wait only when someone
// held the lock or was queued before it (the broker logs a `request` before every acquisition,
// even an uncontended one granted at once); those are the acquisitions `waited` counts.

import type { LockEvent, Pid } from '../../../src-main/api.ts';
import { LockStatsAccumulator } from './lock-stats.ts';
import { OUTCOME_ACQUIRED, OUTCOME_EXITED, OUTCOME_TIMEOUT, SegmentList } from './segments.ts';
import type { LaneFlag, LockLaneView, LockStats, Segment, SegmentColumns } from './types.ts';

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

export class LockLane {
  readonly id: string;
  /** 1-based creation order. */
  readonly index: number;
  readonly holds: SegmentList;
  readonly waits: SegmentList;
  readonly stats = new LockStatsAccumulator();
  flag: LaneFlag | null = null;
  holder: Pid | null = null;
  waiters: readonly Pid[] = [];
  /** The holder died holding it: the lock stays held from then on (Python semantics). */
  abandoned: { pid: Pid; proc: number; at: number } | null = null;

  constructor(id: string, index: number, maxSegments: number) {
    this.id = id;
    this.index = index;
    this.holds = new SegmentList(maxSegments);
    this.waits = new SegmentList(maxSegments);
  }

  get label(): string {
    return `Lock ${this.index}`;
  }

  apply(e: LockEvent, procs: LaneProcs): void {
    const { t, pid } = e;
    switch (e.op) {
      case 'create':
        break;
      case 'request': {
        // Contended when held (or abandoned), or when others are queued ahead of pid.
        const queued = e.waiters.some((w) => w !== pid);
        if (e.holder !== null || queued || this.abandoned) this.waits.open(pid, procs.procOf(pid, t), t);
        break;
      }
      case 'acquire': {
        const wait = this.waits.close(pid, t, OUTCOME_ACQUIRED);
        this.stats.acquired(wait);
        // A hold left open (a lost release) ends where the next one starts.
        if (this.holds.openCount() > 0) {
          for (const i of [...this.holds.openIndices()]) this.stats.held(this.holds.close(this.holds.pid[i], t, OUTCOME_ACQUIRED));
        }
        this.holds.open(pid, procs.procOf(pid, t), t);
        break;
      }
      case 'release':
        this.stats.held(this.holds.close(pid, t, OUTCOME_ACQUIRED));
        break;
      case 'timeout':
        this.waits.close(pid, t, OUTCOME_TIMEOUT);
        this.stats.timedOut();
        break;
      case 'abandoned': {
        this.stats.held(this.holds.close(pid, t, OUTCOME_EXITED));
        this.abandoned = { pid, proc: procs.procOf(pid, t), at: t };
        if (this.flag?.kind !== 'deadlock') this.flag = { kind: 'abandoned', text: abandonedText(pid), pid, at: t };
        break;
      }
    }
    this.holder = e.holder;
    this.waiters = e.waiters;
  }

  /** pid exited: a wait it had open ends there. */
  exited(pid: Pid, t: number): void {
    this.waits.close(pid, t, OUTCOME_EXITED);
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
