// Linux: CPU and memory of processes from /proc/<pid>/stat, read the cheapest way we know.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { isDeadState, isEnding, parseProcStatBytes } from './process-group.ts';
import type { ProcessSample, ReadResult, UsageReader } from './sampler.ts';


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
 * Shortest time a CPU % is worked out over, ms. The kernel counts CPU time in ticks (10 ms at the
 * usual 100 Hz), so over a few ms one tick more or less reads as hundreds of percent: a reading
 * taken out of turn (at a process's listing, or at its exit, just after a tick) is divided by at
 * least this long, and does not become the next tick's starting point.
 */
export const MIN_CPU_WINDOW_MS = 50;

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
export class ProcReader implements UsageReader {
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
      // A process that has just exec'd may read a resident size of 0 (see isEnding): its exact
      // size, walked by the kernel, or no reading yet (a sample never shows memory it never had).
      const same = prev !== undefined && stat !== null && prev.starttime === stat.starttime;
      const pages = stat === null || isEnding(stat) || stat.rssPages > 0 ? (stat?.rssPages ?? 0) : this.#exactPages(pid);
      if (stat === null || isEnding(stat) || (pages === 0 && !same)) {
        closeSync(got.fd);
        if (!all && prev) next.set(pid, { ...prev, fd: undefined });
        continue;
      }
      let fd: number | undefined = got.fd;
      const at = performance.now();
      const ticks = stat.utime + stat.stime;
      let cpu: number;
      // Where the next reading's CPU % counts from: this one, unless it came too soon after the last.
      let base = { ticks, at };
      if (prev !== undefined && prev.starttime === stat.starttime) {
        cpu = this.#percent(ticks - prev.ticks, at - prev.at);
        if (at - prev.at < MIN_CPU_WINDOW_MS) base = { ticks: prev.ticks, at: prev.at };
      } else {
        // First sample: the average since the process started, like pidusage's `ps` path.
        uptimeMs ??= readUptimeMs();
        cpu = this.#percent(ticks, uptimeMs - (stat.starttime * 1000) / this.#clockTicks);
      }
      const rss = pages > 0 ? pages * this.#pageSize : (prev?.rss ?? 0); // 0 pages: `same`, so prev is this process
      samples.push({ pid, cpu, rss, cpuTime: ticks / this.#clockTicks, starttime: stat.starttime });
      if (kept < MAX_KEPT_FDS) kept++;
      else {
        closeSync(fd);
        fd = undefined;
      }
      next.set(pid, { fd, starttime: stat.starttime, ticks: base.ticks, at: base.at, rss });
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
    if (!isDeadState(stat.state) && live > 0) {
      const soon = at - prev.at < MIN_CPU_WINDOW_MS;
      this.#tracked.set(pid, { fd: undefined, starttime: stat.starttime, ticks: soon ? prev.ticks : ticks, at: soon ? prev.at : at, rss: live });
    }
    return {
      pid,
      cpu: this.#percent(ticks - prev.ticks, at - prev.at),
      // Past its end (a zombie, or tearing its memory down) it reads 0: repeat the last size read.
      rss: isDeadState(stat.state) || live === 0 ? prev.rss : live,
      cpuTime: ticks / this.#clockTicks,
      starttime: stat.starttime,
    };
  }

  reset(): void {
    this.#closeAll();
  }

  /** Percent of one core: `ticks` of CPU over `ms` of time (at least MIN_CPU_WINDOW_MS). */
  /** The resident pages of `pid` as the kernel counts them page by page (smaps_rollup: slower, exact); 0 if unreadable. */
  #exactPages(pid: number): number {
    try {
      const m = /^Rss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      return m ? Math.floor((Number(m[1]) * 1024) / this.#pageSize) : 0;
    } catch {
      return 0;
    }
  }

  #percent(ticks: number, ms: number): number {
    return ((ticks * 1000) / this.#clockTicks / Math.max(ms, MIN_CPU_WINDOW_MS)) * 100;
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
