// Periodic CPU and memory readings for the live processes of a run.
//
// One tick reads every pid at once, and the next tick is armed only when the previous one has
// finished (pidusage's README: ticks from setInterval overlap when a read is slow). On Linux we
// read /proc ourselves (see ProcReader for why); elsewhere pidusage does the reading.
//
// Besides the ticks, a process is read once as soon as its pid is known (`first`: its series
// starts with a real reading, not a zero) and once more as it ends (`last`: an exited process
// that its parent has not reaped yet still shows its final CPU time in /proc).

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import pidusage from 'pidusage';
import { intervalProblem } from '../common/interval.ts';
import { isAlive, isDeadState, parseProcStatBytes } from './process-group.ts';

export interface ProcessSample {
  pid: number;
  /** Percent of one core since the previous sample of this pid (since it started, for its first sample). */
  cpu: number;
  /** Resident set size in bytes. */
  rss: number;
  /** CPU time used so far (user + system), in seconds: htop's TIME+. */
  cpuTime: number;
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
interface ReadResult {
  samples: ProcessSample[];
  error?: Error;
}

/** Reads usage for a batch of pids; pids that have exited are left out, not reported as errors. */
interface UsageReader {
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
// Linux: /proc/<pid>/stat

interface Tracked {
  /** `/proc/<pid>/stat` kept open between ticks; undefined beyond MAX_KEPT_FDS. */
  fd: number | undefined;
  /** With the pid, identifies the process: a reused pid gets a new starttime and a fresh first sample. */
  starttime: number;
  ticks: number;
  /** performance.now() when read */
  at: number;
  /** The last resident size read, bytes. */
  rss: number;
}

/**
 * Keeping an fd open per process saves an open and a close (a procfs path lookup) per pid per
 * tick, half the cost of a tick. Capped so that a run with thousands of processes cannot exhaust
 * a 1024 soft limit on fds; the rest are opened and closed each tick.
 */
const MAX_KEPT_FDS = 256;

/**
 * Reads `/proc/<pid>/stat` synchronously: one pread on an fd kept open per process, parsed from
 * the bytes. A tick of 200 processes costs about 3 ms of CPU, against 6 to 9 ms for pidusage's
 * procfile path (bench/sampler-cost.mjs), which goes through the libuv thread pool for every file
 * operation and splits every line into strings. The event loop is blocked for those ~3 ms, which
 * is less than one frame of the UI it feeds. We also avoid its traps: pidusage.clear() forgets the fds it
 * keeps without closing them, and after a pid is reused pidusage keeps reading the dead process's
 * fd (ESRCH) for as long as the pid is asked for.
 *
 * An fd of /proc/<pid>/stat stays bound to the process it was opened for: once that process is
 * reaped, reads fail with ESRCH, and we reopen the path in case the pid now names another process.
 * A tick tracks only its own pids, so nothing grows over a long run; reset() (on stop) closes
 * every fd.
 */
class ProcReader implements UsageReader {
  #tracked = new Map<number, Tracked>();
  readonly #clockTicks: number;
  readonly #pageSize: number;
  /** Big enough for a stat line (under 1.2 KB); the kernel renders all of it on the first read. */
  readonly #buf = Buffer.allocUnsafe(4096);

