// A run's profile as columns: the frames and stacks of its `frames` / `stacks` lines, and each
// thread's samples (time, stack, on the CPU or not, the time it stands for). Filled from the log's
// events as they come (live or replayed); read by the call tree, the top functions, the exports.

import type { ProfileFrame, RunEvent } from '../../api.ts';
import { lowerBound } from '../sorted.ts';

/** Samples of one thread of one process, in the order taken. */
export interface ThreadSamples {
  readonly pid: number;
  readonly thread: string;
  count: number;
  /** Run time of each sample, ms. */
  times: Float64Array;
  stacks: Int32Array;
  /** The share of its time the thread spent on a CPU, in ninths (0..9). */
  cpu: Uint8Array;
  /** The time each sample stands for, ms: since the thread's previous sample, at most a few intervals. */
  weights: Float32Array;
}

/**
 * Which samples a view counts: processes (null: all), a time range (ms, null: all); on the CPU
 * (each sample weighs the CPU time it stands for) or wall-clock (the whole time).
 */
export interface SampleFilter {
  pids: ReadonlySet<number> | null;
  range: { from: number; to: number } | null;
  onCpu: boolean;
}

/** A gap longer than this many intervals (a thread stopped for a fork, a busy machine) counts as this many. */
const MAX_GAP_INTERVALS = 4;

function grow<T extends Float64Array | Float32Array | Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 64));
  next.set(a);
  return next;
}

export class ProfileData {
  frames: ProfileFrame[] = [];
  stackParent = new Int32Array(256);
  stackFrame = new Int32Array(256);
  stackCount = 0;
  readonly threads: ThreadSamples[] = [];
  private readonly byKey = new Map<string, ThreadSamples>();
  /** The sampling interval, ms (from the `run` line's profile rate). */
  interval = 10;
  /** Whether the run was profiled. */
  profiled = false;
  /** Moves whenever anything is added. */
  version = 0;
  /** Samples in all. */
  samples = 0;

  reset(): void {
    this.frames = [];
    this.stackCount = 0;
    this.threads.length = 0;
    this.byKey.clear();
    this.interval = 10;
    this.profiled = false;
    this.samples = 0;
    this.version++;
  }

  /** Takes a run event; false when it is not the profile's. */
  ingest(e: RunEvent): boolean {
    switch (e.type) {
      case 'run':
        if (e.profile) {
          this.profiled = true;
          this.interval = 1000 / e.profile.hz;
        }
        return false;
      case 'frames':
        // Ids are given: a repeated or out-of-step line (a log written twice) cannot shift them.
        for (let i = 0; i < e.frames.length; i++) this.frames[e.first + i] = e.frames[i];
        this.version++;
        return true;
      case 'stacks': {
        const end = e.first + e.stacks.length;
        this.stackParent = grow(this.stackParent, end);
        this.stackFrame = grow(this.stackFrame, end);
        for (let i = 0; i < e.stacks.length; i++) {
          this.stackParent[e.first + i] = e.stacks[i][0];
          this.stackFrame[e.first + i] = e.stacks[i][1];
        }
        if (end > this.stackCount) this.stackCount = end;
        this.version++;
        return true;
      }
      case 'samples':
        this.addSamples(e.pid, e.thread, e.t, e.dt, e.stacks, e.cpu);
        return true;
      default:
        return false;
    }
  }

  private addSamples(pid: number, thread: string, t: number, dt: readonly number[], stacks: readonly number[], cpu: string): void {
    const key = `${pid}\0${thread}`;
    let s = this.byKey.get(key);
    if (!s) {
      s = { pid, thread, count: 0, times: new Float64Array(64), stacks: new Int32Array(64), cpu: new Uint8Array(64), weights: new Float32Array(64) };
      this.byKey.set(key, s);
      this.threads.push(s);
    }
    const n = s.count + dt.length;
    s.times = grow(s.times, n);
    s.stacks = grow(s.stacks, n);
    s.cpu = grow(s.cpu, n);
    s.weights = grow(s.weights, n);
    const cap = this.interval * MAX_GAP_INTERVALS;
    let at = t;
    for (let i = 0; i < dt.length; i++) {
      at += dt[i] / 1000;
      const k = s.count + i;
      const prev = k > 0 ? s.times[k - 1] : at - this.interval;
      s.times[k] = at;
      s.stacks[k] = stacks[i];
      s.cpu[k] = Math.min(9, Math.max(0, cpu.charCodeAt(i) - 48));
      s.weights[k] = Math.min(cap, Math.max(0, at - prev));
    }
    s.count = n;
    this.samples += dt.length;
    this.version++;
  }

  /** The processes that have samples. */
  pids(): number[] {
    return [...new Set(this.threads.map((t) => t.pid))];
  }

  /**
   * The weight (ms) of the samples `filter` selects, per stack: self time of each stack id.
   * Samples whose stack is not defined (a log cut short) are left out.
   */
  selfByStack(filter: SampleFilter): Float64Array {
    const self = new Float64Array(this.stackCount);
    for (const s of this.threads) {
      if (filter.pids && !filter.pids.has(s.pid)) continue;
      let lo = 0;
      let hi = s.count;
      if (filter.range) {
        lo = lowerBound(s.times, filter.range.from, 0, s.count);
        hi = lowerBound(s.times, filter.range.to + 1e-9, 0, s.count);
      }
      for (let i = lo; i < hi; i++) {
        const st = s.stacks[i];
        if (st >= self.length) continue;
        if (!filter.onCpu) self[st] += s.weights[i];
        else if (s.cpu[i] > 0) self[st] += (s.weights[i] * s.cpu[i]) / 9;
      }
    }
    return self;
  }
}

