// Times reported by scenario processes (a lent lock's operations, the Python shim's records) are
// stamped with each process's own clock, in run time. This is the one place they are made fit for
// the log: an object's events never go back in time, and nothing is logged in the future.

/** Whole µs, as the session stamps every other event (a full double says nothing more). */
export const roundStamp = (t: number): number => Math.round(t * 1000) / 1000;

export class Stamps {
  /** `now`: the run's current time, ms (already rounded). */
  constructor(readonly now: () => number) {}

  /** `at` as the log shows it: no earlier than `floor` (the object's last event) or 0, no later than now. */
  fit(at: number, floor: number): number {
    return Math.min(this.now(), Math.max(roundStamp(at), floor, 0));
  }
}
