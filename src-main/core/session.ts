// A Session is one run: it owns the root process (and through its process group every process of
// the run), the broker, the sampler and the run log, and it is the only control surface.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { constants } from 'node:os';
import {
  LOG_VERSION,
  type ControlResult,
  type ProcessTarget,
  type EndEvent,
  type EndReason,
  type JoinResult,
  type ProcessInfo,
  type ProcessStacks,
  type RunEvent,
  type RunInfo,
  type Runtime,
  type UnstampedEvent,
  isInterpreter,
} from '../api.ts';
import { ENV_COMPILED, ENV_INTERACTIVE, ENV_MONITOR, ENV_PROFILE, ENV_ROLE, ENV_SCENARIO, ENV_SOCKET, ENV_T0, type ControlOp } from '../protocol.ts';
import { ProfileCollector } from './profile/collector.ts';
import { profileHz } from './profile/profile-options.ts';
import { monitorIdentity } from './monitor-identity.ts';
import { Broker, type BrokerHost } from './broker/server.ts';
import type { LockFigures } from './broker/locks.ts';
import type { QueueFigures } from './broker/queues.ts';
import { childEntry, runsDir } from './paths.ts';
import { isAlive, killGroup, killGroupSync, zombieExitcode } from './process-group.ts';
import { preparedShimDir } from './python-shim.ts';
import { RunLogWriter } from './runlog/writer.ts';
import { Sampler, validateInterval } from './sampler.ts';
import { compileScenario } from './scenario-compiler.ts';
import { resolveScenario, workingDirFor, type ResolvedScenario } from './scenario-loader.ts';

/** How long a parent-reported exit waits for the child's last output (its connection closing). */
const EXIT_AFTER_OUTPUT_MS = 500;
/** How long a process has to say where its threads are (see stacks). */
const STACKS_TIMEOUT_MS = 1000;
/** How often a child whose parent has not reaped it is looked at (see watchUnreaped). */
const UNREAPED_POLL_MS = 50;

export interface SessionOptions {
  /** A preset id or a path to a scenario file. */
  scenario: string;
  /** Sampling interval, ms (50..10000). Default 500. */
  interval?: number;
  /** Stop the run after this many seconds. */
  timeout?: number;
  /** Where to write the run log; default: a new file in the runs folder. */
  logPath?: string;
  /** Where a log without `logPath` goes, under a name made from the scenario (default: runsDir()). */
  runsDir?: string;
  /** Shown in the window: a person may call members of Process objects (runtime's interactive()). */
  interactive?: boolean;
  /** Sees every event from the first (`run`), which `on()` after start() cannot. */
  onEvent?: Listener;
  /** Runs, and is waited for, when the run's timeout ends it: the processes are still there. */
  beforeTimeout?: (session: Session) => Promise<void>;
  /** Python mode: the interpreter that runs a .py scenario (default `python3`, found on PATH). */
  python?: string;
  /** A preset's TypeScript twin (default) or its Python original; a file's extension decides for it. */
  runtime?: Runtime;
  /** The program's arguments: `sys.argv[1:]` in Python, `process.argv.slice(2)` in a scenario. */
  args?: readonly string[];
  /** Profile every process: samples of each thread's stack, `hz` a second (see core/profile). */
  profile?: { hz?: number };
}

/** A control that the session refuses: the message is one line, fit for the user. */
export class ControlError extends Error {
  override name = 'ControlError';
}

export interface RunSummary {
  end: EndEvent;
  processes: ProcessInfo[];
  queues: QueueFigures[];
  locks: LockFigures[];
}

type Listener = (event: RunEvent) => void;

const live = new Set<Session>();
let exitHookInstalled = false;

