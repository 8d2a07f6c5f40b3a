// The window's state: which program is chosen, which run the view follows (live or a past one from
// History), the run's phase, the console filter, the time cursor, the answers of process controls
// and the export in progress. It is the only place that talks to the api: components read it and
// call its methods.

import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type {
  AppInfo,
  ControlResult,
  DeadlockEdge,
  EndEvent,
  ExportFormat,
  ExportResult,
  PastRun,
  PresetInfo,
  ProcessTarget,
  PushMessage,
  RunEvent,
  RunStatus,
  Runtime,
} from '../../src-main/api.ts';
import { getApi } from './api.ts';
import { clampInterval, parseTimeout } from './format.ts';
import type { ProcRow } from './model/types.ts';
import { ProcessHistory } from './process-history.ts';
import { profileUi } from './profile/profile-ui.svelte.ts';
import { runStore } from './run-store.svelte.ts';
import { colorsByPid, orderLikeRows, readStacks, stacksUnavailable, type ShownStacks } from './stacks.ts';
import { parseRuntime, runtimeFor, runtimeOfRun, type RunRuntime } from './runtime.ts';
import { timeAxis } from './time-axis.svelte.ts';

export type Phase = 'idle' | 'starting' | 'running' | 'finished' | 'stopped' | 'timeout' | 'error' | 'incomplete';
import type { RowAction } from './row-actions.ts';
export type { RowAction };
export type ProcessRow = ProcRow;

/** One call made from a row, as the person sees it: `join(timeout=1) → None`. */
export interface RowCall {
  seq: number;
  action: RowAction;
  /** The call as Python would spell it. */
  call: string;
  pending: boolean;
  ok: boolean;
  text: string;
  exitcode?: number | null;
  alive?: boolean;
}

export interface ExportState {
  format: ExportFormat;
  phase: 'running' | 'done' | 'error';
  /** 0..1 from the engine's progress pushes; null until the first one. */
  fraction: number | null;
  result?: ExportResult;
  message?: string;
}

/** A program file's text for the code panel, while it loads, or why it could not be read. */
export type CustomSource =
  | { path: string; loading: true }
  | { path: string; text: string; runtime: Runtime; file: string }
  | { path: string; error: string };

/**
 * One press of Capture in the Stacks tab: where the processes were at run time `t` (ms), ordered
 * like the rows then and each with its row's color, or why the engine could not say (`error`: the
 * command's failure, in one line).
 */
export type StacksCapture = { t: number } & ({ processes: (ShownStacks & { color: string })[] } | { error: string } | { noAnswer: true });

/** Calls kept per row: enough to read "terminate() → None" then "join() → exitcode -15". */
const CALLS_PER_ROW = 3;
/** Console lines kept in the DOM; older ones stay in the model and the run log. */
const MAX_CONSOLE_LINES = 2000;
const MAX_DEADLOCKS_SHOWN = 3;
const STORE_SCENARIO = 'procscope.scenario';
const STORE_OPENED = 'procscope.openedFiles';
const STORE_RUNTIME = 'procscope.runtime';

