// The one implementation of every command of the contract (api.ts `Commands`). Both window shells
// (Electron's ipcMain and the web server) only carry commands in and pushes out; everything a
// command does happens here, so the two shells cannot drift apart.
//
// Live events. A Session calls its listeners once per event, and a queue benchmark emits ~200k
// events/s, so events are never forwarded one by one: the listener only appends to an array, and
// a timer (BATCH_MS) turns what gathered into ONE `events` push. Every live batch carries the
// run-wide index of its first event (`LiveBatch.start`), which is what makes replays exact.
//
// Replays (`run.current`). A page that (re)connects needs the run's events so far, then the live
// ones, with nothing lost or repeated across the switch. The events so far are read back from the
// run log, never kept in memory (a long run's log is far larger than what we want to hold):
//   1. At the request, the subscriber starts HOLDING: live pushes for it are queued, not sent.
//      Every event already pushed to it was appended to the log before this moment.
//   2. After a setImmediate the log holds at least those events: the writer flushes at the end of
//      the turn in which it appended (its setImmediate was queued before ours, and immediates run
//      in order). We read the log to its end: F events, sent as `replay: true` pushes.
//   3. The held pushes are then released, minus their events with index < F; later live batches
//      for this run are cut at F too (a batch pending in the timer may straddle F).
// The command's result is returned before step 2 starts, so over an ordered channel the page
// receives the result first, then the replay, then live events: it resets its model on the result.
//
// The session's onEvent listener sees a run from its first event (`run`), so live pushes start at
// index 0: events emitted inside Session.start wait in `pending` for the first batch.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import {
  parseCommand,
  parseRunEvent,
  type ApiError,
  type AppInfo,
  type CommandName,
  type Commands,
  type ControlResult,
  type EndEvent,
  type ExportFormat,
  type ExportResult,
  type PastRun,
  type ProcessTarget,
  type PushMessage,
  type RunEvent,
  type RunInfo,
  type RunStatus,
  type ScenarioSource,
  type Settings,
  SOURCE_MAX_BYTES,
  isInterpreter,
} from '../api.ts';
import { loadPresets, presetById } from '../presets/catalog.ts';
import { packageRoot, presetsDir, runsDir as defaultRunsDir } from './paths.ts';
import { exportCsv } from './runlog/csv.ts';
import { readRunLog } from './runlog/reader.ts';
import { tornTailBytes } from './runlog/torn-tail.ts';
import { EXPORT_SUFFIX } from './runlog/export-names.ts';
import { exportSpeedscope } from './runlog/speedscope.ts';
import { exportTrace } from './runlog/trace.ts';
import { resolveScenario } from './scenario-loader.ts';
import { Session } from './session.ts';

/** A command the backend refuses: one line, fit to show as it is. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Errors cross every boundary as data: name and one-line message, never a stack or a live object. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

/**
 * Receives pushes. It may return a promise to say "I am congested": replays (which the backend
 * can pace, unlike live events) wait for it before pushing more.
 */
export type PushListener = (message: PushMessage) => void | Promise<void>;

export interface SaveExportResult {
  savedTo?: string;
  url?: string;
  cancelled?: boolean;
}

export interface BackendOptions {
  shell: 'electron' | 'web';
  /** Where run logs are written and listed; default: paths.ts runsDir(). */
  runsDir?: string;
  /** Default: `<runsDir>/../settings.json`. */
  settingsFile?: string;
  /** Where exports are written before `saveExport` takes them; default: a private temp folder. */
  exportsDir?: string;
  /** Desktop: a native "Open…" dialog. Absent: `scenario.pick` answers `{ path: null }`. */
  pickScenario?: () => Promise<string | null>;
  /**
   * Hands a finished export to the shell, which then owns `tempPath`: it moves, copies or serves
   * it. When it answers `cancelled`, or `savedTo` another path, the backend deletes `tempPath`.
   * Absent: the export stays in exportsDir and the answer is `{ savedTo: tempPath }`.
   */
  saveExport?: (suggestedName: string, tempPath: string) => Promise<SaveExportResult>;
}

/** Live events are gathered this long before one push carries them all. */
export const BATCH_MS = 50;
/** A live push never carries more than this many events (a burst is split). */
export const LIVE_BATCH_MAX = 20_000;
/** Events per replay push. */
export const REPLAY_BATCH = 5_000;

