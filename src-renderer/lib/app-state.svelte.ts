// The window's state: which run the view follows (live or a past one from History), its phase,
// and what the model says about it, read once per frame. The parts with a job of their own live in
// lib/state/ (the program to run, row controls, console filter, table options, stacks and export,
// the selection, the compare view); this class wires them to the engine's pushes. It is the only
// place that talks to the api besides them: components read it and call its methods.

import type { DeadlockEdge, EndEvent, ExportFormat, PastRun, PushMessage, RunEvent, RunStatus } from '../../src-main/api.ts';
import { VerdictReader, type Verdict } from '../../src-main/common/verdict.ts';
import { getApi } from './api.ts';
import type { ProcRow } from './model/types.ts';
import { ProcessHistory } from './process-history.ts';
import { runStore } from './run-store.svelte.ts';
import { runtimeOfRun, type RunRuntime } from './runtime.ts';
import { CompareState } from './state/compare.svelte.ts';
import { ConsoleFilter } from './state/console-filter.svelte.ts';
import { ProgramState } from './state/program.svelte.ts';
import { RowControls } from './state/row-controls.svelte.ts';
import { ExportTool, StacksTool } from './state/run-tools.svelte.ts';
import { selection } from './state/selection.svelte.ts';
import { errorText } from './state/stored.ts';
import { TableState } from './state/table-state.svelte.ts';
import { stacksUnavailable } from './stacks.ts';
import { timeAxis } from './time-axis.svelte.ts';
import { lessonFor, type LessonView } from './view/lesson.ts';

export type Phase = 'idle' | 'starting' | 'loading' | 'running' | 'finished' | 'stopped' | 'timeout' | 'error' | 'incomplete';
export type { RowAction } from './row-actions.ts';
export type { RowCall } from './state/row-controls.svelte.ts';
export type { ExportState, StacksCapture } from './state/run-tools.svelte.ts';
export type { CustomSource } from './state/program.svelte.ts';
export type ProcessRow = ProcRow;

/** Console lines kept in the DOM; older ones stay in the model and the run log. */
const MAX_CONSOLE_LINES = 2000;
const MAX_DEADLOCKS_SHOWN = 3;

export class AppState {
  readonly program = new ProgramState((m) => (this.notice = m));
  readonly controls = new RowControls();
  readonly consoleFilter = new ConsoleFilter();
  readonly table = new TableState();
  readonly stacksTool = new StacksTool();
  readonly exporter = new ExportTool();
  readonly compare = new CompareState((m) => (this.notice = m));

  /** The run the view shows. In `past` mode only that run's replay is taken in. */
  viewRunId = $state<string | null>(null);
  viewMode = $state<'live' | 'past'>('live');
  /** The past run being shown (from History). */
  pastRun = $state.raw<PastRun | null>(null);
  /** The engine's current run, as last pushed; it may run on while a past run is shown. */
  liveStatus = $state.raw<RunStatus | null>(null);
  starting = $state(false);
  /** The last failed command other than a control or start, in one line. */
  notice = $state<string | null>(null);
  pastRuns = $state.raw<PastRun[] | null>(null);
  historyError = $state<string | null>(null);
  /** A past run's replay is still arriving: the view does not say how it ended before it shows it. */
  replayLoading = $state(false);
  /** Time cursor in ms since run start; null follows the present (or the end). */
  cursor = $state<number | null>(null);

  /** Wall-clock (performance.now) minus run time, estimated from live batches: drives the ticking clock. */
  #wallOffset: number | null = null;
  readonly #history = new ProcessHistory();
  /** Reads the preset's verdict from the run shown, event by event (common/verdict.ts); null for a program of your own. */
  #verdict: VerdictReader | null = null;
  #unsubscribe: (() => void) | null = null;

  // ---- what the model says, read once per frame (runStore.version) ------------------------------

  /** One read of the model per version: every query below derives from it. */
  readonly frame = $derived.by(() => {
    const version = runStore.version;
    const m = runStore.model;
    return {
      version,
      rows: m.processes(),
      end: m.end(),
      now: m.now(),
      run: m.run(),
      span: m.span(),
      lanes: m.lockLanes(),
      queues: m.queues().length,
      deadlocks: m.deadlocks(),
      warnings: m.warnings(),
      consoleCount: m.console().length,
      // Fed with the same batches as the model: read in the same frame, it never runs ahead of the view.
      verdict: this.#verdict?.result() ?? null,
    };
  });

  /** The preset's outcome in words once the run shown has ended (the engine's wording, en and zh). */
  verdict = $derived<Verdict | null>(this.frame.verdict);

