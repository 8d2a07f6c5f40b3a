// The run's process table: every Process object and process of the run, what state each is in,
// and how each ended. It receives facts already in causal order (the broker's sequencer puts them
// so) and writes the `process`, `created`, `closed`, `exit`, `task` and `sample` events.
//
// Listing: the main process when it is spawned; every other process at its own hello, whichever
// runtime it runs (its parent's `spawned` report only names a child that dies before it says
// hello, so that its exit still has a row).
//
// How a process ended is taken from whoever saw it: the parent that reaped it, the operating
// system (the main process's exit; a zombie's status, read by watchUnreaped or by the stop), and
// only where neither can tell, the process's own last word (its `bye`, sent just before it exits,
// cannot see a signal that ends it on its way out). The first observer's word is final.

import type { ProcessInfo, RunEvent, UnstampedEvent } from '../api.ts';
import { ORDER_WAIT_MS } from './broker/sequencer.ts';
import { isAlive, isDeadState, readProcStat, zombieExitcode } from './process-group.ts';
import { MIN_CPU_WINDOW_MS } from './proc-reader.ts';
import type { ProcessSample } from './sampler.ts';

/** How often a child whose parent has not reaped it is looked at (see watchUnreaped). */
const UNREAPED_POLL_MS = 50;

export interface TableHost {
  emit(e: UnstampedEvent): void;
  /** An event whose `t` is set already (a process's birth, dated by its parent's report). */
  emitStamped(e: RunEvent): void;
  /** The run's time now, ms. */
  now(): number;
  /** A process was listed: a first sample of it can be taken. */
  listed(pid: number): void;
  /** A process's exit is about to be logged: what it wrote before is logged first. */
  ending(pid: number): void;
}

interface Announced {
  ppid: number;
  name: string;
  daemon: boolean;
  handle: string | undefined;
  /** When its parent's report of starting it was read: its birth, as the parent saw it. */
  at: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

export class ProcessTable {
  /** Every Process object and process, by row key (its handle, or pid:<pid>). */
  private readonly rows = new Map<string, ProcessInfo>();
  /** Started processes by pid. */
  private readonly byPid = new Map<number, ProcessInfo>();
  /** Children their parent reported starting and that have not said hello. */
  private readonly announced = new Map<number, Announced>();
  /** What processes said of their own exit code ('bye'): the last resort (see top). */
  private readonly selfReported = new Map<number, number>();
  /** Exit codes read from the kernel, waiting for the process's last words to be logged first. */
  private readonly seenEnding = new Map<number, number>();
  private readonly exitWaiters = new Map<number, Set<() => void>>();
  private readonly watchers = new Set<NodeJS.Timeout>();
  /** When each process's last sample was logged. */
  private readonly sampledAt = new Map<number, number>();
  /** Each listed process's start time (kernel ticks), read as it was listed: with its pid, who it is. */
  private readonly startTimes = new Map<number, number>();
  rootPid = 0;

  constructor(private readonly host: TableHost) {}

  get(pid: number): ProcessInfo | undefined {
    return Number.isInteger(pid) ? this.byPid.get(pid) : undefined;
  }

  row(key: string): ProcessInfo | undefined {
    return this.rows.get(key);
  }

  /** A copy of every row. */
  all(): ProcessInfo[] {
    return [...this.rows.values()].map((p) => ({ ...p }));
  }

  running(): ProcessInfo[] {
    return [...this.byPid.values()].filter((p) => p.state === 'running');
  }

  /**
   * Whether `pid` is still the process listed under it: running, and started when it was (a pid
   * reused by another process is not it). False where the start time could not be read.
   */
  isSame(pid: number): boolean {
    const start = this.startTimes.get(pid);
    if (start === undefined || this.byPid.get(pid)?.state !== 'running') return false;
    const stat = readProcStat(pid);
    return stat !== null && stat.starttime === start && !isDeadState(stat.state);
  }

