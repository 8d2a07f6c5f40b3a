// The run's processes, one row each, through Python's states: created (the Process object
// exists) -> running (started) -> exited (with its exitcode) -> closed (close() was called).
//
// A row is keyed by its Process object's handle when there is one, else by `pid:<pid>` (the main
// process has no handle). A `created` event makes the row before the process has a pid; the
// `process` event carrying the same handle fills it in.

import type { ClosedEvent, CreatedEvent, ExitEvent, Pid, ProcessEvent, SampleEvent, TaskEvent } from '../../../src-main/api.ts';
import type { ProcRow } from './types.ts';
import { processColor } from './palette.ts';

/** A table row as kept here: a ProcRow (types.ts) before tree placement, plus bookkeeping. */
export interface ProcRecord extends Omit<ProcRow, 'depth' | 'color'> {
  /** Order of first appearance (0-based); also picks the color. */
  readonly index: number;
  readonly color: string;
  /** Column in the cpu/rss series, -1 when it has none. */
  col: number;
  /** Made up from a pid seen before its `process` event (a log that starts late). */
  placeholder: boolean;
  /** Time of its last sample, ms (the CPU % of the next one covers the time since). */
  lastSampleAt: number | null;
  /** Merged into the row made up for its pid (see started): not listed. */
  hidden: boolean;
}

/** Python names a Pool's workers `SpawnPoolWorker-N` (`ForkPoolWorker-N`…); our runtime does too. */
const POOL_WORKER = /PoolWorker-\d+$/;

export class ProcessTable {
  readonly rows: ProcRecord[] = [];
  readonly #byKey = new Map<string, ProcRecord>();
  /** The current row of each pid (a reused pid points at the newest). */
  readonly #byPid = new Map<Pid, ProcRecord>();

  byPid(pid: Pid): ProcRecord | undefined {
    return this.#byPid.get(pid);
  }

  byKey(key: string): ProcRecord | undefined {
    return this.#byKey.get(key);
  }