  rows = $derived(this.frame.rows);
  /** The rows as of the cursor, or now. */
  rowsShown = $derived(this.cursor === null ? this.rows : this.#history.asOf(this.rows, this.cursor));
  end = $derived<EndEvent | null>(this.frame.end);
  /** The latest time the run has reached: its end, or its last event. */
  runTime = $derived(this.frame.end?.t ?? this.frame.now);
  hasRun = $derived(this.frame.run !== null);
  scenarioOfView = $derived(this.frame.run?.scenario ?? this.pastRun?.scenario ?? this.liveStatus?.scenario ?? null);
  /** The runtime the run shown used, from its `run` event (live or replayed). */
  runtimeOfView = $derived<RunRuntime | null>(runtimeOfRun(this.frame.run));

  phase = $derived.by((): Phase => {
    const end = this.end;
    if (end) return end.reason;
    if (this.viewMode === 'past') return this.replayLoading ? 'loading' : 'incomplete';
    if (this.starting) return 'starting';
    if (this.program.startError) return 'error';
    const live = this.liveStatus;
    if (live && live.runId === this.viewRunId) {
      if (live.state === 'running') return 'running';
      // The end reaches the status a frame before the model shows it: the pill waits for the
      // view (a "Finished" beside "1 running" was that frame). A run with no event at all (it
      // failed to start) has only the status to say so.
      if (live.end) return this.hasRun ? 'running' : live.end.reason;
    }
    return this.hasRun ? 'running' : 'idle';
  });

  running = $derived(this.phase === 'running' || this.phase === 'starting');

  /** The error line of the run: the end's reason, or why it could not start. */
  errorReason = $derived(this.phase !== 'error' ? null : (this.end?.error ?? this.program.startError ?? this.liveStatus?.end?.error ?? null));

  /** The preset the run shown ran (not the one chosen for the next run): its lesson and verdict. */
  presetOfView = $derived(this.program.presets.find((p) => p.id === this.scenarioOfView) ?? null);

  /** The view that carries the lesson of the run shown (lesson.ts). */
  lesson = $derived<LessonView>(
    lessonFor(this.presetOfView?.lesson, {
      locks: this.frame.lanes.length,
      queues: this.frame.queues,
      poolWorkers: this.frame.rows.filter((r) => r.poolWorker).length,
    }),
  );

  /** Why the Stacks tab cannot capture now, or null when it can. */
  stacksWhy = $derived(stacksUnavailable({ viewMode: this.viewMode, phase: this.phase, hasRun: this.hasRun }));

  processCount = $derived(this.rowsShown.filter((r) => r.pid !== null).length);
  aliveCount = $derived(this.rowsShown.filter((r) => r.state === 'running').length);

  /** Deadlock cycles reported so far, each once (the broker may report a cycle again). */
  deadlocks = $derived.by((): DeadlockEdge[][] => {
    const seen = new Set<string>();
    const out: DeadlockEdge[][] = [];
    for (const d of this.frame.deadlocks) {
      const id = d.cycle.map((e) => `${e.pid}>${e.lock}>${e.holder}`).join(',');
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(d.cycle);
    }
    return out.slice(-MAX_DEADLOCKS_SHOWN);
  });

  /** Lock id → its number in creation order, as the charts name locks ("Lock 1"). */
  lockNumbers = $derived<ReadonlyMap<string, number>>(new Map(this.frame.lanes.map((l) => [l.lock, l.index])));

  warnings = $derived(this.frame.warnings.map((w) => (w.pid !== undefined ? `${w.pid}: ${w.message}` : w.message)));

  #pids = $derived(this.rows.filter((r) => r.pid !== null).map((r) => r.pid as number));

  #consoleAll = $derived.by(() => {
    void this.frame.version;
    return runStore.model.console(this.consoleFilter.shownOf(this.#pids));
  });

  /** The newest lines only: the DOM stays small however long the run talks. */
  consoleLines = $derived(this.#consoleAll.length > MAX_CONSOLE_LINES ? this.#consoleAll.slice(-MAX_CONSOLE_LINES) : this.#consoleAll);
  consoleDropped = $derived(Math.max(0, this.#consoleAll.length - MAX_CONSOLE_LINES));
  consoleTotal = $derived(this.frame.consoleCount);

  /** One filter chip per started process, in tree order. */
  consoleChips = $derived(
    this.rows
      .filter((r) => r.pid !== null)
      .map((r) => ({ pid: r.pid as number, name: r.name, color: r.color, shown: !this.consoleFilter.hidden.has(r.pid as number) })),
  );

  // ---- startup -----------------------------------------------------------------------------------

  /** Subscribes to the engine and loads presets, settings and the current run. Returns a disposer. */
  init(): () => void {
    this.#unsubscribe = getApi().subscribe((msg) => this.#onPush(msg));
    this.program.init();
    void this.followLive();
    return () => this.dispose();
  }

  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  // ---- pushes ------------------------------------------------------------------------------------

  #onPush(msg: PushMessage): void {
    switch (msg.type) {
      case 'events':
        // A run loading for Compare takes its own replay.
        if (msg.replay && this.compare.take(msg.runId, msg.events)) return;
        this.#onEvents(msg.runId, msg.events, msg.replay === true);
        break;
      case 'run':
        this.liveStatus = msg.status;
        // A run started from elsewhere (another window, the web page): a live view follows it.
        if (this.viewMode === 'live' && msg.status.state === 'running' && msg.status.runId !== this.viewRunId && !this.starting) {
          this.#resetView(msg.status.runId);
        }
        break;
      case 'progress':
        this.exporter.progress(msg.fraction);
        break;
    }
  }

  #onEvents(runId: string, events: RunEvent[], replay: boolean): void {
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
      this.#resetView(runId);
    }
    this.#history.ingest(events);
    this.#readVerdict(events);
    runStore.ingest(events, replay);
    if (!replay && events.length > 0) {
      const last = events[events.length - 1].t;
      const offset = performance.now() - last;
      // Batches arrive late, never early: the smallest offset seen is the best estimate.
      this.#wallOffset = this.#wallOffset === null ? offset : Math.min(this.#wallOffset, offset);
    }
  }

  /** Feeds the verdict reader; a run's first event says which preset (and so which verdict) it is. */
  #readVerdict(events: readonly RunEvent[]): void {
    for (const e of events) {
      if (e.type === 'run') {
        const spec = this.program.presets.find((p) => p.id === e.scenario)?.verdict;
        this.#verdict = spec ? new VerdictReader(spec) : null;
      }
      this.#verdict?.add(e);
    }
  }