  /** The listed processes still running that are still who they were when listed. */
  sameRunning(): number[] {
    return this.livePids().filter((pid) => this.isSame(pid));
  }

  livePids(): number[] {
    const pids: number[] = [];
    for (const p of this.byPid.values()) if (p.state === 'running') pids.push(p.pid as number);
    return pids;
  }

  addRoot(pid: number, monitorPid: number): void {
    this.rootPid = pid;
    this.list(pid, monitorPid, 'MainProcess', false, undefined);
  }

  /** A process introduces itself: listed if its parent is a process of the run. False refuses it. */
  hello(pid: number, ppid: number, name: string, daemon: boolean, handle: string | undefined): boolean {
    if (this.byPid.has(pid)) return true;
    const parent = this.byPid.get(ppid);
    const announced = this.announced.get(pid);
    // Its parent is a process of the run, alive, or gone after reporting it started this child.
    if (parent === undefined || (parent.state !== 'running' && announced?.ppid !== ppid)) return false;
    this.announced.delete(pid);
    this.list(pid, ppid, name, daemon, handle !== undefined && ownedBy(handle, ppid) ? handle : undefined, announced?.ppid === ppid ? announced.at : undefined);
    return true;
  }

  created(owner: number, handle: string, name: string, daemon: boolean): void {
    // Already listed: announced late, after the child said hello with it.
    if (this.rows.has(handle) || !ownedBy(handle, owner)) return;
    this.rows.set(handle, blank(handle, handle, owner, name, daemon));
    this.host.emit({ type: 'created', handle, owner, name, daemon });
  }

  spawned(parent: number, pid: number, name: string, daemon: boolean, handle: string | undefined): void {
    if (this.byPid.has(pid) || this.byPid.get(parent)?.state !== 'running') return;
    this.announced.set(pid, { ppid: parent, name, daemon, handle: handle !== undefined && ownedBy(handle, parent) ? handle : undefined, at: this.host.now() });
  }

  /** A child its parent announced, listed from that report before its hello: it died first, or a younger sibling is listed (its exit comes later). */
  vanished(pid: number): void {
    const a = this.announced.get(pid);
    if (!a || this.byPid.has(pid)) return;
    this.announced.delete(pid);
    this.list(pid, a.ppid, a.name, a.daemon, a.handle, a.at);
  }

  closed(owner: number, handle: string): void {
    const row = this.rows.get(handle);
    if (!row || row.state === 'closed' || row.ppid !== owner) return;
    row.state = 'closed';
    this.host.emit({ type: 'closed', handle, pid: row.pid });
  }

  task(pid: number, done: number, failed: number): void {
    const p = this.byPid.get(pid);
    if (p) p.tasks = { done, failed };
    this.host.emit({ type: 'task', pid, done, failed });
  }

  /** Samples of running processes: kept on their rows and logged. */
  sampled(samples: readonly ProcessSample[]): void {
    for (const s of samples) {
      const p = this.byPid.get(s.pid);
      if (!p || p.state !== 'running') continue;
      // A reading of another process that has the pid now (the listed one ended unseen): not its.
      const start = this.startTimes.get(s.pid);
      if (s.starttime !== undefined && start !== undefined && s.starttime !== start) continue;
      p.cpu = s.cpu;
      p.rss = s.rss;
      p.cpuTime = s.cpuTime;
      this.sampledAt.set(s.pid, this.host.now());
      if (p.peakRss === undefined || s.rss > p.peakRss) p.peakRss = s.rss;
      this.host.emit({ type: 'sample', pid: s.pid, cpu: round2(s.cpu), rss: s.rss, cpuTime: Math.round(s.cpuTime * 1000) / 1000 });
    }
  }

  /** A process's own word on its exit code (see top): kept for when nobody else can tell. */
  selfReport(pid: number, exitcode: number): void {
    if (this.byPid.has(pid)) this.selfReported.set(pid, exitcode);
  }

