// Per-lock contention figures, the ones Linux's lock_stat reports (acquisitions, contentions,
// wait time avg/max over the contended acquisitions, hold time avg/max), as running sums so a
// lock with millions of acquisitions costs the same as one with ten.

import type { LockStats } from './types.ts';

export class LockStatsAccumulator {
  acquisitions = 0;
  waited = 0;
  #waitSum = 0;
  maxWait = 0;
  #holds = 0;
  #holdSum = 0;
  maxHold = 0;
  timeouts = 0;

  /** An acquisition; `waitMs` is how long it waited when it had to (NaN when it did not). */
  acquired(waitMs: number): void {
    this.acquisitions++;
    if (waitMs === waitMs) {
      this.waited++;
      this.#waitSum += waitMs;
      if (waitMs > this.maxWait) this.maxWait = waitMs;
    }
  }

  /** A hold ended (released, or abandoned by a holder that exited). */
  held(holdMs: number): void {
    if (holdMs !== holdMs) return;
    this.#holds++;
    this.#holdSum += holdMs;
    if (holdMs > this.maxHold) this.maxHold = holdMs;
  }

  timedOut(): void {
    this.timeouts++;
  }

  snapshot(): LockStats {
    return {
      acquisitions: this.acquisitions,
      waited: this.waited,
      avgWait: this.waited ? this.#waitSum / this.waited : 0,
      maxWait: this.maxWait,
      avgHold: this.#holds ? this.#holdSum / this.#holds : 0,
      maxHold: this.maxHold,
      timeouts: this.timeouts,
    };
  }
}
