// Time segments (a hold or a wait on one lock) in growable, bounded typed columns.
//
// Segments are appended in start order; a process has at most one open segment per list (it
// holds a lock once, waits for it once), so open ones are found by pid.
//
// Bounded like the queue series: when the list is full it is COARSENED, not cut. Time is split
// into buckets of a resolution R (about 4 x the run so far / maxSegments, doubling each time),
// and consecutive closed segments starting in the same bucket merge into one: from the first
// start to the latest end, credited to the process with the longest of them. So the whole run
// stays drawn (a merged block is narrower than a pixel at any zoom that shows the whole run),
// recent segments keep full detail until the next coarsening, and open segments are never
// touched (a waiter stuck since the start is exactly what the user must still see). The lane's
// statistics are summed as events arrive, so coarsening never changes them.

import type { SegmentColumns } from './types.ts';
import { lowerBound } from '../../../src-main/common/sorted.ts';

export const OUTCOME_ACQUIRED = 0;
export const OUTCOME_TIMEOUT = 1;
export const OUTCOME_EXITED = 2;

export class SegmentList implements SegmentColumns {
  readonly maxSegments: number;
  #cap = 64;
  #len = 0;
  start: Float64Array = new Float64Array(this.#cap);
  end: Float64Array = new Float64Array(this.#cap);
  pid: Float64Array = new Float64Array(this.#cap);
  proc: Int32Array = new Int32Array(this.#cap);
  outcome: Uint8Array = new Uint8Array(this.#cap);
  maxSpan = 0;
  /** Segments merged away to stay bounded. */
  merged = 0;
  /** Current merge resolution, ms (0 until the first coarsening). */
  resolution = 0;
  readonly #open = new Map<number, number>();

  constructor(maxSegments = 50_000) {
    this.maxSegments = Math.max(16, maxSegments);
  }

  get length(): number {
    return this.#len;
  }

  /** Index of pid's open segment, or -1. */
  openIndex(pid: number): number {
    return this.#open.get(pid) ?? -1;
  }

  openCount(): number {
    return this.#open.size;
  }

  /** The open segments' indices (few: at most one per process). */
  openIndices(): IterableIterator<number> {
    return this.#open.values();
  }

  /** Opens a segment for pid at t; closes pid's previous open one there first (defensive). */
  open(pid: number, proc: number, t: number): number {
    if (this.#open.has(pid)) this.close(pid, t, OUTCOME_ACQUIRED);
    if (this.#len === this.#cap) this.#makeRoom();
    const i = this.#len++;
    this.start[i] = t;
    this.end[i] = NaN;
    this.pid[i] = pid;
    this.proc[i] = proc;
    this.outcome[i] = OUTCOME_ACQUIRED;
    this.#open.set(pid, i);
    return i;
  }

  /** Closes pid's open segment at t; returns its duration, or NaN if pid had none open. */
  close(pid: number, t: number, outcome: number): number {
    const i = this.#open.get(pid);
    if (i === undefined) return NaN;
    this.#open.delete(pid);
    const end = Math.max(t, this.start[i]);
    this.end[i] = end;
    this.outcome[i] = outcome;
    const span = end - this.start[i];
    if (span > this.maxSpan) this.maxSpan = span;
    return span;
  }

  /**
   * Ends closed segment i earlier, at t (not before its start), with `outcome`: a report that
   * arrives late (another process's batch) can say the segment really ended before the end first
   * recorded. Only shortens, so `maxSpan` stays an upper bound.
   */
  endEarlier(i: number, t: number, outcome: number): void {
    if (i < 0 || i >= this.#len || !(t < this.end[i])) return;
    this.end[i] = Math.max(t, this.start[i]);
    this.outcome[i] = outcome;
  }

  /** First index whose start >= t (segments are in start order). */
  lowerBound(t: number): number {
    return lowerBound(this.start, t, 0, this.#len);
  }

  #makeRoom(): void {
    if (this.#cap >= this.maxSegments) {
      this.#coarsen();
      if (this.#len < this.#cap) return;
      // Every segment is open (more waiters than the bound): grow past the bound rather than lose one.
    }
    this.#grow(this.#cap < this.maxSegments ? Math.min(this.maxSegments, this.#cap * 2) : this.#cap * 2);
  }

  #grow(cap: number): void {
    this.start = growF(this.start, cap);
    this.end = growF(this.end, cap);
    this.pid = growF(this.pid, cap);
    const proc = new Int32Array(cap);
    proc.set(this.proc);
    this.proc = proc;
    const outcome = new Uint8Array(cap);
    outcome.set(this.outcome);
    this.outcome = outcome;
    this.#cap = cap;
  }

  /** Merges closed segments bucket by bucket until at most 3/4 of the room is used. */
  #coarsen(): void {
    const n0 = this.#len;
    if (n0 === 0) return;
    const first = this.start[0];
    const last = this.start[n0 - 1];
    let r = Math.max(this.resolution * 2, ((last - first) * 4) / this.maxSegments, 1e-3);
    for (let round = 0; round < 64 && this.#len > (this.#cap * 3) >> 2; round++, r *= 2) {
      this.resolution = r;
      this.#mergeAt(r);
    }
    this.#open.clear();
    let maxSpan = 0;
    for (let i = 0; i < this.#len; i++) {
      const e = this.end[i];
      if (e !== e) this.#open.set(this.pid[i], i);
      else if (e - this.start[i] > maxSpan) maxSpan = e - this.start[i];
    }
    this.maxSpan = maxSpan;
    this.merged += n0 - this.#len;
  }

  #mergeAt(r: number): void {
    const { start, end, pid, proc, outcome } = this;
    let w = 0;
    let bucket = NaN;
    /** Index (in the written part) of the group being merged, and its longest member's span. */
    let g = -1;
    let best = -1;
    for (let i = 0; i < this.#len; i++) {
      const e = end[i];
      const open = e !== e;
      const b = Math.floor(start[i] / r);
      if (!open && g >= 0 && b === bucket) {
        const span = e - start[i];
        if (e > end[g]) end[g] = e;
        if (span > best) {
          best = span;
          pid[g] = pid[i];
          proc[g] = proc[i];
          outcome[g] = outcome[i];
        }
        continue;
      }
      start[w] = start[i];
      end[w] = e;
      pid[w] = pid[i];
      proc[w] = proc[i];
      outcome[w] = outcome[i];
      if (open) {
        g = -1;
      } else {
        g = w;
        bucket = b;
        best = e - start[i];
      }
      w++;
    }
    this.#len = w;
  }

  clear(): void {
    this.#len = 0;
    this.#open.clear();
    this.maxSpan = 0;
    this.merged = 0;
    this.resolution = 0;
  }
}

function growF(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}