  /**
   * What a process said it used, as it exited (its CPU time, s; its peak resident size, bytes):
   * its last sample, when no reading of its own end could be taken (its parent reaped it first).
   */
  finalUsage(pid: number, cpuTime: number, maxrss: number | undefined): void {
    const p = this.byPid.get(pid);
    if (!p || p.state !== 'running' || p.rss === null || (p.cpuTime !== undefined && cpuTime < p.cpuTime)) return;
    const dt = this.host.now() - (this.sampledAt.get(pid) ?? this.host.now());
    // Too soon after the last reading to say anything new about its CPU %: that one stands (the
    // kernel's figure is in 10 ms ticks, the process's own is not: their difference over a few
    // ms would read as hundreds of percent).
    const cpu = p.cpuTime !== undefined && dt >= MIN_CPU_WINDOW_MS ? ((cpuTime - p.cpuTime) * 1000 * 100) / dt : (p.cpu ?? 0);
    if (maxrss !== undefined && (p.peakRss === undefined || maxrss > p.peakRss)) p.peakRss = maxrss;
    this.sampled([{ pid, cpu, rss: p.rss, cpuTime }]);
  }

  /**
   * The kernel showed how `pid` ended (its zombie's status): logged once its connection is read
   * to the end (the caller waits for that), but already what the table knows best.
   */
  seen(pid: number, exitcode: number): void {
    if (this.byPid.get(pid)?.state === 'running') this.seenEnding.set(pid, exitcode);
  }

  /** The best word on how `pid` ended when no observer reports it: the kernel's, else its own. */
  private lastWord(pid: number): number | null {
    return this.seenEnding.get(pid) ?? this.selfReported.get(pid) ?? null;
  }

  /** How `pid` ended, as someone who saw it says (null: nobody could). The first word is final. */
  exited(pid: number, exitcode: number | null): void {
    let p = this.byPid.get(pid);
    if (!p) {
      // Never said hello (it died first): listed now from its parent's report, to end at once,
      // after every sibling started before it and not listed yet, alive or not (one still dying
      // from the same SIGTERM, say): children are listed in the order they were started.
      const a = this.announced.get(pid);
      if (!a) return;
      for (const [sibling, b] of [...this.announced]) {
        if (sibling !== pid && b.ppid === a.ppid && b.at <= a.at) this.vanished(sibling);
      }
      this.vanished(pid);
      p = this.byPid.get(pid) as ProcessInfo;
    }
    if (p.state !== 'running') return;
    this.host.ending(pid);
    this.selfReported.delete(pid);
    this.seenEnding.delete(pid);
    p.state = 'exited';
    p.exitcode = exitcode;
    p.endedAt = this.host.now();
    this.host.emit({ type: 'exit', pid, exitcode });
    for (const w of [...(this.exitWaiters.get(pid) ?? [])]) w();
    this.exitWaiters.delete(pid);
  }

  /**
   * Everything `pid` sent is handled and its connection closed. Its parent reports the exit
   * code when it reaps it; if the parent is gone, nobody will: its own word is all there is.
   */
  drained(pid: number): void {
    const p = this.byPid.get(pid);
    if (!p || p.state !== 'running' || pid === this.rootPid) return;
    const parent = this.byPid.get(p.ppid);
    if (!parent || parent.state !== 'running') this.exited(pid, this.lastWord(pid));
    else this.watchUnreaped(pid);
  }

  /** The run is over: whoever is still listed as running ended in a way nobody could see. */
  settle(): void {
    for (const w of this.watchers) clearInterval(w);
    this.watchers.clear();
    for (const p of this.byPid.values()) {
      if (p.state === 'running') this.exited(p.pid as number, this.lastWord(p.pid as number));
    }
  }

