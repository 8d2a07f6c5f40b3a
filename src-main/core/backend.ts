// The one implementation of every command of the contract (api.ts `Commands`). All three shells
// (Electron's ipcMain, the web server, the CLI) only carry commands in and pushes out; everything
// a command does happens here, so the shells cannot drift apart. Pushes and replays are
// push-hub.ts's, past runs and exports past-runs.ts's, settings settings-store.ts's.

import fs from 'node:fs';
import path from 'node:path';
import {
  parseCommand,
  type ApiError,
  type AppInfo,
  type CommandName,
  type Commands,
  type ControlResult,
  type ExportFormat,
  type ExportResult,
  type ProcessTarget,
  type RunEvent,
  type RunInfo,
  type RunStatus,
  type ScenarioSource,
  type Settings,
  SOURCE_MAX_BYTES,
} from '../api.ts';
import { loadPresets, presetById } from '../presets/catalog.ts';
import { CommandError } from './command-error.ts';
import { packageRoot, presetsDir, runsDir as defaultRunsDir } from './paths.ts';
import { RunsFolder } from './past-runs.ts';
import { PushHub, REPLAY_BATCH, status, type CurrentRun, type PushListener } from './push-hub.ts';
import { readRunLog } from './runlog/reader.ts';
import { resolveScenario } from './scenario-loader.ts';
import { Session, type RunSummary } from './session.ts';
import { SettingsStore } from './settings-store.ts';

export { CommandError } from './command-error.ts';
export { BATCH_MS, LIVE_BATCH_MAX, REPLAY_BATCH, type PushListener } from './push-hub.ts';

/** Errors cross every boundary as data: name and one-line message, never a stack or a live object. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

export interface SaveExportResult {
  savedTo?: string;
  url?: string;
  cancelled?: boolean;
}

export interface BackendOptions {
  shell: AppInfo['shell'];
  /** Where run logs are written and listed; default: paths.ts runsDir(). */
  runsDir?: string;
  /** Default: `<runsDir>/../settings.json`. */
  settingsFile?: string;
  /** The CLI's: settings given by its flags, never read from or written to the settings file. */
  settings?: Settings;
  /** The CLI's --log: where the next run's log goes, instead of a new file of the runs folder. */
  runLog?: string;
  /** The CLI's: runs, and is waited for, when a run's timeout ends it (its processes still there). */
  beforeTimeout?: () => Promise<void>;
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

export class Backend {
  private readonly hub = new PushHub();
  private readonly runs: RunsFolder;
  private readonly settings: SettingsStore;
  private run: CurrentRun | null = null;
  private starting = false;
  private disposed = false;

  constructor(private readonly opts: BackendOptions) {
    const runs = path.resolve(opts.runsDir ?? defaultRunsDir());
    this.runs = new RunsFolder(runs, opts.exportsDir ? path.resolve(opts.exportsDir) : null);
    this.settings = opts.settings ? new SettingsStore(null, opts.settings) : new SettingsStore(path.resolve(opts.settingsFile ?? path.join(runs, '..', 'settings.json')));
  }

