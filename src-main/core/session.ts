// A Session is one run: it owns the main process (and through its process group every process of
// the run), the broker, the process table, the sampler and the run log, and it is the only
// control surface. It orders nothing itself: the broker's sequencer hands it facts in causal
// order, the process table turns them into rows and events, and this file writes them down.

import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import {
  LOG_VERSION,
  type ControlResult,
  type EndEvent,
  type EndReason,
  type JoinResult,
  type ProcessInfo,
  type ProcessStacks,
  type ProcessTarget,
  type RunEvent,
  type RunInfo,
  type UnstampedEvent,
} from '../api.ts';
import type { ControlOp } from '../protocol.ts';
import type { LockFigures } from './broker/lock-state.ts';
import type { QueueFigures } from './broker/queue-count.ts';
import { Stamps } from './broker/stamps.ts';
import { ProfileCollector } from './profile/collector.ts';
import { Broker, type BrokerHost } from './broker/server.ts';
import { stopGroup } from './group-stop.ts';
import { isAlive, killRunSync, readProcStat } from './process-group.ts';
import { ProcessTable } from './process-table.ts';
import { RootOutput, onRootExit, startRoot } from './root/runner.ts';
import { OutputOwners } from './output-owner.ts';
import { OutputServer } from './output-server.ts';
import type { WriterLine } from './writer-output.ts';
import { RunClaims } from './run-claims.ts';
import { RunControls } from './run-controls.ts';
import { RunLogWriter } from './runlog/writer.ts';
import { Sampler, type ProcessSample } from './sampler.ts';
import { prepare, type SessionOptions, type Setup } from './session-setup.ts';
import { workingDirFor } from './scenario-loader.ts';
import { makeScratch, sweepScratch } from './scratch-folders.ts';

/** How long a process has to say where its threads are (see stacks). */
const STACKS_TIMEOUT_MS = 1000;
/** How long the processes of a stopped run have to exit after SIGTERM. */
const STOP_GRACE_MS = 1000;
/** How long the end of a run waits for the last connections to close. */
const HANG_UP_WAIT_MS = 2000;
/** A process just listed that has nothing to read yet (in exec()) is read again this often… */
const FIRST_READ_RETRY_MS = 20;
/** …this many times at most (the ticks take over after). */
const FIRST_READ_TRIES = 5;

export interface RunSummary {
  end: EndEvent;
  processes: ProcessInfo[];
  queues: QueueFigures[];
  locks: LockFigures[];
}

type Listener = (event: RunEvent) => void;