const DEFAULT_SETTINGS: Settings = { interval: 500, python: 'python3' };
const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;
const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 64 * 1024;

interface LiveBatch {
  runId: string;
  /** Run-wide index (0 = the `run` event) of events[0]. */
  start: number;
  events: RunEvent[];
}

type Held = { kind: 'batch'; batch: LiveBatch } | { kind: 'message'; message: PushMessage };

interface Subscriber {
  listener: PushListener;
  /** Non-null while a `run.current` replay is being sent to it: live pushes wait here, in order. */
  held: Held[] | null;
  /** Bumped by every replay request: a superseded replay stops and leaves the release to the new one. */
  replayGeneration: number;
  /** After a replay: events of this run with a smaller index were in the replay, so are not sent again. */
  skip: { runId: string; index: number } | null;
}

interface CurrentRun {
  session: Session;
  info: RunInfo;
  end: EndEvent | null;
  /** Events caught by the listener and not pushed yet. */
  pending: RunEvent[];
  /** Run-wide index of pending[0]. */
  nextIndex: number;
  timer: NodeJS.Timeout | null;
  off: () => void;
}

export class Backend {
  private readonly shell: 'electron' | 'web';
  private readonly runs: string;
  private readonly settingsFile: string;
  private readonly subs = new Set<Subscriber>();
  private run: CurrentRun | null = null;
  private starting = false;
  private settings: Settings | null = null;
  private exportsDir: string | null;
  private readonly ownsExportsDir: boolean;
  private disposed = false;

  constructor(private readonly opts: BackendOptions) {
    this.shell = opts.shell;
    this.runs = path.resolve(opts.runsDir ?? defaultRunsDir());
    this.settingsFile = path.resolve(opts.settingsFile ?? path.join(this.runs, '..', 'settings.json'));
    this.exportsDir = opts.exportsDir ? path.resolve(opts.exportsDir) : null;
    this.ownsExportsDir = opts.exportsDir === undefined;
  }

