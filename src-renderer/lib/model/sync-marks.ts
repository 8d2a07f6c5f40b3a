// The instants of a Condition, an Event or a Barrier that its lane marks: a notify, a set or a
// clear, a generation's release, an abort, a reset, a party that found the barrier broken. Kept
// sorted by time (a process's reports arrive in batches stamped with its own clock, so a mark can
// come after a later one) and bounded: past `max` marks the oldest quarter is dropped.
//
// Which waiters a Condition's notify woke is read at query time: a `woken` line names its waker
// (`by`) when the runtime knows it; it belongs to that process's latest notify at or before it.

import type { Pid, SyncEvent, SyncOp } from '../../../src-main/api.ts';
import { lowerBound } from '../../../src-main/common/sorted.ts';

export type MarkOp = Extract<SyncOp, 'notify' | 'set' | 'clear' | 'release' | 'abort' | 'reset' | 'broken'>;
const MARK_OPS: readonly string[] = ['notify', 'set', 'clear', 'release', 'abort', 'reset', 'broken'] satisfies MarkOp[];

export interface SyncMark {
  t: number;
  op: MarkOp;
  /** Who did it (of `broken`: the party that found the barrier broken). */
  pid: Pid;
  /** notify(n): how many it may wake. */
  n?: number;
  /** set, release, abort, reset: the waiters it let go or broke; notify: those it woke (see woke()). */
  released: Pid[];
  /** A Barrier's generation after it, and its parties. */
  generation?: number;
  parties?: number;
}

/** A woken wait: who woke when, and by whom if the runtime said. */
interface Woken {
  t: number;
  pid: Pid;
  by: Pid | undefined;
}

export class SyncMarks {
  readonly marks: SyncMark[] = [];
  /** Times of `marks`, for binary search. */
  readonly times: number[] = [];
  readonly #woken: Woken[] = [];
  readonly #max: number;
  #linked = -1;
  #version = 0;

  constructor(max: number) {
    this.#max = Math.max(16, max);
  }

  /** Takes the marks and wakes of one `sync` line; returns whether it was a mark. */
  record(e: SyncEvent): boolean {
    if (e.op === 'woken' && e.kind === 'condition') {
      this.#woken.push({ t: e.t, pid: e.pid, by: e.by });
      if (this.#woken.length > this.#max) this.#woken.splice(0, this.#woken.length >> 2);
      this.#version++;
      return false;
    }
    if (!MARK_OPS.includes(e.op)) return false;
    const mark: SyncMark = { t: e.t, op: e.op as MarkOp, pid: e.pid, released: e.released?.slice() ?? [] };
    if (e.n !== undefined) mark.n = e.n;
    if (e.generation !== undefined) mark.generation = e.generation;
    if (e.parties !== undefined) mark.parties = e.parties;
    const at = this.times.length === 0 || this.times[this.times.length - 1] <= e.t ? this.times.length : lowerBound(this.times, e.t + 1e-9);
    this.marks.splice(at, 0, mark);
    this.times.splice(at, 0, e.t);
    if (this.marks.length > this.#max) {
      const drop = this.marks.length >> 2;
      this.marks.splice(0, drop);
      this.times.splice(0, drop);
    }
    this.#version++;
    return true;
  }

  /**
   * The marks, a notify's `released` filled with the waiters it woke: each woken wait goes to the
   * latest notify at or before it (by its waker when named), within a few ms of clock skew.
   */
  linked(): readonly SyncMark[] {
    if (this.#linked === this.#version) return this.marks;
    for (const m of this.marks) if (m.op === 'notify') m.released = [];
    const SKEW = 5;
    for (const w of this.#woken) {
      let i = lowerBound(this.times, w.t + SKEW) - 1;
      for (; i >= 0; i--) {
        const m = this.marks[i];
        if (m.op === 'notify' && (w.by === undefined || m.pid === w.by)) break;
      }
      if (i >= 0) this.marks[i].released.push(w.pid);
    }
    this.#linked = this.#version;
    return this.marks;
  }
}