/** Whatever happens to the host, the runs' process groups die with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.killNow();
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function signalExitcode(signal: NodeJS.Signals | null, code: number | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return n ? -n : 1;
}

export class Session {
  readonly info: RunInfo;
  readonly done: Promise<RunSummary>;
  private resolveDone!: (s: RunSummary) => void;
  private readonly listeners = new Set<Listener>();
  /** Every Process object and process of the run, by row key (handle, or pid:<pid> for main). */
  private readonly rows = new Map<string, ProcessInfo>();
  /** Started processes by pid. */
  private readonly byPid = new Map<number, ProcessInfo>();
  private readonly hellos = new Map<number, { ppid: number; name: string; daemon: boolean; handle?: string }>();
  /**
   * Exit codes processes reported for themselves ('bye'), written just before they really exit:
   * used only when nobody who saw the exit (the parent, the kernel) can say how it ended.
   */
  private readonly selfReported = new Map<number, number>();
  private readonly exitWaiters = new Map<number, Set<() => void>>();
  private readonly t0 = performance.now();
  private readonly log: RunLogWriter;
  private readonly broker: Broker;
  private readonly sampler: Sampler;
  private readonly profiles: ProfileCollector;
  private root: ChildProcess | null = null;
  private rootPid = 0;
  private rootFatal: string | null = null;
  private stopReason: EndReason | null = null;
  private ending = false;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private disconnectedAll: (() => void) | null = null;
  /** Pids whose connection to the broker has closed: all they said has been read. */
  private readonly hungUp = new Set<number>();
  /** Children waiting to be listed until their parent's earlier reports are read (see hello). */
  private readonly listings = new Map<() => void, number>();
  /** Logs the root's exit, once what it reported before it is logged (see rootExited). */
  private rootSettled: (() => void) | null = null;
  /** Children listed only once their siblings' due exits are logged, by parent pid. */
  private readonly addsWaiting = new Map<number, { adds: { pid: number; add: () => void }[]; timer: NodeJS.Timeout }>();
  /** Exits seen by a parent, waiting for the child's connection to close. */
  private readonly exitsDue = new Map<number, { exitcode: number; timer: NodeJS.Timeout }>();

  private constructor(
    private readonly scenario: ResolvedScenario,
    private readonly cwd: { cwd: string; temporary: boolean },
    private readonly socketDir: string,
    logPath: string,
    private readonly interval: number,
    private readonly interactive: boolean,
    private readonly python: string,
    private readonly args: readonly string[],
    private readonly beforeTimeout: ((session: Session) => Promise<void>) | undefined,
    private readonly profileRate: number | null = null,
  ) {
    this.info = { runId: path.basename(logPath, '.jsonl'), logPath, scenario: scenario.id, runtime: scenario.python ? 'python' : 'typescript' };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.log = RunLogWriter.open(logPath);
    const host = this.brokerHost();
    this.broker = new Broker(path.join(socketDir, 'broker.sock'), host);
    this.profiles = new ProfileCollector(
      (e) => host.emitAt(e),
      (pid, message) => this.emit({ type: 'warning', pid, message }),
    );
    this.sampler = new Sampler({
      intervalMs: interval,
      pids: () => this.livePids(),
      onSample: (samples) => {
        for (const s of samples) {
          const p = this.byPid.get(s.pid);
          if (!p || p.state !== 'running') continue;
          p.cpu = s.cpu;
          p.rss = s.rss;
          this.emit({ type: 'sample', pid: s.pid, cpu: Math.round(s.cpu * 100) / 100, rss: s.rss });
        }
      },
      onError: (err) => this.emit({ type: 'warning', message: `sampling failed: ${err.message}` }),
    });
  }

  /** Starts a run. Throws ScenarioError (one line) for an unknown preset or a bad file. */
  static async start(opts: SessionOptions): Promise<Session> {
    const scenario = resolveScenario(opts.scenario, opts.runtime);
    const interval = validateInterval(opts.interval ?? 500);
    if (opts.timeout !== undefined && !(opts.timeout > 0)) throw new ControlError(`timeout must be a positive number of seconds, got ${opts.timeout}`);
    const entry = childEntry();
    const logPath = path.resolve(opts.logPath ?? path.join(opts.runsDir ?? runsDir(), `${runIdFor(scenario)}.jsonl`));
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-broker-'));
    if (opts.python !== undefined && !isInterpreter(opts.python)) throw new ControlError('python must name an interpreter (a command or a path)');
    const args = opts.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && !a.includes('\0'))) throw new ControlError('program arguments must be strings');
    const session = new Session(scenario, workingDirFor(scenario), socketDir, logPath, interval, opts.interactive === true, opts.python ?? 'python3', [...args], opts.beforeTimeout, profileHz(opts.profile));
    if (opts.onEvent) session.on(opts.onEvent);
    try {
      await session.begin(entry, opts.timeout);
    } catch (err) {
      session.discard();
      throw err;
    }
    return session;
  }

  /** A run that never started (no interpreter, say) leaves nothing: no log, no folders. */
  private discard(): void {
    live.delete(this);
    this.sampler.stop();
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.log.close();
    fs.rmSync(this.info.logPath, { force: true });
    fs.rmSync(this.socketDir, { recursive: true, force: true });
    if (this.cwd.temporary) fs.rmSync(this.cwd.cwd, { recursive: true, force: true });
  }

  /** Subscribes to every event from now on, in order; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  processes(): ProcessInfo[] {
    return [...this.rows.values()].map((p) => ({ ...p }));
  }

  get rootProcessPid(): number {
    return this.rootPid;
  }

  /** Stops the run: the whole process group is terminated, then killed. */
  async stop(reason: EndReason = 'stopped'): Promise<RunSummary> {
    if (!this.ending && this.stopReason === null) {
      this.stopReason = reason;
      this.emit({ type: 'control', action: 'stop', ok: true, result: reason });
      if (this.root && this.root.exitCode === null && this.root.signalCode === null) {
        await killGroup(this.rootPid, { graceMs: 1000 });
      } else {
        void this.finish();
      }
    }
    return this.done;
  }

  terminate(pid: number): void {
    this.signal(pid, 'SIGTERM', 'terminate');
  }

  kill(pid: number): void {
    this.signal(pid, 'SIGKILL', 'kill');
  }

  /** Waits for a process of the run to exit, at most `timeout` seconds. */
  async join(pid: number, timeout?: number): Promise<JoinResult> {
    this.own(pid);
    const result = await this.waitExit(pid, timeout);
    this.emit({
      type: 'control',
      action: 'join',
      pid,
      ok: true,
      result: result.exited ? `exitcode ${result.exitcode}` : 'timed out, still running',
    });
    return result;
  }

  private async waitExit(pid: number, timeout?: number): Promise<JoinResult> {
    const p = this.own(pid);
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
    const after = this.byPid.get(pid) as ProcessInfo;
    return { exited: after.state !== 'running', exitcode: after.exitcode };
  }

  /**
   * The window's controls. A Process object's members are called in its owner (the real
   * parent), so results are Python's own; the main process, or one whose parent is gone, can
   * only be signalled or waited for from here.
   */
  async control(action: ControlOp, target: ProcessTarget, timeout?: number): Promise<ControlResult> {
    const row = 'handle' in target ? this.rows.get(target.handle) : this.byPid.get(target.pid);
    if (!row) throw new ControlError(`${'handle' in target ? `process object ${target.handle}` : `pid ${target.pid}`} is not part of this run`);
    if (this.ending) throw new ControlError('the run has ended');
    let result: ControlResult;
    if (row.handle && this.broker.isConnected(row.ppid)) {
      result = await this.broker.control(row.ppid, action, row.handle, timeout ?? null);
    } else if (row.pid !== null && (action === 'terminate' || action === 'kill')) {
      const alive = row.state === 'running' && isAlive(row.pid);
      if (alive) process.kill(row.pid, action === 'terminate' ? 'SIGTERM' : 'SIGKILL');
      result = { ok: true, text: 'None', exitcode: row.exitcode, alive };
    } else if (row.pid !== null && action === 'join') {
      const j = await this.waitExit(row.pid, timeout);
      result = { ok: true, text: 'None', exitcode: j.exitcode, alive: !j.exited };
    } else {
      result = {
        ok: false,
        text: row.pid === this.rootPid ? `the main process cannot ${action}: it is not a Process object` : `nobody can ${action} it: its parent has exited`,
        exitcode: row.exitcode,
        alive: row.state === 'running',
      };
    }
    this.emit({
      type: 'control',
      action,
      ...(row.pid !== null ? { pid: row.pid } : {}),
      ...(row.handle ? { handle: row.handle } : {}),
      ok: result.ok,
      result: result.text,
    });
    return result;
  }

  /** Where every running process is now: each Python thread's stack (see `run.stacks`). */
  async stacks(): Promise<ProcessStacks[]> {
    const running = [...this.byPid.values()].filter((p) => p.state === 'running' && p.pid !== null);
    return Promise.all(
      running.map(async (p): Promise<ProcessStacks> => {
        const pid = p.pid as number;
        if (!this.scenario.python) return { pid, name: p.name, threads: [], error: 'typescript' };
        const threads = await this.broker.stacks(pid, STACKS_TIMEOUT_MS);
        if (threads === null) return { pid, name: p.name, threads: [], error: this.broker.isConnected(pid) ? 'no-answer' : 'not-connected' };
        return { pid, name: p.name, threads };
      }),
    );
  }

  /** Synchronous last resort for the host's exit handler: nothing survives, nothing logged is lost. */
  killNow(): void {
    if (this.rootPid) killGroupSync(this.rootPid);
    if (!this.log.closed) this.log.flush();
  }

  // ---- internals --------------------------------------------------------------------------

  private own(pid: number): ProcessInfo {
    const p = Number.isInteger(pid) ? this.byPid.get(pid) : undefined;
    if (!p) throw new ControlError(`pid ${pid} is not a process of this run`);
    return p;
  }

  private signal(pid: number, sig: NodeJS.Signals, action: 'terminate' | 'kill'): void {
    const p = this.own(pid);
    // An exited pid may already belong to someone else: never signal it.
    if (p.state !== 'running' || !isAlive(pid)) {
      this.emit({ type: 'control', action, pid, ok: false, result: 'already exited' });
      return;
    }
    process.kill(pid, sig);
    this.emit({ type: 'control', action, pid, ok: true, result: `sent ${sig}` });
  }

  private livePids(): number[] {
    const pids: number[] = [];
    for (const p of this.byPid.values()) if (p.state === 'running') pids.push(p.pid as number);
    return pids;
  }

  private emit(e: UnstampedEvent | RunEvent): void {
    const t = round(performance.now() - this.t0);
    // Hot events come with a `t` slot in first place (see broker/peer.ts): stamp them in place.
    let event: RunEvent;
    if ('t' in e) {
      event = e;
      event.t = t;
    } else event = { t, ...e } as RunEvent;
    this.log.append(event);
    for (const l of this.listeners) l(event);
  }

  private addProcess(pid: number, ppid: number, name: string, daemon: boolean, handle?: string): void {
    if (this.byPid.has(pid)) return;
    const now = round(performance.now() - this.t0);
    let row = handle !== undefined ? this.rows.get(handle) : undefined;
    // An object that already ran is not this process's: list it by pid.
    if (row && row.state !== 'created') handle = row = undefined;
    const key = handle ?? `pid:${pid}`;
    row ??= this.rows.get(key);
    if (row && row.state === 'created') {
      Object.assign(row, { pid, ppid, name, daemon, state: 'running', startedAt: now });
    } else {
      row = { key, handle: handle ?? null, pid, ppid, name, daemon, state: 'running', exitcode: null, startedAt: now, endedAt: null, cpu: null, rss: null };
      this.rows.set(key, row);
    }
    this.byPid.set(pid, row);
    this.emit({ type: 'process', pid, ppid, name, daemon, ...(handle ? { handle } : {}) });
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
      if (this.ending || !p || p.state !== 'running') {
        clearInterval(timer);
        return;
      }
      const code = zombieExitcode(pid);
      if (code !== null) {
        clearInterval(timer);
        this.markExited(pid, code);
      } else if (!isAlive(pid) && (goneFor += UNREAPED_POLL_MS) >= EXIT_AFTER_OUTPUT_MS) {
        // Reaped, and no report came: by a parent that does not report (not multiprocessing's),
        // or by init after its parent died. Its own word is all that is left.
        clearInterval(timer);
        this.markExited(pid, this.selfReported.get(pid) ?? null);
      }
      // Still running (it closed its connection itself), or reaped with the parent's report
      // on its way: look again.
    }, UNREAPED_POLL_MS);
    timer.unref();
  }

  /**
   * A new child of `ppid` is listed after the exits its parent already reported (it saw them
   * before it started this one), and those wait for their own child's last output (see
   * `exited`): so the new child waits too, briefly, while a sibling's exit is due.
   */
  private addAfterSiblingsEnd(ppid: number, pid: number, add: () => void): void {
    let waiting = this.addsWaiting.get(ppid);
    if (!waiting && !this.hasDueChild(ppid, pid)) return add();
    if (!waiting) {
      // A backstop: each due exit settles within EXIT_AFTER_OUTPUT_MS by itself.
      const timer = setTimeout(() => this.releaseAdds(ppid, true), EXIT_AFTER_OUTPUT_MS);
      this.addsWaiting.set(ppid, (waiting = { adds: [], timer }));
    }
    waiting.adds.push({ pid, add });
  }

  /**
   * Lists the children of `ppid` that waited, in order, each once no sibling's exit is due (a
   * child listed here may have its own exit due already), or all of them if `force`.
   */
  private releaseAdds(ppid: number, force = false): void {
    const waiting = this.addsWaiting.get(ppid);
    if (!waiting) return;
    const before = waiting.adds.length;
    while (waiting.adds.length > 0 && (force || !this.hasDueChild(ppid, waiting.adds[0].pid))) waiting.adds.shift()?.add();
    if (waiting.adds.length === 0) {
      clearTimeout(waiting.timer);
      this.addsWaiting.delete(ppid);
      this.checkRootSettled();
    } else if (waiting.adds.length < before) {
      waiting.timer.refresh();
    }
  }

  /** `list` (a child of `ppid`), made to run once: by whichever comes first, or by the end of the run. */
  private listing(ppid: number, list: () => void): () => void {
    const once = () => {
      if (!this.listings.delete(once)) return;
      list();
      this.checkRootSettled();
    };
    this.listings.set(once, ppid);
    return once;
  }

  /**
   * The root's exit is known from the operating system at once, but what it reported just before
   * (the children it joined, their exits) may still be unread on its connection: its exit is
   * logged after them, once its connection is read to the end and its children are listed and
   * their due exits logged, or after a while at most.
   */
  private rootExited(exitcode: number | null): void {
    const timer = setTimeout(() => this.rootSettled?.(), EXIT_AFTER_OUTPUT_MS);
    this.rootSettled = () => {
      clearTimeout(timer);
      this.rootSettled = null;
      this.markExited(this.rootPid, exitcode);
      void this.finish();
    };
    this.checkRootSettled();
  }

  private checkRootSettled(): void {
    const root = this.rootPid;
    if (!this.rootSettled) return;
    if (!this.hungUp.has(root) && this.broker.isConnected(root)) return;
    if (this.hasDueChild(root) || this.addsWaiting.has(root)) return;
    for (const ppid of this.listings.values()) if (ppid === root) return;
    this.rootSettled();
  }

  /** Whether a child of `ppid` other than `pid` has an exit due (reported, not logged yet). */
  private hasDueChild(ppid: number, pid?: number): boolean {
    // A due child may be known only by its hello so far (its own listing waited too).
    for (const due of this.exitsDue.keys()) {
      if (due !== pid && (this.byPid.get(due) ?? this.hellos.get(due))?.ppid === ppid) return true;
    }
    return false;
  }

  /** Logs an exit that waited for the process's connection to close (see `exited`). */
  private settleExit(pid: number): void {
    const due = this.exitsDue.get(pid);
    if (!due) return;
    clearTimeout(due.timer);
    this.exitsDue.delete(pid);
    this.markExited(pid, due.exitcode);
  }

  private markExited(pid: number, exitcode: number | null): void {
    let p = this.byPid.get(pid);
    if (!p) {
      const h = this.hellos.get(pid);
      if (!h) return;
      this.addProcess(pid, h.ppid, h.name, h.daemon, h.handle);
      p = this.byPid.get(pid) as ProcessInfo;
    }
    if (p.state === 'exited') return;
    this.hungUp.delete(pid); // its pid may come back as another process of the run
    this.selfReported.delete(pid);
    p.state = 'exited';
    p.exitcode = exitcode;
    p.endedAt = round(performance.now() - this.t0);
    this.emit({ type: 'exit', pid, exitcode });
    for (const w of [...(this.exitWaiters.get(pid) ?? [])]) w();
    this.exitWaiters.delete(pid);
    this.releaseAdds(p.ppid);
    this.checkRootSettled();
  }

  private brokerHost(): BrokerHost {
    return {
      emit: (e) => this.emit(e),
      emitAt: (e) => {
        // The scenario process's clock: never ahead of ours, never before the run.
        e.t = Math.max(0, Math.min(e.t, round(performance.now() - this.t0)));
        this.log.append(e);
        for (const l of this.listeners) l(e);
      },
      hello: (pid, ppid, name, daemon, handle, after) => {
        if (this.byPid.has(pid)) return true;
        const parent = this.byPid.get(ppid);
        // The parent may itself be known only by its hello so far (a forked child that forks at
        // once can be heard before the grandparent's "spawned" report about it arrives).
        if ((parent === undefined || parent.state !== 'running') && !this.hellos.has(ppid)) return false;
        // A Python process is listed from its hello, not from its parent's "spawned" report,
        // which may come later, or never if the parent dies (see `after` below).
        if (this.scenario.python) {
          const own = handle !== undefined && ownedBy(handle, ppid) ? handle : undefined;
          this.hellos.set(pid, { ppid, name, daemon, handle: own });
          const list = this.listing(ppid, () => this.addAfterSiblingsEnd(ppid, pid, () => this.addProcess(pid, ppid, name, daemon, own)));
          // Listed once the parent's reports up to its start() are read (a sibling's exit it
          // saw just before), or after a while at most.
          if (after === undefined) list();
          else {
            this.broker.whenRead(ppid, after, list);
            setTimeout(list, EXIT_AFTER_OUTPUT_MS).unref();
          }
          return true;
        }
        // Its parent's "spawned" report normally came first; if not, this is enough to list it.
        this.hellos.set(pid, { ppid, name, daemon });
        return true;
      },
      created: (owner, handle, name, daemon) => {
        // Already listed: announced late, after the child said hello with it (Python).
        if (this.rows.has(handle) || !ownedBy(handle, owner)) return;
        this.rows.set(handle, {
          key: handle, handle, pid: null, ppid: owner, name, daemon, state: 'created',
          exitcode: null, startedAt: null, endedAt: null, cpu: null, rss: null,
        });
        this.emit({ type: 'created', handle, owner, name, daemon });
      },
      spawned: (parentPid, pid, name, daemon, handle) => {
        const own = handle !== undefined && ownedBy(handle, parentPid) ? handle : undefined;
        this.addAfterSiblingsEnd(parentPid, pid, () => this.addProcess(pid, parentPid, name, daemon, own));
      },
      closed: (owner, handle) => {
        const row = this.rows.get(handle);
        if (!row || row.state === 'closed' || row.ppid !== owner) return;
        row.state = 'closed';
        this.emit({ type: 'closed', handle, pid: row.pid });
      },
      exited: (pid, exitcode, reporter) => {
        // A self-report cannot see a signal: a kill() that lands after it, while the process is
        // on its way out, ends it with -9 all the same. It waits for the parent's report or the
        // kernel's (watchUnreaped), and counts only where neither can come.
        if (reporter === 'self') {
          if (this.byPid.has(pid) || this.hellos.has(pid)) this.selfReported.set(pid, exitcode);
          return;
        }
        // The parent saw the exit, but the child's last output may still be on its way on the
        // child's own connection: its exit waits for that connection to close, so the log never
        // shows a line after the exit of the process that printed it.
        // A child not heard from yet may still have everything in its socket, unread (under
        // load the parent's report can overtake it): it waits too, for a while.
        if (reporter === 'parent' && !this.hungUp.has(pid) && !this.exitsDue.has(pid)) {
          const timer = setTimeout(() => this.settleExit(pid), EXIT_AFTER_OUTPUT_MS);
          this.exitsDue.set(pid, { exitcode, timer });
          return;
        }
        this.markExited(pid, exitcode);
      },
      task: (pid, done, failed) => {
        const p = this.byPid.get(pid);
        if (p) p.tasks = { done, failed };
        this.emit({ type: 'task', pid, done, failed });
      },
      fatal: (pid, message) => {
        if (pid === this.rootPid) this.rootFatal = message;
        else this.emit({ type: 'warning', pid, message });
      },
      now: () => round(performance.now() - this.t0),
      profile: (pid, m) => this.profiles.receive(pid, m),
      disconnected: (pid) => {
        this.profiles.forget(pid);
        this.hungUp.add(pid);
        this.settleExit(pid);
        const p = this.byPid.get(pid);
        // Its parent reports the exit code; if the parent is gone too, nobody can.
        if (p && p.state === 'running' && pid !== this.rootPid) {
          const parent = this.byPid.get(p.ppid);
          if (!parent || parent.state !== 'running') this.markExited(pid, this.selfReported.get(pid) ?? null);
          else this.watchUnreaped(pid);
        }
        if (this.broker.connected === 0) this.disconnectedAll?.();
        this.checkRootSettled();
      },
    };
  }

  private async begin(entry: string, timeout: number | undefined): Promise<void> {
    installExitHook();
    live.add(this);
    this.emit({
      type: 'run',
      version: LOG_VERSION,
      scenario: this.scenario.id,
      startedAt: new Date(Date.now() - (performance.now() - this.t0)).toISOString(),
      interval: this.interval,
      cwd: this.cwd.cwd,
      runtime: this.info.runtime,
      ...(this.scenario.python ? { interpreter: this.python } : {}),
      ...(this.args.length > 0 ? { args: [...this.args] } : {}),
      ...(this.profileRate !== null ? { profile: { hz: this.profileRate } } : {}),
    });
    await this.broker.listen();
    if (this.scenario.python) return this.beginPython(timeout);
    // Compiled once here, the scenario loads in every process of the run without module hooks;
    // one it cannot compile faithfully loads through them, as before. finish() removes socketDir.
    const runtimeUrl = pathToFileURL(path.join(path.dirname(entry), 'procscope.mjs')).href;
    const compiled = compileScenario(this.scenario.file, path.join(this.socketDir, 'compiled'), runtimeUrl);
    const root = this.spawnRoot(process.execPath, [entry, ...this.args], {
      // undefined drops one inherited from our own environment: only this run's compile counts.
      [ENV_COMPILED]: 'entry' in compiled ? compiled.entry : undefined,
      // Inside Electron, execPath is the app: make it (and every child, by inheritance) plain Node.
      ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
    });
    if (root.pid === undefined) {
      await this.broker.close();
      throw new ControlError(`cannot start ${process.execPath}`);
    }
    this.adoptRoot(root, timeout);
  }

  /**
   * Python mode: `python3 script.py` in the script's folder, with procscope's shim on PYTHONPATH
   * (its sitecustomize instruments multiprocessing in this process and every child).
   */
  private async beginPython(timeout: number | undefined): Promise<void> {
    const shim = await preparedShimDir(this.python);
    const inherited = process.env.PYTHONPATH;
    const root = this.spawnRoot(this.python, [this.scenario.file, ...this.args], {
      [ENV_COMPILED]: undefined,
      PYTHONPATH: inherited ? `${shim}${path.delimiter}${inherited}` : shim,
    });
    const failed = new Promise<Error>((resolve) => root.once('error', resolve));
    if (root.pid === undefined) {
      const err = await failed;
      await this.broker.close();
      throw new ControlError(`cannot start Python interpreter '${this.python}': ${err.message}`);
    }
    root.on('error', (err) => this.emit({ type: 'warning', message: `python: ${err.message}` }));
    this.adoptRoot(root, timeout);
  }

  /**
   * The run's main process, in the program's folder, in a process group of its own (stopping the
   * run kills every descendant with one signal), told where the broker is and when t = 0 was.
   */
  private spawnRoot(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    return spawn(command, args, {
      cwd: this.cwd.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        [ENV_ROLE]: 'main',
        [ENV_SOCKET]: this.broker.socketPath,
        [ENV_SCENARIO]: this.scenario.file,
        [ENV_T0]: String(performance.timeOrigin + this.t0),
        [ENV_MONITOR]: monitorIdentity(),
        ...(this.interactive ? { [ENV_INTERACTIVE]: '1' } : {}),
        // undefined drops one inherited from our own environment: only this run's choice counts.
        [ENV_PROFILE]: this.profileRate !== null ? String(this.profileRate) : undefined,
        ...env,
      },
    });
  }

  private adoptRoot(root: ChildProcess, timeout: number | undefined): void {
    this.root = root;
    this.rootPid = root.pid as number;
    this.addProcess(this.rootPid, process.pid, 'MainProcess', false);
    // Anything written past the runtime (a native crash message) still reaches the log.
    for (const [stream, name] of [
      [root.stdout, 'stdout'],
      [root.stderr, 'stderr'],
    ] as const) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const text of lines) this.emit({ type: 'output', pid: this.rootPid, stream: name, text });
      });
    }
    root.once('exit', (code, signal) => this.rootExited(signalExitcode(signal, code)));
    if (timeout !== undefined) {
      this.timeoutTimer = setTimeout(() => void this.timedOut(), timeout * 1000);
    }
    this.sampler.start();
  }

  private async timedOut(): Promise<void> {
    await this.beforeTimeout?.(this).catch(() => {});
    await this.stop('timeout');
  }

  private async finish(): Promise<void> {
    if (this.ending) return;
    // Stopped while the root's exit waited for its last reports: log it now.
    if (this.rootSettled) return this.rootSettled();
    this.ending = true;
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.sampler.stop();
    // Orphans and daemons outlive the root only until here: no process survives its run.
    await killGroup(this.rootPid, { graceMs: 1000 }).catch((err: Error) =>
      this.emit({ type: 'warning', message: err.message }),
    );
    if (this.broker.connected > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.disconnectedAll = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const pid of [...this.exitsDue.keys()]) this.settleExit(pid);
    for (const list of [...this.listings.keys()]) list();
    for (const ppid of [...this.addsWaiting.keys()]) this.releaseAdds(ppid, true);
    for (const p of this.byPid.values()) {
      if (p.state === 'running') this.markExited(p.pid as number, this.selfReported.get(p.pid as number) ?? null);
    }
    const rootInfo = this.byPid.get(this.rootPid);
    const exitcode = rootInfo?.exitcode ?? null;
    const reason: EndReason = this.stopReason ?? (this.rootFatal ? 'error' : 'finished');
    const end: EndEvent = {
      t: round(performance.now() - this.t0),
      type: 'end',
      reason,
      exitcode,
      ...(this.rootFatal ? { error: this.rootFatal } : {}),
    };
    this.log.append(end);
    this.log.close();
    for (const l of this.listeners) l(end);
    const summary: RunSummary = {
      end,
      processes: this.processes(),
      queues: [...this.broker.queues.figures(), ...this.broker.observed.queueFigures()],
      locks: [...this.broker.locks.figures(), ...this.broker.observed.lockFigures()],
    };
    await this.broker.close();
    fs.rmSync(this.socketDir, { recursive: true, force: true });
    if (this.cwd.temporary) fs.rmSync(this.cwd.cwd, { recursive: true, force: true });
    live.delete(this);
    this.resolveDone(summary);
  }
}

/**
 * Whether a Process-object handle is one `pid` may name: handles are `<owner pid>.<n>` (both
 * runtimes), so a process can only announce, start or close its own objects, and a child can
 * only claim one of its parent's.
 */
function ownedBy(handle: string, pid: number): boolean {
  return handle.startsWith(`${pid}.`);
}

function runIdFor(s: ResolvedScenario): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = s.preset ? (s.python ? `${s.id}-py` : s.id) : path.basename(s.file).replace(/\.[^.]+$/, '');
  // Short enough for a run id (isRunId: at most 200 characters) whatever the file's name.
  return `${stamp}-${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60) || 'scenario'}-${randomBytes(3).toString('hex')}`;
}
