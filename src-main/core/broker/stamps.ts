// Times reported by scenario processes (a lent lock's operations, the Python shim's records) are
// stamped with each process's own clock, in run time. This is the one place they are made fit for
// the log: an object's events never go back in time, and nothing is logged in the future.

import type { RunEvent } from '../../api.ts';
import type { Emit } from './peer.ts';

/** Whole µs, as the session stamps every other event (a full double says nothing more). */
export const roundStamp = (t: number): number => Math.round(t * 1000) / 1000;

export class Stamps {
  /**
   * A time `now` returned: the run's clock only goes forward, so a stamp no later than this one
   * is no later than now either. Reports are applied once their stamp-order window has passed,
   * so nearly all are: they are fitted without reading the clock (once per report, at ~1M a second).
   */
  private seen = -Infinity;

  /** `now`: the run's current time, ms (already rounded). */
  constructor(readonly now: () => number) {}

  /** `at` as the log shows it: no earlier than `floor` (the object's last event) or 0, no later than now. */
  fit(at: number, floor: number): number {
    const t = Math.max(roundStamp(at), floor, 0);
    if (t <= this.seen) return t;
    this.seen = this.now();
    return Math.min(this.seen, t);
  }
}

/** Where the lock state and the queue count log their events: now, or at a reported stamp. */
export class ObjectEvents {
  constructor(
    /** For events stamped now (by the session, in place when they come with a `t` slot). */
    readonly emit: Emit,
    /** For events whose `t` is already set. */
    private readonly emitStamped: (event: RunEvent) => void,
    readonly stamps: Stamps,
  ) {}

  /**
   * Logs `e` (its `t` slot first, as the session stamps in place) for an object: now when `at`
   * is absent, else at the reporter's stamp, fitted; the object remembers its last `t`.
   */
  log(e: RunEvent, at: number | undefined, object: { lastT: number }): void {
    if (at === undefined) this.emit(e);
    else {
      e.t = this.stamps.fit(at, object.lastT);
      this.emitStamped(e);
    }
    object.lastT = e.t;
  }
}