  /** Receives every push from now on; returns the unsubscribe function. */
  subscribe(listener: PushListener): () => void {
    return this.hub.subscribe(listener);
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

  /** The current (or last) run's summary once it has ended (the CLI prints it); null before any run. */
  runDone(): Promise<RunSummary> | null {
    return this.run?.session.done ?? null;
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
    this.hub.clear();
    this.runs.dispose(this.opts.exportsDir === undefined);
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
      case 'run.stacks':
        return this.live().session.stacks();
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
        // The log of the run in progress ends mid-write by nature: not a torn tail.
        return this.runs.list(this.run && this.run.end === null ? this.run.info.runId : null);
      case 'runs.open':
        return this.open((a as { runId: string }).runId, requester);
      case 'run.export': {
        const { runId, format } = a as Commands['run.export']['args'];
        return this.exportRun(runId, format, requester);
      }
      case 'settings.get':
        return { ...this.settings.get() };
      case 'settings.set':
        return this.settings.set(a as Partial<Settings>);
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
    return { shell: this.opts.shell, version, platform: process.platform, runsDir: this.runs.dir };
  }

  private async start(args: Commands['run.start']['args']): Promise<RunInfo> {
    if (this.starting || (this.run && this.run.end === null)) throw new CommandError('a run is already running: stop it first');
    this.starting = true;
    let session: Session;
    // Until the run record exists, events (the first ones come from inside Session.start) wait here.
    const early: RunEvent[] = [];
    let sink: (e: RunEvent) => void = (e) => early.push(e);
    const settings = this.settings.get();
    const beforeTimeout = this.opts.beforeTimeout;
    try {
      session = await Session.start({
        scenario: args.scenario,
        interval: args.interval ?? settings.interval,
        timeout: args.timeout,
        runtime: args.runtime,
        args: args.args,
        profile: args.profile,
        sharedCalls: args.sharedCalls,
        python: settings.python,
        runsDir: this.runs.dir,
        logPath: this.opts.runLog,
        // A window may call members of the program's Process objects; the CLI has no window.
        interactive: this.opts.shell !== 'cli',
        beforeTimeout: beforeTimeout ? () => beforeTimeout() : undefined,
        onEvent: (e) => sink(e),
      });
    } finally {
      this.starting = false;
    }
    // The previous run's listener is gone already (it detached at its end); only its timer may remain.
    if (this.run?.timer) clearTimeout(this.run.timer);
    const run: CurrentRun = { session, info: { ...session.info }, end: null, pending: early, nextIndex: 0, timer: null, off: () => undefined };
    sink = (e) => this.hub.onEvent(run, e);
    run.off = () => {
      sink = () => undefined;
    };
    this.run = run;
    this.hub.arm(run);
    this.hub.broadcast({ type: 'run', status: status(run) });
    return { ...run.info };
  }

  private async stop(): Promise<{ reason: Commands['run.stop']['result']['reason'] }> {
    const run = this.run;
    if (!run || run.end !== null) return { reason: null };
    const summary = await run.session.stop();
    return { reason: summary.end.reason };
  }

  private current(requester?: PushListener): RunStatus | null {
    return this.run ? this.hub.current(this.run, requester) : null;
  }

  /** The run still running, or a one-line refusal. */
  private live(): CurrentRun {
    const run = this.run;
    if (!run) throw new CommandError('there is no run: start one first');
    if (run.end !== null) throw new CommandError('the run has ended');
    return run;
  }

  private async control(action: 'start' | 'join' | 'terminate' | 'kill' | 'close', target: ProcessTarget, timeout?: number): Promise<ControlResult> {
    return this.live().session.control(action, target, timeout);
  }

  /** Replays a past run's events as pushes to the page that asked. */
  private async open(runId: string, requester?: PushListener): Promise<{ runId: string; events: number }> {
    const logPath = await this.runs.logPathOf(runId);
    const targets = this.hub.targets(requester);
    let count = 0;
    let batch: RunEvent[] = [];
    for await (const event of readRunLog(logPath)) {
      batch.push(event);
      count++;
      if (batch.length >= REPLAY_BATCH) {
        await this.hub.pushReplay(targets, runId, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.hub.pushReplay(targets, runId, batch);
    return { runId, events: count };
  }

  private async exportRun(runId: string, format: ExportFormat, requester?: PushListener): Promise<ExportResult> {
    await this.runs.logPathOf(runId); // a wrong id is refused before any progress
    const task = `export:${runId}:${format}`;
    const targets = this.hub.targets(requester);
    let last = -1;
    const progress = (fraction: number) => {
      const f = Math.max(0, Math.min(1, fraction));
      // At most ~100 pushes per export, whatever the size of the log.
      if (f < 1 && f - last < 0.01) return;
      last = f;
      this.hub.progress(targets, task, f);
    };
    progress(0);
    const { tempPath, suggestedName } = await this.runs.export(runId, format, progress);
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
}