  /** Empties the view for another run (or none). */
  #resetView(runId: string | null): void {
    runStore.reset();
    this.#history.reset();
    this.#verdict = null;
    this.viewRunId = runId;
    this.controls.clear();
    this.consoleFilter.showAll();
    this.stacksTool.capture = null;
    this.cursor = null;
    this.#wallOffset = null;
    selection.clear();
    timeAxis.reset();
  }

  /** Run time now, ticking between batches while the run is live (wallNow = performance.now()). */
  elapsedAt(wallNow: number): number {
    const end = this.end;
    if (end) return end.t;
    if (this.phase === 'running' && this.#wallOffset !== null) return Math.max(this.runTime, wallNow - this.#wallOffset);
    return this.runTime;
  }

  // ---- running -----------------------------------------------------------------------------------

  async start(): Promise<void> {
    const p = this.program;
    if (!p.scenario || this.starting) return;
    this.replayLoading = false;
    p.reloadSource();
    this.viewMode = 'live';
    this.pastRun = null;
    this.compare.close();
    this.#resetView(null);
    p.startError = null;
    this.starting = true;
    try {
      // Only a preset takes a runtime: a file's extension decides, and the engine refuses a mismatch.
      const runtime = p.preset ? { runtime: p.runtime } : {};
      const info = await getApi().call('run.start', { scenario: p.scenario, interval: p.interval, ...runtime });
      // Its first events may have arrived before this answer, and adopted the run already.
      if (this.viewRunId !== info.runId) {
        if (this.viewRunId !== null) this.#resetView(info.runId);
        else this.viewRunId = info.runId;
      }
      if (this.liveStatus?.runId !== info.runId) this.liveStatus = { ...info, state: 'running', end: null };
    } catch (e) {
      p.startError = errorText(e);
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
    this.replayLoading = false;
    this.pastRun = null;
    this.compare.close();
    try {
      const status = await getApi().call('run.current', {});
      // The replay of everything so far follows this reply: reset only now, or live pushes that
      // came in while we asked would be shown twice (once live, once replayed).
      this.#resetView(status ? status.runId : null);
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
    // The toolbar names the program in view: opening a past run picks it (Start runs it again).
    if (this.program.presets.some((p) => p.id === run.scenario)) {
      this.program.choose(run.scenario);
      this.program.chooseRuntime(run.runtime);
    } else this.program.useScenarioPath(run.scenario);
    this.program.startError = null;
    this.compare.close();
    this.#resetView(run.runId);
    this.replayLoading = true;
    try {
      await getApi().call('runs.open', { runId: run.runId });
    } catch (e) {
      this.notice = errorText(e);
    } finally {
      // Every event has been pushed before the answer: show them all now, and the outcome in the
      // same frame (the store's frame callback runs before ours).
      if (this.viewRunId === run.runId && this.viewMode === 'past') {
        runStore.flush();
        await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
        if (this.viewRunId === run.runId && this.viewMode === 'past') this.replayLoading = false;
      }
    }
  }

  // ---- stacks, cursor, export --------------------------------------------------------------------

  /** Asks the engine where every process of the live run is now (each Python thread's stack). */
  captureStacks(): Promise<void> {
    if (this.stacksWhy !== null) return Promise.resolve();
    const runId = this.viewRunId;
    return this.stacksTool.take(this.elapsedAt(performance.now()), this.rows, () => this.viewRunId === runId && this.viewMode === 'live');
  }

  soloConsolePid(pid: number): void {
    this.consoleFilter.solo(pid, this.#pids);
  }

  setCursor(t: number | null): void {
    this.cursor = t === null ? null : Math.max(0, Math.min(t, this.runTime));
  }

  exportRun(format: ExportFormat) {
    return this.exporter.run(this.viewRunId, format);
  }
}

export const app = new AppState();