function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const name = 'name' in e && typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${name}${String((e as { message: unknown }).message)}`;
  }
  return String(e);
}

function readStored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStored(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage can be disabled; the choice then lasts for this window only.
  }
}

export class AppState {
  presets = $state.raw<PresetInfo[]>([]);
  /** The program Start runs: a preset id, or a file path from Open…. */
  scenario = $state('');
  /** The chosen file's source (not a preset's), as the engine read it. */
  customSource = $state.raw<CustomSource | null>(null);
  /** Files opened with Open…, newest first, to pick again. */
  openedFiles = $state.raw<string[]>([]);
  appInfo = $state.raw<AppInfo | null>(null);
  /** Sampling interval for new runs, ms. */
  interval = $state(500);
  /** How presets run: their TypeScript twin or their Python original. Files ignore it. */
  runtime = $state<Runtime>(parseRuntime(readStored(STORE_RUNTIME)));
  /** The Python interpreter setting, as the engine last confirmed it. */
  python = $state('python3');

  /** The run the view shows. In `past` mode only that run's replay is taken in. */
  viewRunId = $state<string | null>(null);
  viewMode = $state<'live' | 'past'>('live');
  /** The past run being shown (from History). */
  pastRun = $state.raw<PastRun | null>(null);
  /** The engine's current run, as last pushed; it may run on while a past run is shown. */
  liveStatus = $state.raw<RunStatus | null>(null);
  starting = $state(false);
  /** Why the last start failed, in one line. */
  startError = $state<string | null>(null);
  /** The last failed command other than a control or start, in one line. */
  notice = $state<string | null>(null);

  pastRuns = $state.raw<PastRun[] | null>(null);
  historyError = $state<string | null>(null);
  exporting = $state.raw<ExportState | null>(null);

  /** Pids whose console output is hidden. */
  consoleHidden = new SvelteSet<number>();
  /** Time cursor in ms since run start; null follows the present (or the end). */
  cursor = $state<number | null>(null);
  /** Calls made from each row, by row key. */
  rowCalls = new SvelteMap<string, RowCall[]>();
  /** The last stacks captured for the run shown; a new run or a replay forgets them. */
  stacks = $state.raw<StacksCapture | null>(null);
  stacksPending = $state(false);
  /** The join timeout field, as typed (seconds; empty = wait). */
  joinTimeout = $state('');
  joinTimeoutInvalid = $derived(parseTimeout(this.joinTimeout) === null);

  /** Wall-clock (performance.now) minus run time, estimated from live batches: drives the ticking clock. */
  private wallOffset: number | null = null;
  private seq = 0;
  private history = new ProcessHistory();
  private unsubscribe: (() => void) | null = null;

  // ---- what the model says, recomputed at most once per frame (runStore.version) ----------------

  rows = $derived.by(() => {
    void runStore.version;
    return runStore.model.processes();
  });

  /** The rows as of the cursor, or now. */
  rowsShown = $derived.by(() => {
    const rows = this.rows;
    const c = this.cursor;
    void runStore.version;
    return c === null ? rows : this.history.asOf(rows, c);
  });

  end = $derived.by((): EndEvent | null => {
    void runStore.version;
    return runStore.model.end();
  });

  /** The latest time the run has reached: its end, or its last event. */
  runTime = $derived.by(() => {
    void runStore.version;
    return this.end?.t ?? runStore.model.now();
  });

  hasRun = $derived.by(() => {
    void runStore.version;
    return runStore.model.run() !== null;
  });

  scenarioOfView = $derived.by(() => {
    void runStore.version;
    const run = runStore.model.run();
    return run?.scenario ?? this.pastRun?.scenario ?? this.liveStatus?.scenario ?? null;
  });

  phase = $derived.by((): Phase => {
    const end = this.end;
    if (end) return end.reason;
    // Until the replay brings its end, the list already said how the run ended.
    if (this.viewMode === 'past') return this.pastRun?.reason ?? 'incomplete';
    if (this.starting) return 'starting';
    if (this.startError) return 'error';
    const live = this.liveStatus;
    if (live && live.runId === this.viewRunId) {
      if (live.state === 'running') return 'running';
      if (live.end) return live.end.reason;
    }
    return this.hasRun ? 'running' : 'idle';
  });

  running = $derived(this.phase === 'running' || this.phase === 'starting');

  /** The error line of the run: the end's reason, or why it could not start. */
  errorReason = $derived.by(() => {
    if (this.phase !== 'error') return null;
    return this.end?.error ?? this.startError ?? this.liveStatus?.end?.error ?? null;
  });

  preset = $derived(this.presets.find((p) => p.id === this.scenario) ?? null);

  /** What Start will run under: the chosen runtime for a preset, the extension for a file. */
  startRuntime = $derived(runtimeFor(this.scenario, this.preset !== null, this.runtime));

  /** The runtime the run shown used, from its `run` event (live or replayed). */
  runtimeOfView = $derived.by((): RunRuntime | null => {
    void runStore.version;
    return runtimeOfRun(runStore.model.run());
  });

  /** Why the Stacks tab cannot capture now, or null when it can. */
  stacksWhy = $derived(stacksUnavailable({ viewMode: this.viewMode, phase: this.phase, hasRun: this.hasRun }));

  processCount = $derived(this.rowsShown.filter((r) => r.pid !== null).length);
  aliveCount = $derived(this.rowsShown.filter((r) => r.state === 'running').length);

  /** Deadlock cycles reported so far, each once (the broker may report a cycle again). */
  deadlocks = $derived.by((): DeadlockEdge[][] => {
    void runStore.version;
    const seen = new Set<string>();
    const out: DeadlockEdge[][] = [];
    for (const d of runStore.model.deadlocks()) {
      const id = d.cycle.map((e) => `${e.pid}>${e.lock}>${e.holder}`).join(',');
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(d.cycle);
    }
    return out.slice(-MAX_DEADLOCKS_SHOWN);
  });

  /** Lock id → its number in creation order, as the charts name locks ("Lock 1"). */
  lockNumbers = $derived.by((): ReadonlyMap<string, number> => {
    void runStore.version;
    return new Map(runStore.model.lockLanes().map((l) => [l.lock, l.index]));
  });

  warnings = $derived.by((): string[] => {
    void runStore.version;
    return runStore.model.warnings().map((w) => (w.pid !== undefined ? `${w.pid}: ${w.message}` : w.message));
  });

  consoleFilter = $derived.by((): ReadonlySet<number> | undefined => {
    if (this.consoleHidden.size === 0) return undefined;
    const shown = new Set<number>();
    for (const r of this.rows) if (r.pid !== null && !this.consoleHidden.has(r.pid)) shown.add(r.pid);
    return shown;
  });

  private consoleAll = $derived.by(() => {
    void runStore.version;
    return runStore.model.console(this.consoleFilter);
  });

  /** The newest lines only: the DOM stays small however long the run talks. */
  consoleLines = $derived(this.consoleAll.length > MAX_CONSOLE_LINES ? this.consoleAll.slice(-MAX_CONSOLE_LINES) : this.consoleAll);
  consoleDropped = $derived(Math.max(0, this.consoleAll.length - MAX_CONSOLE_LINES));
  consoleTotal = $derived.by(() => {
    void runStore.version;
    return runStore.model.console().length;
  });

  /** One filter chip per started process, in tree order. */
  consoleChips = $derived(
    this.rows
      .filter((r) => r.pid !== null)
      .map((r) => ({ pid: r.pid as number, name: r.name, color: r.color, shown: !this.consoleHidden.has(r.pid as number) })),
  );

  // ---- startup -----------------------------------------------------------------------------------

  /** Subscribes to the engine and loads presets, settings and the current run. Returns a disposer. */
  init(): () => void {
    const api = getApi();
    this.unsubscribe = api.subscribe((msg) => this.onPush(msg));
    const storedOpened = readStored(STORE_OPENED);
    if (storedOpened) {
      try {
        const list: unknown = JSON.parse(storedOpened);
        if (Array.isArray(list)) this.openedFiles = list.filter((x): x is string => typeof x === 'string').slice(0, 5);
      } catch {
        // A damaged entry is dropped.
      }
    }
    void this.loadPresets();
    api.call('app.info', {}).then(
      (info) => (this.appInfo = info),
      () => {},
    );
    api.call('settings.get', {}).then(
      (s) => {
        this.interval = s.interval;
        this.python = s.python;
      },
      () => {},
    );
    void this.followLive();
    return () => this.dispose();
  }

  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private async loadPresets(): Promise<void> {
    try {
      const list = await getApi().call('presets.list', {});
      this.presets = [...list].sort((a, b) => a.seed - b.seed);
      const stored = readStored(STORE_SCENARIO);
      if (!this.scenario) {
        const ok = stored && (list.some((p) => p.id === stored) || this.openedFiles.includes(stored));
        this.scenario = ok ? stored : (this.presets[0]?.id ?? '');
      }
      void this.loadSource();
    } catch (e) {
      this.notice = errorText(e);
    }
  }

  // ---- pushes ------------------------------------------------------------------------------------

  private onPush(msg: PushMessage): void {
    switch (msg.type) {
      case 'events':
        this.onEvents(msg.runId, msg.events, msg.replay === true);
        break;
      case 'run':
        this.liveStatus = msg.status;
        // A run started from elsewhere (another window, the web page): a live view follows it.
        if (this.viewMode === 'live' && msg.status.state === 'running' && msg.status.runId !== this.viewRunId && !this.starting) {
          this.resetView(msg.status.runId);
        }
        break;
      case 'progress':
        if (this.exporting?.phase === 'running') {
          this.exporting = { ...this.exporting, fraction: Math.max(0, Math.min(1, msg.fraction)) };
        }
        break;
    }
  }

  private onEvents(runId: string, events: RunEvent[], replay: boolean): void {
    // The live run's end, even while a past run is shown: Start must not wait for a status push.
    const live = this.liveStatus;
    if (live && live.runId === runId && live.state === 'running') {
      const end = events.find((e): e is EndEvent => e.type === 'end');
      if (end) this.liveStatus = { ...live, state: 'ended', end };
    }
    if (this.viewMode === 'past') {
      // Only the replay asked for; the live run keeps going in the engine and its log.
      if (!replay || runId !== this.viewRunId) return;
    } else if (runId !== this.viewRunId) {
      this.resetView(runId);
    }
    this.history.ingest(events);
    runStore.ingest(events);
    if (!replay && events.length > 0) {
      const last = events[events.length - 1].t;
      const offset = performance.now() - last;
      // Batches arrive late, never early: the smallest offset seen is the best estimate.
      this.wallOffset = this.wallOffset === null ? offset : Math.min(this.wallOffset, offset);
    }
  }

  /** Empties the view for another run (or none). */
  private resetView(runId: string | null): void {
    runStore.reset();
    this.history.reset();
    this.viewRunId = runId;
    this.rowCalls.clear();
    this.consoleHidden.clear();
    this.stacks = null;
    this.cursor = null;
    this.wallOffset = null;
    timeAxis.reset();
  }

  /** Run time now, ticking between batches while the run is live (wallNow = performance.now()). */
  elapsedAt(wallNow: number): number {
    const end = this.end;
    if (end) return end.t;
    if (this.phase === 'running' && this.wallOffset !== null) return Math.max(this.runTime, wallNow - this.wallOffset);
    return this.runTime;
  }

  // ---- choosing the program ----------------------------------------------------------------------

  choose(scenario: string): void {
    this.scenario = scenario;
    this.startError = null;
    writeStored(STORE_SCENARIO, scenario);
    void this.loadSource();
  }

  /** The chosen file's text for the code panel (presets bring theirs with the list). */
  private async loadSource(): Promise<void> {
    const scenario = this.scenario;
    if (!scenario || this.presets.some((p) => p.id === scenario)) {
      this.customSource = null;
      return;
    }
    if (this.customSource?.path === scenario) return;
    this.customSource = { path: scenario, loading: true };
    let next: CustomSource;
    try {
      const s = await getApi().call('scenario.source', { path: scenario });
      next = { path: scenario, text: s.text, runtime: s.runtime, file: s.path };
    } catch (e) {
      next = { path: scenario, error: errorText(e) };
    }
    // Another file may have been chosen meanwhile.
    if (this.scenario === scenario) this.customSource = next;
  }

  /** Asks the shell for a file. 'unavailable' means the shell has no dialog (a browser): ask for a path. */
  async pickScenario(): Promise<'picked' | 'cancelled' | 'unavailable'> {
    let path: string | null = null;
    try {
      path = (await getApi().call('scenario.pick', {})).path;
    } catch (e) {
      this.notice = errorText(e);
      return 'unavailable';
    }
    if (path) {
      this.useScenarioPath(path);
      return 'picked';
    }
    return this.appInfo?.shell === 'electron' ? 'cancelled' : 'unavailable';
  }

  useScenarioPath(path: string): void {
    const p = path.trim();
    if (!p) return;
    this.openedFiles = [p, ...this.openedFiles.filter((f) => f !== p)].slice(0, 5);
    writeStored(STORE_OPENED, JSON.stringify(this.openedFiles));
    this.choose(p);
  }

  chooseRuntime(runtime: Runtime): void {
    this.runtime = runtime;
    this.startError = null;
    writeStored(STORE_RUNTIME, runtime);
  }

  /**
   * Saves the interpreter for Python runs. The engine is the judge of what names an interpreter:
   * a refusal is shown as a notice and the field goes back to the saved value. A cleared field
   * names nothing, so it just goes back.
   */
  async setPython(value: string, refused: (message: string) => string = (m) => m): Promise<void> {
    const v = value.trim();
    if (v === '' || v === this.python) return;
    try {
      this.python = (await getApi().call('settings.set', { python: v })).python;
      // The last start may have failed for the old interpreter: that error is no longer the news.
      this.startError = null;
    } catch (e) {
      this.notice = refused(errorText(e));
    }
  }

  async setIntervalMs(ms: number): Promise<void> {
    const v = clampInterval(ms);
    this.interval = v;
    try {
      this.interval = (await getApi().call('settings.set', { interval: v })).interval;
    } catch (e) {
      this.notice = errorText(e);
    }
  }

  // ---- running -----------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (!this.scenario || this.starting) return;
    // The file may have been edited since it was chosen: show what this run runs.
    if (this.customSource) {
      this.customSource = null;
      void this.loadSource();
    }
    this.viewMode = 'live';
    this.pastRun = null;
    this.resetView(null);
    this.startError = null;
    this.starting = true;
    try {
      // Only a preset takes a runtime: a file's extension decides, and the engine refuses a mismatch.
      const runtime = this.preset ? { runtime: this.runtime } : {};
      const info = await getApi().call('run.start', { scenario: this.scenario, interval: this.interval, ...runtime, ...profileUi.startArgs() });
      // Its first events may have arrived before this answer, and adopted the run already.
      if (this.viewRunId !== info.runId) {
        if (this.viewRunId !== null) this.resetView(info.runId);
        else this.viewRunId = info.runId;
      }
      if (this.liveStatus?.runId !== info.runId) this.liveStatus = { ...info, state: 'running', end: null };
    } catch (e) {
      this.startError = errorText(e);
    } finally {
      this.starting = false;
    }
  }

  async stop(): Promise<void> {
    try {
      await getApi().call('run.stop', {});
    } catch (e) {
      this.notice = errorText(e);
    }
  }

  /** Shows the engine's current run (if any) again, live. */
  async followLive(): Promise<void> {
    this.viewMode = 'live';
    this.pastRun = null;
    try {
      const status = await getApi().call('run.current', {});
      // The replay of everything so far follows this reply: reset only now, or live pushes that
      // came in while we asked would be shown twice (once live, once replayed).
      this.resetView(status ? status.runId : null);
      if (status) this.liveStatus = status;
    } catch (e) {
      this.notice = errorText(e);
    }
  }

  // ---- history -----------------------------------------------------------------------------------

  async loadHistory(): Promise<void> {
    this.historyError = null;
    try {
      const runs = await getApi().call('runs.list', {});
      this.pastRuns = [...runs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    } catch (e) {
      this.historyError = errorText(e);
      this.pastRuns = [];
    }
  }

  async openPast(run: PastRun): Promise<void> {
    this.viewMode = 'past';
    this.pastRun = run;
    this.startError = null;
    this.resetView(run.runId);
    try {
      await getApi().call('runs.open', { runId: run.runId });
    } catch (e) {
      this.notice = errorText(e);
    }
  }

  // ---- process controls --------------------------------------------------------------------------

  async control(row: Pick<ProcessRow, 'key' | 'handle' | 'pid'>, action: RowAction): Promise<void> {
    const target: ProcessTarget | null = row.handle ? { handle: row.handle } : row.pid !== null ? { pid: row.pid } : null;
    if (!target) return;
    let timeout: number | undefined;
    if (action === 'join') {
      const parsed = parseTimeout(this.joinTimeout);
      if (parsed === null) return;
      timeout = parsed;
    }
    const seq = ++this.seq;
    const call = timeout !== undefined ? `join(timeout=${timeout})` : `${action}()`;
    const entry: RowCall = { seq, action, call, pending: true, ok: true, text: '' };
    this.rowCalls.set(row.key, [...(this.rowCalls.get(row.key) ?? []), entry].slice(-CALLS_PER_ROW));
    let done: RowCall;
    try {
      const r: ControlResult = await this.send(action, target, timeout);
      done = { ...entry, pending: false, ok: r.ok, text: r.text, exitcode: r.exitcode, alive: r.alive };
    } catch (e) {
      done = { ...entry, pending: false, ok: false, text: errorText(e) };
    }
    const list = this.rowCalls.get(row.key);
    // The view may have moved to another run meanwhile: then the answer has no row to go to.
    if (!list || !list.some((c) => c.seq === seq)) return;
    this.rowCalls.set(
      row.key,
      list.map((c) => (c.seq === seq ? done : c)),
    );
  }

  private send(action: RowAction, target: ProcessTarget, timeout: number | undefined): Promise<ControlResult> {
    const api = getApi();
    switch (action) {
      case 'start':
        return api.call('process.start', { target });
      case 'join':
        return api.call('process.join', timeout === undefined ? { target } : { target, timeout });
      case 'terminate':
        return api.call('process.terminate', { target });
      case 'kill':
        return api.call('process.kill', { target });
      case 'close':
        return api.call('process.close', { target });
    }
  }

  // ---- stacks ------------------------------------------------------------------------------------

  /** Asks the engine where every process of the live run is now (each Python thread's stack). */
  async captureStacks(): Promise<void> {
    if (this.stacksPending || this.stacksWhy !== null) return;
    const runId = this.viewRunId;
    // The moment asked about: the engine reads the stacks as soon as it gets the request.
    const t = this.elapsedAt(performance.now());
    this.stacksPending = true;
    let next: StacksCapture;
    try {
      const processes = readStacks(await getApi().call('run.stacks', {}));
      // A snapshot: ordered and colored once, as the rows were when it was taken.
      const colors = colorsByPid(this.rows);
      next = processes
        ? { t, processes: orderLikeRows(processes, this.rows).map((p) => ({ ...p, color: colors.get(p.pid) ?? 'var(--text-faint)' })) }
        : { t, noAnswer: true };
    } catch (e) {
      next = { t, error: errorText(e) };
    } finally {
      this.stacksPending = false;
    }
    // The view may have moved to another run meanwhile: these stacks are not its.
    if (this.viewRunId === runId && this.viewMode === 'live') this.stacks = next;
  }

  // ---- console, cursor ---------------------------------------------------------------------------

  toggleConsolePid(pid: number): void {
    if (this.consoleHidden.has(pid)) this.consoleHidden.delete(pid);
    else this.consoleHidden.add(pid);
  }

  showAllConsole(): void {
    this.consoleHidden.clear();
  }

  /** Shows only this pid's output (or everything again if it already was the only one). */
  soloConsolePid(pid: number): void {
    const pids = this.rows.map((r) => r.pid).filter((p): p is number => p !== null);
    const alreadySolo = !this.consoleHidden.has(pid) && pids.every((p) => p === pid || this.consoleHidden.has(p));
    this.consoleHidden.clear();
    if (!alreadySolo) for (const p of pids) if (p !== pid) this.consoleHidden.add(p);
  }

  setCursor(t: number | null): void {
    this.cursor = t === null ? null : Math.max(0, Math.min(t, this.runTime));
  }

  // ---- export ------------------------------------------------------------------------------------

  async exportRun(format: ExportFormat): Promise<ExportResult | null> {
    const runId = this.viewRunId;
    if (!runId || this.exporting?.phase === 'running') return null;
    this.exporting = { format, phase: 'running', fraction: null };
    try {
      const result = await getApi().call('run.export', { runId, format });
      this.exporting = { format, phase: 'done', fraction: 1, result };
      return result;
    } catch (e) {
      this.exporting = { format, phase: 'error', fraction: null, message: errorText(e) };
      return null;
    }
  }

  dismissExport(): void {
    if (this.exporting?.phase !== 'running') this.exporting = null;
  }
}

export const app = new AppState();