  /** Waits for a process of the run to exit, at most `timeout` seconds. */
  async waitExit(pid: number, timeout?: number): Promise<{ exited: boolean; exitcode: number | null }> {
    const p = this.byPid.get(pid) as ProcessInfo;
    if (p.state === 'running') {
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(timer);
          this.exitWaiters.get(pid)?.delete(done);
          resolve();
        };
        let set = this.exitWaiters.get(pid);
        if (!set) this.exitWaiters.set(pid, (set = new Set()));
        set.add(done);
        if (timeout !== undefined) timer = setTimeout(done, Math.max(0, timeout) * 1000);
      });
    }
    return { exited: p.state !== 'running', exitcode: p.exitcode };
  }

  /**
   * Lists a process. It is listed at its hello, but it was born when its parent started it:
   * `bornAt`, when that report was read, dates its `process` line (a child that boots slowly
   * under load was alive all along, as its parent's is_alive() said).
   */
  private list(pid: number, ppid: number, name: string, daemon: boolean, handle: string | undefined, bornAt?: number): void {
    if (this.byPid.has(pid)) return;
    const now = bornAt ?? this.host.now();
    let row = handle !== undefined ? this.rows.get(handle) : undefined;
    // An object that already ran is not this process's: list it by pid.
    if (row && row.state !== 'created') handle = row = undefined;
    const key = handle ?? `pid:${pid}`;
    row ??= this.rows.get(key);
    if (row && row.state === 'created') {
      Object.assign(row, { pid, ppid, name, daemon, state: 'running', startedAt: now });
    } else {
      row = { ...blank(key, handle ?? null, ppid, name, daemon), pid, state: 'running', startedAt: now };
      this.rows.set(key, row);
    }
    this.byPid.set(pid, row);
    const stat = readProcStat(pid);
    if (stat !== null) this.startTimes.set(pid, stat.starttime);
    this.host.emitStamped({ t: now, type: 'process', pid, ppid, name, daemon, ...(handle ? { handle } : {}) });
    this.host.listed(pid);
  }

  /**
   * A child whose connection closed while its parent runs: the parent reports its exit code
   * when it reaps it, but a Python parent reaps only when it calls join(), is_alive() or
   * similar, which it may never do (or only at its own exit). Until then the child is a zombie,
   * and the kernel already knows how it ended: read it there, so the window shows the exit (a
   * kill from the window, say) when it happens.
   */
  private watchUnreaped(pid: number): void {
    let goneFor = 0;
    const timer = setInterval(() => {
      const p = this.byPid.get(pid);
      const stop = () => {
        clearInterval(timer);
        this.watchers.delete(timer);
      };
      if (!p || p.state !== 'running') return stop();
      const code = zombieExitcode(pid);
      if (code !== null) {
        stop();
        this.exited(pid, code);
      } else if (!isAlive(pid) && (goneFor += UNREAPED_POLL_MS) >= ORDER_WAIT_MS) {
        // Reaped, and no report came: by a parent that does not report (not multiprocessing's),
        // or by init after its parent died. Its own word is all that is left.
        stop();
        this.exited(pid, this.lastWord(pid));
      }
      // Still running (it closed its connection itself), or reaped with the parent's report
      // on its way: look again.
    }, UNREAPED_POLL_MS);
    timer.unref();
    this.watchers.add(timer);
  }
}

function blank(key: string, handle: string | null, ppid: number, name: string, daemon: boolean): ProcessInfo {
  return {
    key, handle, pid: null, ppid, name, daemon, state: 'created', exitcode: null,
    startedAt: null, endedAt: null, cpu: null, rss: null,
  };
}

/**
 * Whether a Process-object handle is one `pid` may name: handles are `<owner pid>.<n>` (both
 * runtimes), so a process can only announce, start or close its own objects, and a child can
 * only claim one of its parent's.
 */
function ownedBy(handle: string, pid: number): boolean {
  return handle.startsWith(`${pid}.`);
}