  #add(
    key: string,
    fields: Omit<ProcRecord, 'index' | 'key' | 'color' | 'col' | 'placeholder' | 'cpuSeconds' | 'peakRss' | 'poolWorker' | 'lastSampleAt' | 'hidden'>,
    placeholder = false,
  ): ProcRecord {
    const index = this.rows.length;
    const rec: ProcRecord = {
      index,
      key,
      color: processColor(index),
      col: -1,
      placeholder,
      cpuSeconds: null,
      peakRss: null,
      poolWorker: POOL_WORKER.test(fields.name),
      lastSampleAt: null,
      hidden: false,
      ...fields,
    };
    this.rows.push(rec);
    this.#byKey.set(key, rec);
    if (rec.pid !== null) this.#byPid.set(rec.pid, rec);
    return rec;
  }

  #freeKey(base: string): string {
    if (!this.#byKey.has(base)) return base;
    let n = 2;
    while (this.#byKey.has(`${base}#${n}`)) n++;
    return `${base}#${n}`;
  }

  created(e: CreatedEvent): ProcRecord {
    const known = this.#byKey.get(e.handle);
    if (known) {
      known.name = e.name;
      known.daemon = e.daemon;
      known.poolWorker ||= POOL_WORKER.test(e.name);
      return known;
    }
    return this.#add(e.handle, {
      handle: e.handle,
      pid: null,
      ppid: e.owner,
      name: e.name,
      daemon: e.daemon,
      state: 'created',
      exitcode: null,
      cpu: null,
      rss: null,
      startedAt: null,
      endedAt: null,
    });
  }

  started(e: ProcessEvent): ProcRecord {
    let rec = e.handle !== undefined ? this.#byKey.get(e.handle) : undefined;
    const seen = this.#byPid.get(e.pid);
    if (rec && seen && seen !== rec && seen.placeholder && seen.state === 'running' && rec.pid === null) {
      // The pid spoke (output, a sample, a lock) before its `process` event arrived (Python mode
      // reports them on different channels): the row made up for it becomes the object's row,
      // keeping what it gathered, and the object's own row is merged into it.
      this.#byKey.delete(seen.key);
      seen.key = rec.key;
      seen.handle = rec.handle;
      rec.hidden = true;
      this.#byKey.set(seen.key, seen);
      rec = seen;
    }
    if (!rec) {
      const prior = this.#byPid.get(e.pid);
      // A row made up from an earlier sample of this pid becomes the real one.
      if (prior?.placeholder && prior.state === 'running') {
        rec = prior;
        if (e.handle !== undefined) {
          this.#byKey.delete(rec.key);
          rec.key = e.handle;
          rec.handle = e.handle;
          this.#byKey.set(rec.key, rec);
        }
      }
    }
    if (!rec) {
      const key = this.#freeKey(e.handle ?? `pid:${e.pid}`);
      rec = this.#add(key, {
        handle: e.handle ?? null,
        pid: e.pid,
        ppid: e.ppid,
        name: e.name,
        daemon: e.daemon,
        state: 'running',
        exitcode: null,
        cpu: null,
        rss: null,
        startedAt: e.t,
        endedAt: null,
      });
      return rec;
    }
    rec.placeholder = false;
    rec.pid = e.pid;
    rec.ppid = e.ppid;
    rec.name = e.name;
    rec.poolWorker ||= POOL_WORKER.test(e.name);
    rec.daemon = e.daemon;
    if (rec.state === 'created' || rec.state === 'running') rec.state = 'running';
    rec.startedAt ??= e.t;
    this.#byPid.set(e.pid, rec);
    return rec;
  }

  /** The row of a pid seen in another event before (or without) its `process` event. */
  ensurePid(pid: Pid, t: number): ProcRecord {
    return (
      this.#byPid.get(pid) ??
      this.#add(
        this.#freeKey(`pid:${pid}`),
        {
          handle: null,
          pid,
          ppid: -1,
          name: String(pid),
          daemon: false,
          state: 'running',
          exitcode: null,
          cpu: null,
          rss: null,
          startedAt: t,
          endedAt: null,
        },
        true,
      )
    );
  }

  /**
   * A sample of the process: its latest CPU % and RSS, its CPU time and peak. The engine sends the
   * CPU time (seconds); an older log does not, and then the CPU % is integrated: a sample's CPU %
   * covers the time since the previous one (the first: since the process started).
   */
  sampled(rec: ProcRecord, e: SampleEvent): void {
    rec.cpu = e.cpu;
    rec.rss = e.rss;
    if (e.cpuTime !== undefined) rec.cpuSeconds = e.cpuTime;
    else {
      const from = rec.lastSampleAt ?? rec.startedAt ?? e.t;
      rec.cpuSeconds = (rec.cpuSeconds ?? 0) + (e.cpu / 100) * (Math.max(0, e.t - from) / 1000);
    }
    if (rec.peakRss === null || e.rss > rec.peakRss) rec.peakRss = e.rss;
    rec.lastSampleAt = e.t;
  }

  exited(e: ExitEvent): ProcRecord {
    const rec = this.ensurePid(e.pid, e.t);
    if (rec.state !== 'closed') rec.state = 'exited';
    rec.exitcode = e.exitcode;
    rec.endedAt = e.t;
    rec.cpu = null;
    rec.rss = null;
    return rec;
  }

  task(e: TaskEvent): ProcRecord {
    const rec = this.ensurePid(e.pid, e.t);
    rec.tasks = { done: e.done, failed: e.failed };
    rec.poolWorker = true;
    return rec;
  }

  closed(e: ClosedEvent): ProcRecord | undefined {
    const rec = this.#byKey.get(e.handle) ?? (e.pid !== null ? this.#byPid.get(e.pid) : undefined);
    if (rec) rec.state = 'closed';
    return rec;
  }

  clear(): void {
    this.rows.length = 0;
    this.#byKey.clear();
    this.#byPid.clear();
  }
}
