// The process table "as of" a moment of the run, for the time scrubber: which Process objects
// existed then, their state and exit code then, and their last CPU/RSS sample at or before then.
// The run model answers "now"; this keeps the little extra history that "then" needs (when each
// object was created and closed, and every sample) in columnar typed arrays, no object per point.

import type { ProcessInfo, ProcessState, RunEvent, TaskCount } from '../../src-main/api.ts';

/** The fields of a process row this needs; the model's rows carry more, which pass through. */
export type HistoryRow = Pick<ProcessInfo, 'key' | 'handle' | 'pid' | 'state' | 'exitcode' | 'cpu' | 'rss' | 'startedAt' | 'endedAt' | 'tasks'>;

/** Samples of one pid: times ascending (the engine stamps them in order). */
class SampleSeries {
  t = new Float64Array(64);
  cpu = new Float32Array(64);
  rss = new Float64Array(64);
  n = 0;

  push(t: number, cpu: number, rss: number): void {
    if (this.n === this.t.length) {
      const grow = <A extends Float64Array | Float32Array>(a: A, make: (n: number) => A): A => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = grow(this.t, (n) => new Float64Array(n));
      this.cpu = grow(this.cpu, (n) => new Float32Array(n));
      this.rss = grow(this.rss, (n) => new Float64Array(n));
    }
    this.t[this.n] = t;
    this.cpu[this.n] = cpu;
    this.rss[this.n] = rss;
    this.n++;
  }
}

/**
 * Index of the last of the first n entries whose time is <= t, or -1. Entry i's time is
 * ts[i * stride] (records of `stride` numbers, time first); times ascend.
 */
export function lastIndexAtOrBefore(ts: ArrayLike<number>, n: number, t: number, stride = 1): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid * stride] <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export class ProcessHistory {
  private samples = new Map<number, SampleSeries>();
  private createdAt = new Map<string, number>();
  private closedAt = new Map<string, number>();
  /** First time each pid was seen as a process (the main process has no `created`). */
  private seenAt = new Map<number, number>();
  /** Each Pool worker's task counts as they grew: [t, done, failed], t ascending. */
  private tasks = new Map<number, number[]>();

  ingest(events: readonly RunEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'sample': {
          let s = this.samples.get(e.pid);
          if (!s) this.samples.set(e.pid, (s = new SampleSeries()));
          // A sample stamped earlier than the last one (clock skew between batches) would break
          // the binary search: keep the series sorted by dropping it.
          if (s.n === 0 || s.t[s.n - 1] <= e.t) s.push(e.t, e.cpu, e.rss);
          break;
        }
        case 'created':
          if (!this.createdAt.has(e.handle)) this.createdAt.set(e.handle, e.t);
          break;
        case 'closed':
          if (!this.closedAt.has(e.handle)) this.closedAt.set(e.handle, e.t);
          break;
        case 'process':
          if (!this.seenAt.has(e.pid)) this.seenAt.set(e.pid, e.t);
          break;
        case 'task': {
          let list = this.tasks.get(e.pid);
          if (!list) this.tasks.set(e.pid, (list = []));
          if (list.length === 0 || list[list.length - 3] <= e.t) list.push(e.t, e.done, e.failed);
          break;
        }
        default:
          break;
      }
    }
  }

  reset(): void {
    this.samples.clear();
    this.createdAt.clear();
    this.closedAt.clear();
    this.seenAt.clear();
    this.tasks.clear();
  }

  /** A worker's task counts at or before `t`; undefined before its first finished task. */
  tasksAt(pid: number, t: number): TaskCount | undefined {
    const list = this.tasks.get(pid);
    if (!list) return undefined;
    // Triples (t, done, failed), in time order: found by halving, as the cursor moves every frame.
    const i = lastIndexAtOrBefore(list, list.length / 3, t, 3) * 3;
    return i < 0 ? undefined : { done: list[i + 1], failed: list[i + 2] };
  }

  /** The last sample of `pid` at or before `t`. */
  sampleAt(pid: number, t: number): { cpu: number; rss: number } | null {
    const s = this.samples.get(pid);
    if (!s) return null;
    const i = lastIndexAtOrBefore(s.t, s.n, t);
    return i < 0 ? null : { cpu: s.cpu[i], rss: s.rss[i] };
  }

  /**
   * The rows as they were at time `t` (ms since run start), in the same order: rows that did not
   * exist yet are left out; state, exitcode, cpu and rss are those of that moment.
   */
  asOf<R extends HistoryRow>(rows: readonly R[], t: number): R[] {
    const out: R[] = [];
    for (const r of rows) {
      const born =
        (r.handle !== null ? this.createdAt.get(r.handle) : undefined) ??
        r.startedAt ??
        (r.pid !== null ? this.seenAt.get(r.pid) : undefined);
      if (born !== undefined && born > t) continue;
      const closed = r.handle !== null ? this.closedAt.get(r.handle) : undefined;
      const started = r.startedAt !== null && r.startedAt <= t;
      const ended = r.endedAt !== null && r.endedAt <= t;
      let state: ProcessState;
      if (closed !== undefined && closed <= t) state = 'closed';
      else if (ended) state = 'exited';
      else if (started) state = 'running';
      else state = 'created';
      const sample = state === 'running' && r.pid !== null ? this.sampleAt(r.pid, t) : null;
      out.push({
        ...r,
        state,
        exitcode: ended ? r.exitcode : null,
        cpu: sample ? sample.cpu : null,
        rss: sample ? sample.rss : null,
        ...(r.tasks && r.pid !== null ? { tasks: this.tasksAt(r.pid, t) } : {}),
      });
    }
    return out;
  }
}