  constructor() {
    ({ clockTicks: this.#clockTicks, pageSize: this.#pageSize } = readAuxv());
  }

  read(pids: number[], all: boolean): ReadResult {
    const samples: ProcessSample[] = [];
    const failures: string[] = [];
    const next = all ? new Map<number, Tracked>() : this.#tracked;
    let kept = all ? 0 : this.#keptFds();
    let uptimeMs: number | undefined;
    for (const pid of pids) {
      const prev = this.#tracked.get(pid);
      this.#tracked.delete(pid);
      const got = this.#readStat(pid, prev?.fd, failures);
      if (got === undefined) continue;
      const stat = parseProcStatBytes(this.#buf, got.n);
      // A zombie, or one tearing its memory down: it has exited, its exit is reported elsewhere
      // (and readLast still counts from the previous reading).
      if (stat === null || isDeadState(stat.state) || stat.rssPages === 0) {
        closeSync(got.fd);
        if (!all && prev) next.set(pid, { ...prev, fd: undefined });
        continue;
      }
      let fd: number | undefined = got.fd;
      const at = performance.now();
      const ticks = stat.utime + stat.stime;
      let cpu: number;
      if (prev !== undefined && prev.starttime === stat.starttime) {
        cpu = this.#percent(ticks - prev.ticks, at - prev.at);
      } else {
        // First sample: the average since the process started, like pidusage's `ps` path.
        uptimeMs ??= readUptimeMs();
        cpu = this.#percent(ticks, uptimeMs - (stat.starttime * 1000) / this.#clockTicks);
      }
      const rss = stat.rssPages * this.#pageSize;
      samples.push({ pid, cpu, rss, cpuTime: ticks / this.#clockTicks });
      if (kept < MAX_KEPT_FDS) kept++;
      else {
        closeSync(fd);
        fd = undefined;
      }
      next.set(pid, { fd, starttime: stat.starttime, ticks, at, rss });
    }
    if (all) {
      // Pids no longer listed: their process exited, or the caller stopped caring.
      this.#closeAll();
      this.#tracked = next;
    }
    return failures.length > 0 ? { samples, error: new Error(`cannot read /proc for ${failures.join(', ')}`) } : { samples };
  }

  readLast(pid: number): ProcessSample | null {
    const prev = this.#tracked.get(pid);
    this.#tracked.delete(pid);
    const got = this.#readStat(pid, prev?.fd, []);
    if (got === undefined) return null;
    const stat = parseProcStatBytes(this.#buf, got.n);
    closeSync(got.fd);
    // Never read alive (its memory then unknown), or the pid is someone else's now: nothing to say.
    if (stat === null || prev === undefined || prev.starttime !== stat.starttime) return null;
    const ticks = stat.utime + stat.stime;
    const live = stat.rssPages * this.#pageSize;
    const at = performance.now();
    // Not ended yet after all (its exit handler ran; the rest is on its way): the ticks go on from here.
    if (!isDeadState(stat.state) && live > 0) this.#tracked.set(pid, { fd: undefined, starttime: stat.starttime, ticks, at, rss: live });
    return {
      pid,
      cpu: this.#percent(ticks - prev.ticks, at - prev.at),
      // Past its end (a zombie, or tearing its memory down) it reads 0: repeat the last size read.
      rss: isDeadState(stat.state) || live === 0 ? prev.rss : live,
      cpuTime: ticks / this.#clockTicks,
    };
  }

  reset(): void {
    this.#closeAll();
  }

  /** Percent of one core: `ticks` of CPU over `ms` of time. */
  #percent(ticks: number, ms: number): number {
    return ms > 0 ? ((ticks * 1000) / this.#clockTicks / ms) * 100 : 0;
  }

  #keptFds(): number {
    let n = 0;
    for (const t of this.#tracked.values()) if (t.fd !== undefined) n++;
    return n;
  }

  #closeAll(): void {
    for (const { fd } of this.#tracked.values()) if (fd !== undefined) closeSync(fd);
    this.#tracked.clear();
  }

  /** Reads the stat of `pid` into the buffer, through `fd` when it still works; undefined when the process is gone. */
  #readStat(pid: number, fd: number | undefined, failures: string[]): { fd: number; n: number } | undefined {
    if (fd !== undefined) {
      const n = this.#pread(fd, pid, failures);
      if (n >= 0) return { fd, n };
      closeSync(fd); // bound to a process that was reaped; the pid may name a new one now
    }
    const fresh = openStat(pid, failures);
    if (fresh === undefined) return undefined;
    const n = this.#pread(fresh, pid, failures);
    if (n >= 0) return { fd: fresh, n };
    closeSync(fresh);
    return undefined;
  }

  /** Bytes read, or -1 when the process is gone (or could not be read: then `failures` says why). */
  #pread(fd: number, pid: number, failures: string[]): number {
    try {
      return readSync(fd, this.#buf, 0, this.#buf.length, 0);
    } catch (e) {
      if (errnoOf(e) !== 'ESRCH') failures.push(`${pid} (${(e as Error).message})`);
      return -1;
    }
  }
}

function openStat(pid: number, failures: string[]): number | undefined {
  try {
    return openSync(`/proc/${pid}/stat`, 'r');
  } catch (e) {
    // ENOENT: reaped. Anything else (EMFILE…) is worth telling.
    if (errnoOf(e) !== 'ENOENT' && errnoOf(e) !== 'ESRCH') failures.push(`${pid} (${(e as Error).message})`);
    return undefined;
  }
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as NodeJS.ErrnoException).code : undefined;
}

function readUptimeMs(): number {
  return parseFloat(readFileSync('/proc/uptime', 'latin1')) * 1000;
}

const AT_NULL = 0;
const AT_PAGESZ = 6;
const AT_CLKTCK = 17;

/**
 * Clock ticks per second and page size, from the auxiliary vector the kernel gave this process:
 * pidusage spawns `getconf` twice for them. Pages are 16 or 64 KiB on some arm64 kernels, so
 * 4096 is only the fallback.
 */
function readAuxv(): { clockTicks: number; pageSize: number } {
  const found = { clockTicks: 100, pageSize: 4096 };
  try {
    const buf = readFileSync('/proc/self/auxv');
    const le = endianness() === 'LE';
    // auxv is pairs of unsigned longs: 4 bytes on the 32-bit builds of Node (armv7l), else 8.
    const word = process.arch === 'arm' || process.arch === 'ia32' ? 4 : 8;
    const at = (off: number): number =>
      word === 4
        ? le ? buf.readUInt32LE(off) : buf.readUInt32BE(off)
        : Number(le ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off));
    for (let off = 0; off + 2 * word <= buf.length; off += 2 * word) {
      const key = at(off);
      const value = at(off + word);
      if (key === AT_CLKTCK && value > 0) found.clockTicks = value;
      if (key === AT_PAGESZ && value > 0) found.pageSize = value;
      if (key === AT_NULL) break; // ends the vector
    }
  } catch {
    // no /proc/self/auxv (unusual sandbox): keep the defaults
  }
  return found;
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
