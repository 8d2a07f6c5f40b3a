// Periodic CPU and memory readings for the live processes of a run.
//
// One tick reads every pid at once, and the next tick is armed only when the previous one has
// finished (pidusage's README: ticks from setInterval overlap when a read is slow). On Linux we
// read /proc ourselves (see ProcReader for why); elsewhere pidusage does the reading.
//
// Besides the ticks, a process is read once as soon as its pid is known (`first`: its series
// starts with a real reading, not a zero) and once more as it ends (`last`: an exited process
// that its parent has not reaped yet still shows its final CPU time in /proc).

import pidusage from 'pidusage';
import { intervalProblem } from '../common/interval.ts';
import { ProcReader } from './proc-reader.ts';
import { isAlive } from './process-group.ts';

export interface ProcessSample {
  pid: number;
  /** Percent of one core since the previous sample of this pid (since it started, for its first sample). */
  cpu: number;
  /** Resident set size in bytes. */
  rss: number;
  /** CPU time used so far (user + system), in seconds: htop's TIME+. */
  cpuTime: number;
  /** When the process read started (kernel ticks), where /proc says: with the pid, who it is. */
  starttime?: number;
}

/** `auto`: /proc on Linux, pidusage elsewhere. The other two exist for the benchmark and tests. */
export type SampleSource = 'auto' | 'proc' | 'pidusage';

export interface SamplerOptions {
  /** Gap between the end of one tick and the start of the next, 50..10000 ms. */
  intervalMs: number;
  /** The live pids to sample, asked at the start of every tick. */
  pids: () => number[];
  /** Called once per tick with one entry per pid that was still alive when read. */
  onSample: (samples: ProcessSample[]) => void;
  /** A tick that failed for another reason than a process having exited (default: process.emitWarning). */
  onError?: (e: Error) => void;
  source?: SampleSource;
}

/** Returns `ms` if it is a valid sampling interval (common/interval.ts), else throws a one-line Error. */
export function validateInterval(ms: unknown): number {
  const problem = intervalProblem(ms);
  if (problem !== null) throw new Error(problem);
  return ms as number;
}

/** Readings for the pids that could be read, and what went wrong for the others (not for exited ones). */
export interface ReadResult {
  samples: ProcessSample[];
  error?: Error;
}

/** Reads usage for a batch of pids; pids that have exited are left out, not reported as errors. */
export interface UsageReader {
  /** Reads `pids`; `all`: they are every pid still of interest (the others are forgotten). */
  read(pids: number[], all: boolean): ReadResult | Promise<ReadResult>;
  /** A process that is ending: read it even as a zombie, then forget it. */
  readLast(pid: number): ProcessSample | null;
  /** Forgets every pid; the next read of a pid is its first. */
  reset(): void;
}

export class Sampler {
  readonly source: Exclude<SampleSource, 'auto'>;
  #intervalMs: number;
  readonly #pids: () => number[];
  readonly #onSample: (samples: ProcessSample[]) => void;
  readonly #onError: (e: Error) => void;
  readonly #reader: UsageReader;
  /** Bumped by start() and stop(): a tick that finds another value belongs to a stopped run and stays silent. */
  #run = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  /** The tick being read right now, so a restart waits for it instead of overlapping it. */
  #inflight: Promise<void> | undefined;
  #lastTickEnd = 0;