export { ControlError, type SessionOptions } from './session-setup.ts';

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

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export class Session {
  readonly info: RunInfo;
  readonly done: Promise<RunSummary>;
  private resolveDone!: (s: RunSummary) => void;
  private readonly listeners = new Set<Listener>();
  private readonly t0 = performance.now();
  private readonly log: RunLogWriter;
  private readonly broker: Broker;
  private readonly table: ProcessTable;
  private readonly sampler: Sampler;
  private readonly controls: RunControls;
  private readonly profiles: ProfileCollector;
  /** What processes claim, checked against the kernel. */
  private readonly claims: RunClaims;
  private rootPid = 0;
  /** The main process's start time (kernel ticks; null where /proc is missing). */
  private rootStart: number | null = null;
  private rootRunning = false;
  /** What the run's processes write to their descriptors 1 and 2 themselves. */
  private readonly rootOutput: RootOutput;
  private readonly outputOwners: OutputOwners;
  /** Where each process of the run connects its own descriptors 1 and 2. */
  private readonly outputServer: OutputServer;
  private rootFatal: string | null = null;
  private stopReason: EndReason | null = null;
  private ending = false;
  private timeoutTimer: NodeJS.Timeout | null = null;
  /** Readings taken as a process's hello or bye arrived, logged once it is listed (in order). */
  private readonly early = new Map<number, ProcessSample[]>();
  /** Processes read for the last time as their bye arrived. */
  private readonly lastRead = new Set<number>();

  private constructor(
    private readonly setup: Setup,
    private readonly cwd: string,
    private readonly scratch: string,
  ) {
    this.info = { runId: path.basename(setup.logPath, '.jsonl'), logPath: setup.logPath, scenario: setup.scenario.id, runtime: setup.runner.runtime };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.log = RunLogWriter.open(setup.logPath);
    this.table = new ProcessTable({
      emit: (e) => this.emit(e),
      emitStamped: (e) => this.emitStamped(e),
      now: () => this.now(),
      listed: (pid) => {
        this.logEarly(pid);
        this.outputOwners.listed(pid);
      },
      ending: (pid) => {
        this.outputServer.ended(pid);
        this.rootOutput.ended(pid);
      },
    });
    this.claims = new RunClaims({
      root: () => this.rootPid,
      isSame: (pid) => this.table.isSame(pid),
      parentOf: (pid) => this.table.get(pid)?.ppid,
      listedRunning: (pid) => this.table.get(pid)?.state === 'running',
    });
    this.broker = new Broker(path.join(scratch, 'broker.sock'), this.brokerHost(), { sharedIntervalMs: setup.interval, sharedCalls: setup.sharedCalls });
    this.outputOwners = new OutputOwners({
      root: () => this.rootPid,
      listed: (pid) => this.table.get(pid)?.state === 'running',
      connecting: (pid) => this.broker.hasConnectionFrom(pid),
      line: (pid, stream, text) => this.emit({ type: 'output', pid, stream, text }),
    });
    const line: WriterLine = (stream, writer, text) => this.outputOwners.line(stream, writer, text);
    this.rootOutput = new RootOutput(line);
    this.outputServer = new OutputServer(path.join(scratch, 'output.sock'), (socket) => this.outputWriter(socket), line);
    // Samples and waits carry their process's own stamps, fitted as every reported time is.
    const stamps = new Stamps(() => this.now());
    this.profiles = new ProfileCollector(
      (e) => {
        e.t = stamps.fit(e.t, 0);
        this.emitStamped(e);
      },
      (pid, message) => this.emit({ type: 'warning', pid, message }),
    );
    this.controls = new RunControls({
      table: this.table,
      broker: this.broker,
      emit: (e) => this.emit(e),
      rootPid: () => this.rootPid,
      ended: () => this.ending,
      signal: (pid, sig) => this.claims.signal(pid, sig),
    });
    this.sampler = new Sampler({
      intervalMs: setup.interval,
      pids: () => this.table.livePids(),
      onSample: (samples) => this.table.sampled(samples),
      onError: (err) => this.emit({ type: 'warning', message: `sampling failed: ${err.message}` }),
    });
  }

  /** Starts a run. Throws ScenarioError or ControlError (one line) for bad input; leaves nothing behind then. */
  static async start(opts: SessionOptions): Promise<Session> {
    const setup = prepare(opts);
    // What monitors killed with SIGKILL left behind (they could not remove their folders).
    sweepScratch();
    // Made only once everything given was found good: a refused start leaves no folder behind.
    const scratch = makeScratch();
    let session: Session;
    try {
      session = new Session(setup, workingDirFor(setup.scenario, scratch), scratch);
    } catch (err) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
    if (opts.onEvent) session.on(opts.onEvent);
    try {
      await session.begin(opts.timeout);
    } catch (err) {
      await session.discard();
      throw err;
    }
    return session;
  }

  /** Subscribes to every event from now on, in order; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  processes(): ProcessInfo[] {
    return this.table.all();
  }

  get rootProcessPid(): number {
    return this.rootPid;
  }

  /** Stops the run: every process of it is ended (see group-stop.ts), the main process last. */
  async stop(reason: EndReason = 'stopped'): Promise<RunSummary> {
    if (!this.ending && this.stopReason === null) {
      this.stopReason = reason;
      this.emit({ type: 'control', action: 'stop', ok: true, result: reason });
      if (this.rootRunning) await this.endGroup();
      else void this.finish();
    }
    return this.done;
  }

  terminate(pid: number): void {
    this.controls.signal(pid, 'SIGTERM', 'terminate');
  }

  kill(pid: number): void {
    this.controls.signal(pid, 'SIGKILL', 'kill');
  }

  /** Waits for a process of the run to exit, at most `timeout` seconds. */
  join(pid: number, timeout?: number): Promise<JoinResult> {
    return this.controls.join(pid, timeout);
  }

  /** The window's controls (run-controls.ts). */
  control(action: ControlOp, target: ProcessTarget, timeout?: number): Promise<ControlResult> {
    return this.controls.control(action, target, timeout);
  }

  /** Where every running process is now: each Python thread's stack (see `run.stacks`). */
  async stacks(): Promise<ProcessStacks[]> {
    return Promise.all(
      this.table.running().map(async (p): Promise<ProcessStacks> => {
        const pid = p.pid as number;
        if (!this.setup.runner.stacks) return { pid, name: p.name, threads: [], error: 'typescript' };
        const threads = await this.broker.stacks(pid, STACKS_TIMEOUT_MS);
        if (threads === null) return { pid, name: p.name, threads: [], error: this.broker.isConnected(pid) ? 'no-answer' : 'not-connected' };
        return { pid, name: p.name, threads };
      }),
    );
  }

  /** Synchronous last resort for the host's exit handler: nothing survives, nothing logged is lost. */
  killNow(): void {
    if (this.rootPid) killRunSync(this.runGroup(), this.table.sameRunning());
    if (!this.log.closed) this.log.flush();
  }

  // ---- internals --------------------------------------------------------------------------

  private now(): number {
    return round(performance.now() - this.t0);
  }

  /** Logs an event and hands it to the listeners, stamped now (in place when it has a `t` slot). */
  private emit(e: UnstampedEvent | RunEvent): void {
    let event: RunEvent;
    if ('t' in e) {
      event = e;
      event.t = this.now();
    } else event = { t: this.now(), ...e } as RunEvent;
    this.emitStamped(event);
  }

  /** Logs an event whose `t` is already right. */
  private emitStamped(e: RunEvent): void {
    this.log.append(e);
    for (const l of this.listeners) l(e);
  }

  private brokerHost(): BrokerHost {
    const t = this.table;
    return {
      claims: this.claims,
      emit: (e) => this.emit(e),
      emitStamped: (e) => this.emitStamped(e),
      now: () => this.now(),
      between: (pid, ppid, name) => t.between(pid, ppid, name),
      hello: (pid, ppid, name, daemon, handle) => t.hello(pid, ppid, name, daemon, handle),
      created: (owner, handle, name, daemon) => t.created(owner, handle, name, daemon),
      spawned: (parent, pid, name, daemon, handle) => t.spawned(parent, pid, name, daemon, handle),
      closed: (owner, handle) => t.closed(owner, handle),
      exited: (pid, exitcode, reporter, usage) => {
        if (reporter === 'parent') return t.exited(pid, exitcode);
        // Its last word, sent as it exits: the reading taken as it arrived (see heard), else
        // what it said it used.
        if (this.early.has(pid)) this.logEarly(pid);
        else if (usage?.cpu !== undefined) t.finalUsage(pid, usage.cpu, usage.maxrss);
        t.selfReport(pid, exitcode);
      },
      alive: (pid) => isAlive(pid),
      vanished: (pid) => t.vanished(pid),
      heard: (pid, last) => {
        // A short-lived child may be gone (reaped) by the time its hello or bye is handled: read
        // it now, log it in order. Its bye is its end: read even as a zombie, and only once.
        const s = last ? this.sampler.last(pid) : this.sampler.readSync(pid);
        if (last) this.lastRead.add(pid);
        if (s) this.early.set(pid, [...(this.early.get(pid) ?? []), s]);
      },
      task: (pid, done, failed) => t.task(pid, done, failed),
      profile: (pid, m) => this.profiles.receive(pid, m),
      fatal: (pid, message) => {
        if (pid === this.rootPid) this.rootFatal = message;
        else this.emit({ type: 'warning', pid, message });
      },
      drained: (pid) => {
        this.profiles.forget(pid);
        // Its last sample before its exit: a process that has exited and is not reaped yet
        // still has its final CPU time to read.
        const last = this.lastRead.delete(pid) ? null : this.sampler.last(pid);
        if (last) t.sampled([last]);
        t.drained(pid);
      },
    };
  }

  /**
   * Logs the readings taken early of `pid` (see heard), or reads it now (at its listing) if there
   * are none; a process caught in the middle of exec() is read again a moment later.
   */
  /**
   * The pid that connected an output connection, if it is of the run: a listed process, or one
   * that descends from one or sits in the main's session (it may connect before its hello).
   */
  private outputWriter(socket: net.Socket): number | null {
    const peer = this.claims.peerOf(socket);
    if (peer.pid === null) return null;
    const ofRun = (pid: number) => pid === this.rootPid || this.table.get(pid)?.state === 'running';
    if (ofRun(peer.pid) || peer.session === this.rootPid || peer.ancestors.some(ofRun)) return peer.pid;
    // Gone before it was taken (a Pool worker terminated while it started, say): nobody to
    // refuse, and nothing was written, as it waits for the answer first.
    if (peer.start === null) return null;
    this.emit({ type: 'warning', message: `refused an output connection from pid ${peer.pid}: it does not descend from this run` });
    return null;
  }

  private logEarly(pid: number, tries = FIRST_READ_TRIES): void {
    const samples = this.early.get(pid);
    this.early.delete(pid);
    if (samples) return this.table.sampled(samples);
    if (this.sampler.readNow(pid) || tries <= 1 || this.ending) return;
    setTimeout(() => {
      if (this.table.get(pid)?.state === 'running' && !this.ending) this.logEarly(pid, tries - 1);
    }, FIRST_READ_RETRY_MS).unref();
  }

  private async begin(timeout: number | undefined): Promise<void> {
    installExitHook();
    live.add(this);
    const { scenario, runner } = this.setup;
    this.emit({
      type: 'run',
      version: LOG_VERSION,
      scenario: scenario.id,
      startedAt: new Date(Date.now() - (performance.now() - this.t0)).toISOString(),
      interval: this.setup.interval,
      cwd: this.cwd,
      runtime: runner.runtime,
      ...(runner.interpreter !== undefined ? { interpreter: runner.interpreter } : {}),
      ...(this.setup.args.length > 0 ? { args: [...this.setup.args] } : {}),
      ...(this.setup.profileHz !== null ? { profile: { hz: this.setup.profileHz } } : {}),
    });
    await this.broker.listen();
    await this.outputServer.listen();
    const root = await startRoot(runner, {
      file: scenario.file,
      cwd: this.cwd,
      args: this.setup.args,
      scratch: this.scratch,
      socketPath: this.broker.socketPath,
      t0: performance.timeOrigin + this.t0,
      interactive: this.setup.interactive,
      profileHz: this.setup.profileHz,
      outputPath: this.outputServer.socketPath,
    }, this.rootOutput);
    this.rootPid = root.pid;
    this.rootStart = readProcStat(root.pid)?.starttime ?? null;
    this.rootRunning = true;
    root.child.on('error', (err) => this.emit({ type: 'warning', message: `main process: ${err.message}` }));
    onRootExit(root.child, (exitcode) => this.rootExited(exitcode));
    this.table.addRoot(root.pid, process.pid);
    if (timeout !== undefined) this.timeoutTimer = setTimeout(() => void this.timedOut(), timeout * 1000);
    this.sampler.start();
  }

  /**
   * The operating system tells us at once how the main process ended; what it reported before
   * (the children it joined, their exits) is logged first: its exit waits for its connection.
   */
  private rootExited(exitcode: number): void {
    this.rootRunning = false;
    this.broker.whenDrained(this.rootPid, () => {
      this.table.exited(this.rootPid, exitcode);
      void this.finish();
    });
  }

  /** Ends every process of the run that is left, noting how each ended (after its last words). */
  private async endGroup(): Promise<void> {
    await stopGroup(this.runGroup(), {
      graceMs: STOP_GRACE_MS,
      roots: () => this.table.sameRunning(),
      onExit: (pid, exitcode) => {
        if (pid === this.rootPid) return;
        this.table.seen(pid, exitcode);
        this.broker.whenDrained(pid, () => this.table.exited(pid, exitcode));
      },
    }).catch((err: Error) => this.emit({ type: 'warning', message: err.message }));
  }

  /**
   * The run's process group (the main process's pid), or 0 once that id may name another group:
   * a process that is not the main one has its pid. A group id is never handed out while its
   * group has members, so then the run's group is empty, and signalling that id would reach
   * someone else's (another run's main is started as the leader of a group of its own).
   */
  private runGroup(): number {
    const now = readProcStat(this.rootPid);
    return now === null || this.rootStart === null || now.starttime === this.rootStart ? this.rootPid : 0;
  }

  private async timedOut(): Promise<void> {
    await this.setup.beforeTimeout?.(this).catch(() => {});
    await this.stop('timeout');
  }

  private async finish(): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.sampler.stop();
    // Orphans and daemons outlive the main process only until here: no process survives its run.
    await this.endGroup();
    await this.broker.allClosed(HANG_UP_WAIT_MS);
    this.outputServer.close();
    this.rootOutput.close();
    this.outputOwners.close();
    this.broker.flush();
    this.table.settle();
    const end: EndEvent = {
      t: this.now(),
      type: 'end',
      reason: this.stopReason ?? (this.rootFatal ? 'error' : 'finished'),
      exitcode: this.table.get(this.rootPid)?.exitcode ?? null,
      ...(this.rootFatal ? { error: this.rootFatal } : {}),
    };
    this.log.append(end);
    this.log.close();
    for (const l of this.listeners) l(end);
    const summary: RunSummary = { end, processes: this.processes(), queues: this.broker.queueCounts.figures(), locks: this.broker.lockStates.figures() };
    await this.broker.close();
    this.removeFolders();
    live.delete(this);
    this.resolveDone(summary);
  }

  /** A run that never started (no interpreter, say) leaves nothing: no log, no folders. */
  private async discard(): Promise<void> {
    live.delete(this);
    this.sampler.stop();
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    if (this.rootPid) killRunSync(this.runGroup());
    this.outputServer.close();
    this.rootOutput.close();
    this.outputOwners.close();
    this.log.close();
    fs.rmSync(this.info.logPath, { force: true });
    await this.broker.close();
    this.removeFolders();
  }

  /** The run's folder, with a preset's working folder in it. */
  private removeFolders(): void {
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}
