// The rows of the lane charts, built from the model's data: how many processes of a folded
// family were alive over time, and which processes get a row of their own under a lock.

import type { SegmentColumns } from '../model/types.ts';

export interface Steps {
  /** Times (ms) where the count changes; n[k] holds from t[k] to t[k + 1]. */
  t: number[];
  n: number[];
  max: number;
}

/** How many of `rows` were alive over time (a process is alive from its start to its exit, or now). */
export function aliveSteps(rows: readonly { startedAt: number | null; endedAt: number | null }[], nowMs: number): Steps {
  const edges: [number, number][] = [];
  for (const r of rows) {
    if (r.startedAt === null) continue;
    edges.push([r.startedAt, 1], [r.endedAt ?? nowMs, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const t: number[] = [];
  const n: number[] = [];
  let cur = 0;
  let max = 0;
  for (const [at, d] of edges) {
    cur += d;
    if (t.length > 0 && t[t.length - 1] === at) n[n.length - 1] = cur;
    else {
      t.push(at);
      n.push(cur);
    }
    if (cur > max) max = cur;
  }
  return { t, n, max: Math.max(1, max) };
}

/**
 * The processes that held or waited for a lock, in the order they first did (their process row
 * index `proc`), given the lane's hold and wait columns. `seen` carries the answer between calls
 * so only the segments added since are read (segments only append, except when the lane merges
 * old ones, which keeps their processes: then the whole lane is read again).
 */
export class LockParticipants {
  readonly order: number[] = [];
  readonly #rowOf = new Map<number, number>();
  #holds = 0;
  #waits = 0;
  #table = new Int32Array(0);
  #tableFor = -1;

  update(holds: SegmentColumns, waits: SegmentColumns): void {
    if (holds.length < this.#holds || waits.length < this.#waits) {
      this.order.length = 0;
      this.#tableFor = -1;
      this.#rowOf.clear();
      this.#holds = 0;
      this.#waits = 0;
    }
    // Merge the two lists by start time so the order is that of first arrival.
    let i = this.#holds;
    let j = this.#waits;
    while (i < holds.length || j < waits.length) {
      const takeHold = j >= waits.length || (i < holds.length && holds.start[i] <= waits.start[j]);
      const proc = takeHold ? holds.proc[i++] : waits.proc[j++];
      if (!this.#rowOf.has(proc)) {
        this.#rowOf.set(proc, this.order.length);
        this.order.push(proc);
      }
    }
    this.#holds = holds.length;
    this.#waits = waits.length;
  }

  /** The row (0-based, among the participants) of a process, or -1. */
  rowOf(proc: number): number {
    return this.#rowOf.get(proc) ?? -1;
  }

  /** rowOf as a table indexed by process row index (-1: not a participant), for drawing loops. */
  rowTable(): Int32Array {
    let max = -1;
    for (const p of this.order) if (p > max) max = p;
    if (this.#table.length !== max + 1 || this.#tableFor !== this.order.length) {
      this.#table = new Int32Array(max + 1).fill(-1);
      this.order.forEach((p, r) => (this.#table[p] = r));
      this.#tableFor = this.order.length;
    }
    return this.#table;
  }
}

/** The wait of `pid` in `cols` that ended near `t` (a waiter a mark let go), or -1. */
export function waitEndedAt(cols: SegmentColumns, pid: number, t: number): number {
  const hi = cols.lowerBound(t + 1);
  for (let i = hi - 1; i >= 0 && i >= hi - 500; i--) {
    if (cols.pid[i] !== pid) continue;
    const end = cols.end[i];
    if (end !== end || Math.abs(end - t) <= 50) return i;
    return -1;
  }
  return -1;
}