  constructor(opts: SamplerOptions) {
    this.#intervalMs = validateInterval(opts.intervalMs);
    if (typeof opts.pids !== 'function') throw new Error('pids must be a function returning the pids to sample');
    if (typeof opts.onSample !== 'function') throw new Error('onSample must be a function');
    this.#pids = opts.pids;
    this.#onSample = opts.onSample;
    this.#onError = opts.onError ?? ((e) => process.emitWarning(e));
    const source = opts.source ?? 'auto';
    if (source === 'proc' && process.platform !== 'linux') throw new Error(`source 'proc' needs Linux, this is ${process.platform}`);
    this.source = source === 'auto' ? (process.platform === 'linux' ? 'proc' : 'pidusage') : source;
    this.#reader = this.source === 'proc' ? new ProcReader() : new PidusageReader(() => this.#intervalMs);
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Whether a timer for the next tick is pending. False after stop(), at once. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling; the first tick runs as soon as the event loop is free. No-op when running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const run = ++this.#run;
    if (this.#inflight === undefined) this.#arm(run, 0);
    else void this.#inflight.then(() => this.#arm(run, 0));
  }

  /**
   * Reads `pid` now, outside the ticks (a process just listed: its series starts with a real
   * reading; one about to exit: its last figures while it can still be read); its sample goes to
   * onSample like a tick's, at once where the platform reads synchronously (/proc). The next
   * tick's cpu % counts from it. False when there was nothing to read yet (a process in the middle
   * of exec() has no memory to show: a zero there would be invented).
   */
  readNow(pid: number): boolean {
    const run = this.#run;
    const deliver = (r: ReadResult) => {
      if (run === this.#run && r.samples.length > 0) this.#onSample(r.samples);
      return r.samples.length > 0;
    };
    try {
      const r = this.#reader.read([pid], false);
      if (r instanceof Promise) {
        r.then(deliver, () => undefined);
        return true;
      }
      return deliver(r);
    } catch {
      return false; // unreadable: the ticks will say so
    }
  }

  /**
   * Reads `pid` now and gives its sample back instead of to onSample (null where the platform
   * cannot read synchronously, or the process is gone): for a reading that must be taken at
   * once and logged later. The next tick's cpu % counts from it.
   */
  readSync(pid: number): ProcessSample | null {
    try {
      const r = this.#reader.read([pid], false);
      return r instanceof Promise ? null : (r.samples[0] ?? null);
    } catch {
      return null;
    }
  }

  /**
   * Reads `pid` one last time as it ends (an exited process not yet reaped still has its final
   * CPU time; its memory is gone, so the sample repeats the last resident size read). Null when
   * it cannot be read any more. Synchronous: the caller logs it before the exit.
   */
  last(pid: number): ProcessSample | null {
    try {
      return this.#reader.readLast(pid);
    } catch {
      return null;
    }
  }

  /** Stops sampling: no callback fires after this returns and no timer stays armed. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#run++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // A later start() must not compute cpu against readings from before the pause.
    this.#reader.reset();
  }

  /** Changes the interval; the wait before the next tick is recomputed from the end of the last one. */
  setInterval(ms: number): void {
    this.#intervalMs = validateInterval(ms);
    if (this.#timer === undefined) return; // a tick is running: it arms the next one with the new value
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#arm(this.#run, Math.max(0, this.#lastTickEnd + ms - performance.now()));
  }

  #arm(run: number, delayMs: number): void {
    if (run !== this.#run) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inflight = this.#tick(run).finally(() => (this.#inflight = undefined));
    }, delayMs);
  }

  async #tick(run: number): Promise<void> {
    let error: unknown;
    try {
      const pids = [...new Set(this.#pids())].filter((pid) => Number.isInteger(pid) && pid > 0);
      // pids() may have stopped us; reading now would reopen fds that stop() just closed.
      if (run !== this.#run) return;
      const result = pids.length === 0 ? { samples: [] } : await this.#reader.read(pids, true);
      error = result.error;
      if (run !== this.#run) return;
      this.#onSample(result.samples);
    } catch (e) {
      // pids() or onSample threw: report it, and keep sampling.
      error = e;
    }
    if (run !== this.#run) return;
    this.#lastTickEnd = performance.now();
    this.#arm(run, this.#intervalMs);
    if (error !== undefined) this.#onError(error instanceof Error ? error : new Error(String(error)));
  }
}

// ---------------------------------------------------------------------------------------------
// Other platforms: pidusage

/**
 * One pidusage call per tick for all pids. A pid that exited makes pidusage reject the whole batch
 * on the `ps` path (and a one-pid batch on every path), while on Linux it leaves a null entry:
 * both are handled. History of dead pids is dropped by pidusage's own `maxage` expiry, not by
 * pidusage.clear(), which on Linux drops the fds it holds open without closing them.
 */
class PidusageReader implements UsageReader {
  readonly #intervalMs: () => number;

  constructor(intervalMs: () => number) {
    this.#intervalMs = intervalMs;
  }

  async read(pids: number[]): Promise<ReadResult> {
    // A live pid is read every tick, which renews its entry; a dead one expires after a few ticks.
    const options = { maxage: Math.max(3 * this.#intervalMs(), 1000) };
    let stats: Record<string, pidusage.Status | null | undefined>;
    let error: Error | undefined;
    try {
      stats = await pidusage(pids, options);
    } catch {
      // Retry one by one so the live pids are still reported; only a failure for a pid that is
      // still alive is a real error.
      stats = {};
      const failures: string[] = [];
      const results = await Promise.allSettled(pids.map((pid) => pidusage(pid, options)));
      results.forEach((r, i) => {
        const pid = pids[i];
        if (r.status === 'fulfilled') stats[pid] = r.value;
        else if (isAlive(pid)) failures.push(`${pid} (${r.reason instanceof Error ? r.reason.message : String(r.reason)})`);
      });
      if (failures.length > 0) error = new Error(`pidusage could not read live pids ${failures.join(', ')}`);
    }
    const samples: ProcessSample[] = [];
    for (const pid of pids) {
      const s = stats[pid];
      if (s) samples.push({ pid, cpu: s.cpu, rss: s.memory, cpuTime: s.ctime / 1000 });
    }
    return { samples, error };
  }

  /** pidusage cannot read a process that has exited: its last tick's figures stand. */
  readLast(): null {
    return null;
  }

  reset(): void {
    // Nothing to do: entries expire after maxage; pidusage.clear() would leak their fds on Linux.
  }
}
