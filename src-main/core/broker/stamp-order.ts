// The sequencer's second half: reports that carry their own stamps (a Python program's lock and
// queue operations, each stamped by the process that did it) are put in stamp order here, and
// nowhere else. Different processes report on different connections, in batches, so a get may
// arrive before the put it took: each report waits a short window for earlier-stamped reports
// from other processes, then all ripe reports are applied in stamp order (ties in arrival order).
// A report later than its window is applied at once; the object's state (lock-state.ts,
// queue-count.ts) keeps its events from going back in time.
//
// A busy program reports hundreds of thousands of operations a second, so waiting reports are
// kept in flat arrays (stamp, op, arg, target, peer), not one object each.

import type { Peer } from './peer.ts';

/** How long a stamped report waits for earlier-stamped reports from other processes, ms. */
export const STAMP_WINDOW_MS = 100;
/**
 * Shortest time between two drains, ms: each drain looks at every waiting report, so under a
 * steady stream draining at every ripe stamp would cost far more than the reports themselves.
 */
const MIN_DRAIN_INTERVAL_MS = 20;

/** Applies one report; `op` and `arg` are the reporter's codes, `target` the object it names. */
export type ApplyStamped = (peer: Peer, at: number, op: number, target: object | null, arg: number) => void;

export class StampOrder {
  private n = 0;
  private at = new Float64Array(1024);
  private op = new Uint8Array(1024);
  private arg = new Float64Array(1024);
  private target: (object | null)[] = [];
  private peer: Peer[] = [];
  /** Scratch of one drain: the indices of ripe reports. */
  private readonly order: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDrain = -Infinity;
  private disposed = false;

  constructor(
    private readonly apply: ApplyStamped,
    /** Called after each drain that applied something (a batch's waits are judged together). */
    private readonly applied: () => void,
    /** The run's current time, ms: the clock reports are stamped against. */
    private readonly now: () => number,
    private readonly windowMs = STAMP_WINDOW_MS,
  ) {}

  push(peer: Peer, at: number, op: number, target: object | null, arg: number): void {
    if (this.disposed) return;
    if (this.n === this.at.length) this.grow();
    const i = this.n++;
    this.at[i] = at;
    this.op[i] = op;
    this.arg[i] = arg;
    this.target[i] = target;
    this.peer[i] = peer;
  }

  /** Arms the next drain for what was pushed (call after a batch of pushes). */
  schedule(): void {
    if (this.timer || this.n === 0 || this.disposed) return;
    const now = this.now();
    const ripe = this.oldest() + this.windowMs - now;
    const wait = Math.max(1, this.lastDrain + MIN_DRAIN_INTERVAL_MS - now, Math.min(this.windowMs, ripe));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain(false);
      this.schedule();
    }, wait);
  }

  /** Applies the ripe reports (or all of them: nobody is left to report earlier ones) in stamp order. */
  drain(all: boolean): void {
    if (this.n === 0) return;
    const now = this.now();
    this.lastDrain = now;
    const cutoff = all ? Infinity : now - this.windowMs;
    const order = this.order;
    order.length = 0;
    const at = this.at;
    for (let i = 0; i < this.n; i++) if (at[i] <= cutoff) order.push(i);
    if (order.length === 0) return;
    // Ties keep their order of arrival. Each batch arrives sorted, so this merges runs.
    order.sort((a, b) => at[a] - at[b] || a - b);
    for (const i of order) this.apply(this.peer[i], at[i], this.op[i], this.target[i], this.arg[i]);
    this.keepAfter(cutoff);
    this.applied();
  }

  /** Stops the timer: the run is over. */
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private oldest(): number {
    let oldest = Infinity;
    for (let i = 0; i < this.n; i++) if (this.at[i] < oldest) oldest = this.at[i];
    return oldest;
  }

  /** Keeps the reports stamped after `cutoff`, in their order. */
  private keepAfter(cutoff: number): void {
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.at[i] <= cutoff) continue;
      if (k !== i) {
        this.at[k] = this.at[i];
        this.op[k] = this.op[i];
        this.arg[k] = this.arg[i];
        this.target[k] = this.target[i];
        this.peer[k] = this.peer[i];
      }
      k++;
    }
    // Applied reports must not keep their objects and connections alive.
    this.target.length = k;
    this.peer.length = k;
    this.n = k;
  }

  private grow(): void {
    const size = this.at.length * 2;
    this.at = resized(this.at, new Float64Array(size));
    this.op = resized(this.op, new Uint8Array(size));
    this.arg = resized(this.arg, new Float64Array(size));
  }
}

function resized<A extends Float64Array | Uint8Array>(from: A, to: A): A {
  to.set(from);
  return to;
}