  /** Receives every push from now on; returns the unsubscribe function. */
  subscribe(listener: PushListener): () => void {
    const sub: Subscriber = { listener, held: null, replayGeneration: 0, skip: null };
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  /**
   * Runs one command. `args` are checked again here (a shell's check is not trusted). `requester`
   * is the listener the asking page subscribed with: replays and progress go to it alone (other
   * pages did not ask, and would take a replay for a duplicate). Without it they go to everyone.
   */
  async handle<C extends CommandName>(command: C, args: Commands[C]['args'], requester?: PushListener): Promise<Commands[C]['result']> {
    if (this.disposed) throw new CommandError('procscope is shutting down');
    const parsed = parseCommand(command, args);
    if (!parsed.ok) throw new CommandError(parsed.reason);
    const result = await this.dispatch(parsed.command, parsed.args, requester);
    return result as Commands[C]['result'];
  }

  /** Stops a running session and lets go of everything this backend holds. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const run = this.run;
    if (run && run.end === null) await run.session.stop().catch(() => undefined);
    if (run) {
      if (run.timer) clearTimeout(run.timer);
      run.timer = null;
      run.off();
    }
    this.subs.clear();
    if (this.ownsExportsDir && this.exportsDir) fs.rmSync(this.exportsDir, { recursive: true, force: true });
  }

  // ---- commands ---------------------------------------------------------------------------

  private async dispatch(command: CommandName, a: unknown, requester?: PushListener): Promise<unknown> {
    switch (command) {
      case 'app.info':
        return this.appInfo();
      case 'presets.list':
        return loadPresets(presetsDir());
      case 'run.start':
        return this.start(a as Commands['run.start']['args']);
      case 'run.stop':
        return this.stop();
      case 'run.current':
        return this.current(requester);
      case 'process.list':
        return this.run ? this.run.session.processes() : [];
      case 'run.stacks': {
        const run = this.run;
        if (!run) throw new CommandError('there is no run: start one first');
        if (run.end !== null) throw new CommandError('the run has ended');
        return run.session.stacks();
      }
      case 'process.start':
      case 'process.terminate':
      case 'process.kill':
      case 'process.close': {
        const action = command.slice('process.'.length) as 'start' | 'terminate' | 'kill' | 'close';
        return this.control(action, (a as { target: ProcessTarget }).target);
      }
      case 'process.join': {
        const { target, timeout } = a as Commands['process.join']['args'];
        return this.control('join', target, timeout);
      }
      case 'runs.list':
        return this.listRuns();
      case 'runs.open':
        return this.open((a as { runId: string }).runId, requester);
      case 'run.export': {
        const { runId, format } = a as Commands['run.export']['args'];
        return this.exportRun(runId, format, requester);
      }
      case 'settings.get':
        return { ...this.loadSettings() };
      case 'settings.set':
        return this.saveSettings(a as Partial<Settings>);
      case 'scenario.pick':
        return { path: this.opts.pickScenario ? await this.opts.pickScenario() : null };
      case 'scenario.source':
        return this.source((a as Commands['scenario.source']['args']).path);
    }
  }

  /** A program file's text, for the code panel (see the contract for what may be read). */
  private async source(ref: string): Promise<ScenarioSource> {
    if (presetById(ref)) throw new CommandError(`${ref} is a preset: its sources come with presets.list`);
    const s = resolveScenario(ref);
    const st = await fs.promises.stat(s.file);
    if (st.size > SOURCE_MAX_BYTES) throw new CommandError(`${s.file} is too large to show (${st.size} bytes; at most ${SOURCE_MAX_BYTES})`);
    return { path: s.file, runtime: s.python ? 'python' : 'typescript', text: await fs.promises.readFile(s.file, 'utf8') };
  }

  private appInfo(): AppInfo {
    let version = '0.0.0';
    try {
      version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // a packaged app without its package.json still answers
    }
    return { shell: this.shell, version, platform: process.platform, runsDir: this.runs };
  }

  private async start(args: Commands['run.start']['args']): Promise<RunInfo> {
    if (this.starting || (this.run && this.run.end === null)) throw new CommandError('a run is already running: stop it first');
    this.starting = true;
    let session: Session;
    // Until the run record exists, events (the first ones come from inside Session.start) wait here.
    const early: RunEvent[] = [];
    let sink: (e: RunEvent) => void = (e) => early.push(e);
    try {
      session = await Session.start({
        scenario: args.scenario,
        interval: args.interval ?? this.loadSettings().interval,
        timeout: args.timeout,
        runtime: args.runtime,
        args: args.args,
        profile: args.profile,
        python: this.loadSettings().python,
        runsDir: this.runs,
        interactive: true,
        onEvent: (e) => sink(e),
      });
    } finally {
      this.starting = false;
    }
    // The previous run's listener is gone already (it detached at its end); only its timer may remain.
    if (this.run?.timer) clearTimeout(this.run.timer);
    const run: CurrentRun = {
      session,
      info: { ...session.info },
      end: null,
      pending: early,
      nextIndex: 0,
      timer: null,
      off: () => undefined,
    };
    sink = (e) => this.onEvent(run, e);
    run.off = () => {
      sink = () => undefined;
    };
    this.run = run;
    if (run.pending.length > 0) run.timer = setTimeout(() => this.onTimer(run), BATCH_MS);
    this.broadcast({ type: 'run', status: this.status(run) });
    return { ...run.info };
  }

  private async stop(): Promise<{ reason: Commands['run.stop']['result']['reason'] }> {
    const run = this.run;
    if (!run || run.end !== null) return { reason: null };
    const summary = await run.session.stop();
    return { reason: summary.end.reason };
  }

  private current(requester?: PushListener): RunStatus | null {
    const run = this.run;
    if (!run) return null;
    const targets = this.targets(requester);
    const generations = new Map<Subscriber, number>();
    for (const sub of targets) {
      sub.held ??= [];
      generations.set(sub, ++sub.replayGeneration);
    }
    if (targets.length > 0) void this.replayCurrent(run, targets, generations);
    return this.status(run);
  }

  private async control(action: 'start' | 'join' | 'terminate' | 'kill' | 'close', target: ProcessTarget, timeout?: number): Promise<ControlResult> {
    const run = this.run;
    if (!run) throw new CommandError('there is no run: start one first');
    if (run.end !== null) throw new CommandError('the run has ended');
    return run.session.control(action, target, timeout);
  }

  private async listRuns(): Promise<PastRun[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.runs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found = await Promise.all(
      names
        .filter((n) => n.endsWith('.jsonl') && RUN_ID.test(n.slice(0, -'.jsonl'.length)))
        .map((n) => this.pastRun(n.slice(0, -'.jsonl'.length))),
    );
    const runs = found.filter((r): r is PastRun => r !== null);
    // Newest first; ISO 8601 UTC strings sort as time does.
    runs.sort((a, b) => (a.startedAt === b.startedAt ? (a.runId < b.runId ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
    return runs;
  }

  /** One log's summary from its first line and its last line only: logs can be gigabytes. */
  private async pastRun(runId: string): Promise<PastRun | null> {
    const logPath = path.join(this.runs, `${runId}.jsonl`);
    let handle: fs.promises.FileHandle | null = null;
    try {
      const st = await fs.promises.lstat(logPath);
      if (!st.isFile()) return null;
      handle = await fs.promises.open(logPath, 'r');
      const headLen = Math.min(st.size, HEAD_BYTES);
      const head = Buffer.alloc(headLen);
      await handle.read(head, 0, headLen, 0);
      const nl = head.indexOf(0x0a);
      if (nl === -1) return null;
      const first = parseRunEvent(JSON.parse(head.subarray(0, nl).toString('utf8')));
      if (!first.ok || first.event.type !== 'run') return null;
      let reason: PastRun['reason'] = null;
      const tailLen = Math.min(st.size, TAIL_BYTES);
      const tail = Buffer.alloc(tailLen);
      await handle.read(tail, 0, tailLen, st.size - tailLen);
      // A log ends with '\n' after its last complete line; anything else is a torn (or live) tail.
      if (tailLen > 0 && tail[tailLen - 1] === 0x0a) {
        const prev = tail.lastIndexOf(0x0a, tailLen - 2);
        if (prev !== -1 || tailLen === st.size) {
          try {
            const last = parseRunEvent(JSON.parse(tail.subarray(prev + 1, tailLen - 1).toString('utf8')));
            if (last.ok && last.event.type === 'end') reason = last.event.reason;
          } catch {
            // not JSON: no end line
          }
        }
      }
      const runtime = first.event.runtime ?? 'typescript';
      const tornBytes = this.run?.info.runId === runId && this.run.end === null ? 0 : await tornTailBytes(handle, st.size);
      return { runId, logPath, scenario: first.event.scenario, runtime, startedAt: first.event.startedAt, reason, bytes: st.size, ...(tornBytes > 0 ? { tornBytes } : {}) };
    } catch {
      // Unreadable or not a run log: not listed.
      return null;
    } finally {
      await handle?.close();
    }
  }

  private async open(runId: string, requester?: PushListener): Promise<{ runId: string; events: number }> {
    const logPath = await this.logPathOf(runId);
    const targets = this.targets(requester);
    let count = 0;
    let batch: RunEvent[] = [];
    for await (const event of readRunLog(logPath)) {
      batch.push(event);
      count++;
      if (batch.length >= REPLAY_BATCH) {
        await this.pushReplay(targets, runId, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.pushReplay(targets, runId, batch);
    return { runId, events: count };
  }

  private async exportRun(runId: string, format: ExportFormat, requester?: PushListener): Promise<ExportResult> {
    const logPath = await this.logPathOf(runId);
    const dir = await this.exportsFolder();
    const suggestedName = `${runId}${EXPORT_SUFFIX[format]}`;
    // Unique, so two exports of one run never share a file; the shell gets the clean name to offer.
    const tempPath = path.join(dir, `${randomBytes(6).toString('hex')}-${suggestedName}`);
    const task = `export:${runId}:${format}`;
    const targets = this.targets(requester);
    let last = -1;
    const progress = (fraction: number) => {
      const f = Math.max(0, Math.min(1, fraction));
      // At most ~100 pushes per export, whatever the size of the log.
      if (f < 1 && f - last < 0.01) return;
      last = f;
      for (const sub of targets) if (this.subs.has(sub)) void sub.listener({ type: 'progress', task, fraction: f });
    };
    progress(0);
    try {
      if (format === 'jsonl') await copyWithProgress(logPath, tempPath, progress);
      else if (format === 'csv') await exportCsv(logPath, tempPath, progress);
      else if (format === 'speedscope') await exportSpeedscope(logPath, tempPath, `procscope@${this.appInfo().version}`, progress);
      else await exportTrace(logPath, tempPath, progress);
    } catch (err) {
      await fs.promises.rm(tempPath, { force: true });
      throw err;
    }
    progress(1);
    if (!this.opts.saveExport) return { savedTo: tempPath };
    let saved: SaveExportResult;
    try {
      saved = await this.opts.saveExport(suggestedName, tempPath);
    } catch (err) {
      await fs.promises.rm(tempPath, { force: true });
      throw err;
    }
    if (saved.cancelled || (saved.savedTo !== undefined && saved.savedTo !== tempPath)) await fs.promises.rm(tempPath, { force: true });
    const result: ExportResult = {};
    if (saved.savedTo !== undefined) result.savedTo = saved.savedTo;
    if (saved.url !== undefined) result.url = saved.url;
    if (saved.cancelled) result.cancelled = true;
    return result;
  }

  private loadSettings(): Settings {
    if (this.settings) return this.settings;
    let stored: unknown = null;
    try {
      stored = JSON.parse(fs.readFileSync(this.settingsFile, 'utf8'));
    } catch {
      // missing or unreadable: defaults
    }
    const s: Settings = { ...DEFAULT_SETTINGS };
    // Field by field: a hand-edited file with one bad value keeps the others.
    if (typeof stored === 'object' && stored !== null) {
      const o = stored as Record<string, unknown>;
      if (isInterval(o.interval)) s.interval = o.interval as number;
      if (isInterpreter(o.python)) s.python = o.python;
    }
    return (this.settings = s);
  }

  private async saveSettings(patch: Partial<Settings>): Promise<Settings> {
    if (patch.interval !== undefined && !isInterval(patch.interval)) {
      throw new CommandError(`interval must be a whole number of ms between 50 and 10000, got ${JSON.stringify(patch.interval)}`);
    }
    if (patch.python !== undefined && !isInterpreter(patch.python)) {
      throw new CommandError('python must name an interpreter: a command on PATH or a path, without surrounding blanks');
    }
    const next: Settings = {
      ...this.loadSettings(),
      ...(patch.interval !== undefined ? { interval: patch.interval } : {}),
      ...(patch.python !== undefined ? { python: patch.python } : {}),
    };
    await fs.promises.mkdir(path.dirname(this.settingsFile), { recursive: true });
    // Written whole and renamed: a crash never leaves half a settings file.
    const tmp = `${this.settingsFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.promises.writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
    await fs.promises.rename(tmp, this.settingsFile);
    this.settings = next;
    return { ...next };
  }

  // ---- paths ------------------------------------------------------------------------------

  /** The log of `runId`: a regular file directly inside runsDir, or a CommandError. */
  private async logPathOf(runId: unknown): Promise<string> {
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new CommandError(`not a run id: ${JSON.stringify(runId)}`);
    const logPath = path.resolve(this.runs, `${runId}.jsonl`);
    if (path.dirname(logPath) !== this.runs) throw new CommandError(`not a run id: ${JSON.stringify(runId)}`);
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(logPath);
    } catch {
      throw new CommandError(`no run ${runId} in ${this.runs}`);
    }
    // A symlink could point anywhere: only real files of the runs folder are runs.
    if (!st.isFile()) throw new CommandError(`no run ${runId} in ${this.runs}`);
    return logPath;
  }

  private async exportsFolder(): Promise<string> {
    if (this.exportsDir) {
      await fs.promises.mkdir(this.exportsDir, { recursive: true });
      return this.exportsDir;
    }
    // Private (0700, unguessable name): a shared /tmp/procscope-exports could be pre-created by someone else.
    this.exportsDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'procscope-exports-'));
    return this.exportsDir;
  }

  // ---- live events ------------------------------------------------------------------------

  /** The session's listener: called once per event, so it only appends. */
  private onEvent(run: CurrentRun, e: RunEvent): void {
    run.pending.push(e);
    if (e.type === 'end') {
      run.end = e;
      run.off();
      if (run.timer) clearTimeout(run.timer);
      run.timer = null;
      // The end goes out at once, followed by the status that says so.
      this.flushLive(run);
      this.broadcast({ type: 'run', status: this.status(run) });
      return;
    }
    if (run.pending.length >= LIVE_BATCH_MAX) this.flushLive(run);
    else if (run.timer === null) run.timer = setTimeout(() => this.onTimer(run), BATCH_MS);
  }

  private onTimer(run: CurrentRun): void {
    run.timer = null;
    this.flushLive(run);
  }

  /** Pushes everything pending as batches. */
  private flushLive(run: CurrentRun): void {
    while (run.pending.length > 0) {
      const events = run.pending.length <= LIVE_BATCH_MAX ? run.pending : run.pending.slice(0, LIVE_BATCH_MAX);
      run.pending = events === run.pending ? [] : run.pending.slice(LIVE_BATCH_MAX);
      const batch: LiveBatch = { runId: run.info.runId, start: run.nextIndex, events };
      run.nextIndex += events.length;
      for (const sub of this.subs) this.deliver(sub, batch);
    }
  }

  private deliver(sub: Subscriber, batch: LiveBatch): void {
    if (sub.held) {
      sub.held.push({ kind: 'batch', batch });
      return;
    }
    let events = batch.events;
    const skip = sub.skip;
    if (skip && skip.runId === batch.runId) {
      const cut = skip.index - batch.start;
      if (cut >= events.length) return;
      if (cut > 0) events = events.slice(cut);
      sub.skip = null;
    }
    void sub.listener({ type: 'events', runId: batch.runId, events });
  }

  /** A push every page gets, in order with the live events (held during a replay). */
  private broadcast(message: PushMessage): void {
    for (const sub of this.subs) {
      if (sub.held) sub.held.push({ kind: 'message', message });
      else void sub.listener(message);
    }
  }

  private targets(requester?: PushListener): Subscriber[] {
    const all = [...this.subs];
    if (requester === undefined) return all;
    return all.filter((s) => s.listener === requester);
  }

  private async replayCurrent(run: CurrentRun, targets: Subscriber[], generations: Map<Subscriber, number>): Promise<void> {
    const current = () => targets.filter((s) => this.subs.has(s) && s.replayGeneration === generations.get(s));
    // See the top of the file: after this, the log holds every event already pushed to the targets.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let count = 0;
    try {
      let batch: RunEvent[] = [];
      for await (const event of readRunLog(run.info.logPath)) {
        batch.push(event);
        count++;
        if (batch.length >= REPLAY_BATCH) {
          const live = current();
          if (live.length === 0) return;
          await this.pushReplay(live, run.info.runId, batch);
          batch = [];
        }
      }
      const live = current();
      if (batch.length > 0 && live.length > 0) await this.pushReplay(live, run.info.runId, batch);
    } catch {
      // An unreadable log: the page gets what could be read, then the live events.
    } finally {
      for (const sub of current()) this.release(sub, run.info.runId, count);
    }
  }

  private release(sub: Subscriber, runId: string, replayed: number): void {
    const held = sub.held ?? [];
    sub.held = null;
    sub.skip = { runId, index: replayed };
    for (const h of held) {
      if (h.kind === 'batch') this.deliver(sub, h.batch);
      else void sub.listener(h.message);
    }
  }

  private async pushReplay(targets: Subscriber[], runId: string, events: RunEvent[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const sub of targets) {
      if (!this.subs.has(sub)) continue;
      const r = sub.listener({ type: 'events', runId, events, replay: true });
      if (r) waits.push(r);
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  private status(run: CurrentRun): RunStatus {
    return { ...run.info, state: run.end === null ? 'running' : 'ended', end: run.end };
  }
}

function isInterval(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 50 && (v as number) <= 10_000;
}

/** `2025-01-02T03-04-05-678Z-flash-sale-a1b2c3`: sorts by time, names the scenario, never collides. */
async function copyWithProgress(from: string, to: string, onProgress: (fraction: number) => void): Promise<void> {
  const size = (await fs.promises.stat(from)).size;
  let done = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      onProgress(size > 0 ? Math.min(1, done / size) : 1);
      cb(null, chunk);
    },
  });
  const partial = `${to}.partial`;
  try {
    await pipeline(fs.createReadStream(from), count, fs.createWriteStream(partial));
    await fs.promises.rename(partial, to);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
}
