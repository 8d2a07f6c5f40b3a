// The one contract between the engine and every shell (electron, web, cli) and the renderer.
// Types only, plus the validators every boundary uses: nothing here may import node, electron or
// DOM, and nothing of ours but the pure rules of common/ (the interval range, run ids).
// Over 450 lines on purpose: the whole contract, every event and command, is read in one place.

import { isInterval } from './common/interval.ts';
import { isOneOf, LOCK_KINDS, SHARED_KINDS, SYNC_KINDS, type LockKind, type SharedKind, type SyncKind } from './common/object-kinds.ts';
import { isRunId } from './common/run-id.ts';

/** Version of the run-log format written in the `run` line; bump on an incompatible change. */
export const LOG_VERSION = 1;

export type Pid = number;

/** Why a run ended, as written in the last line of its log. */
export type EndReason = 'finished' | 'stopped' | 'timeout' | 'error';

export type StreamName = 'stdout' | 'stderr';

/**
 * `wait`: a get found the queue empty (or a put found it full) and blocks; `woken`: that wait
 * ended with the item (or the room); `timeout`: it ended without, its timeout passed.
 */
export type QueueOp = 'create' | 'put' | 'get' | 'wait' | 'woken' | 'timeout';

/** Which end of a queue a blocked process waits at. */
export type QueueSide = 'get' | 'put';

/**
 * `abandoned`: the holder exited while holding the lock. As in Python the lock stays held
 * (nobody can acquire it again); the event names the dead holder and who is left waiting.
 * `error`: a release refused (Python's `ValueError: semaphore or lock released too many times`).
 */
export type LockOp = 'create' | 'request' | 'acquire' | 'release' | 'timeout' | 'abandoned' | 'error';

export type { LockKind, SyncKind, SharedKind } from './common/object-kinds.ts';

/**
 * What happened to a Condition, an Event or a Barrier (see docs/run-log.md, `sync`):
 * `wait` a process begins to wait (a Condition: it released its lock; an Event: it waits for
 * set(); a Barrier: it arrives), `woken` its wait ended because another process let it go,
 * `timeout` its timeout passed, `notify` (Condition), `set`/`clear` (Event), `release` (a
 * Barrier's last party arrived: its generation goes), `abort`, `reset`, `broken` (a Barrier).
 */
export type SyncOp = 'create' | 'wait' | 'woken' | 'timeout' | 'notify' | 'set' | 'clear' | 'release' | 'abort' | 'reset' | 'broken';

export type ControlAction = 'start' | 'join' | 'terminate' | 'kill' | 'close' | 'stop';

interface Stamped {
  /** Milliseconds since the run started (monotonic clock of the monitor). */
  t: number;
}

export interface RunStartedEvent extends Stamped {
  type: 'run';
  version: number;
  /** A preset id (`flash-sale`) or the absolute path of a scenario file. */
  scenario: string;
  /** ISO 8601 wall-clock time of t = 0. */
  startedAt: string;
  /** Sampling interval in ms. */
  interval: number;
  /** Working directory the root process started in. */
  cwd: string;
  /** What runs the program: procscope's TypeScript runtime, or a Python interpreter (Python mode). Absent in logs before Python mode: TypeScript. */
  runtime?: Runtime;
  /** Python mode: the interpreter as named (`python3`, a path). */
  interpreter?: string;
  /** Arguments given to the program after its file (Python's `sys.argv[1:]`, Node's `process.argv.slice(2)`). */
  args?: string[];
  /** Set when the run is profiled (`frames`, `stacks` and `samples` lines follow): the sampling rate. */
  profile?: { hz: number };
}

/** What runs a program: a preset runs either way, a file by its extension. */
export type Runtime = 'typescript' | 'python';

export interface ProcessEvent extends Stamped {
  type: 'process';
  pid: Pid;
  /** The real parent pid (the process whose runtime spawned it; the monitor for the root). */
  ppid: Pid;
  name: string;
  daemon: boolean;
  /** The Process object it was started from (see `created`); absent for the main process. */
  handle?: string;
}

/** A Process object was constructed (not started yet): Python's state "initial". */
export interface CreatedEvent extends Stamped {
  type: 'created';
  /** Stable id of the Process object within the run. */
  handle: string;
  /** The process that owns the object: its parent once started. */
  owner: Pid;
  name: string;
  daemon: boolean;
}

/** A Process object was closed (Python's `close()`): its members now raise. */
export interface ClosedEvent extends Stamped {
  type: 'closed';
  handle: string;
  pid: Pid | null;
}

export interface ExitEvent extends Stamped {
  type: 'exit';
  pid: Pid;
  /**
   * Python's convention: 0 on return, n for exit(n), 1 for an uncaught error, -N when killed by
   * signal N. `null` only when nobody could observe the status (the parent died first).
   */
  exitcode: number | null;
}

export interface SampleEvent extends Stamped {
  type: 'sample';
  pid: Pid;
  /**
   * Percent of one core since the previous sample (can exceed 100 for multi-threaded work); a
   * process's first sample is its average since it started.
   */
  cpu: number;
  /** Resident set size in bytes (a process's last sample, taken as it ends, repeats its last one). */
  rss: number;
  /** CPU time used so far, user + system, in seconds (htop's TIME+); absent in older logs. */
  cpuTime?: number;
}

export interface OutputEvent extends Stamped {
  type: 'output';
  pid: Pid;
  stream: StreamName;
  /** One line, without its line terminator. */
  text: string;
}

export interface QueueEvent extends Stamped {
  type: 'queue';
  /** Stable id of the queue within the run. */
  queue: string;
  op: QueueOp;
  pid: Pid;
  /** Items in the queue after this operation. */
  depth: number;
  /** 0 means unbounded (Python: maxsize <= 0). */
  maxsize: number;
  /** `wait`, `woken`, `timeout`: which end `pid` waits (waited) at. */
  side?: QueueSide;
  /** `wait`, `woken`, `timeout`: the processes blocked in a get, and in a put, after the operation, in arrival order. */
  getters?: Pid[];
  putters?: Pid[];
}

export interface LockEvent extends Stamped {
  type: 'lock';
  lock: string;
  op: LockOp;
  /** The process that did the operation (for `abandoned`: the holder that died). */
  pid: Pid;
  /** Holder after the operation (of a semaphore: its oldest holder). */
  holder: Pid | null;
  /** Pids waiting to acquire, in arrival order, after the operation. */
  waiters: Pid[];
  /** `create` of a semaphore: which kind (absent: a Lock). */
  kind?: LockKind;
  /** `create` of a semaphore: its initial value, the holders it admits at once (absent: 1). */
  capacity?: number;
  /** A semaphore's every event: its holders after the operation, oldest first, a pid once per permit it holds. */
  holders?: Pid[];
  /** A semaphore's every event: its counter after the operation (the permits free). */
  value?: number;
  /** `request`: the wait has a timeout (it ends by itself: never part of a deadlock). */
  timed?: boolean;
  /** `error`: what the program was told, as Python words it. */
  error?: string;
}

export interface SyncEvent extends Stamped {
  type: 'sync';
  /** Stable id of the object within the run. */
  sync: string;
  kind: SyncKind;
  op: SyncOp;
  /** The process that did it (for `release`: the last party to arrive). */
  pid: Pid;
  /** Pids waiting after the operation, in arrival order. */
  waiters: Pid[];
  /** `set`, `release`, `reset`, `abort`: the waiters it let go (or broke), in arrival order. */
  released?: Pid[];
  /** `woken`: the process whose notify, set or release let it go. */
  by?: Pid;
  /** `notify`: how many waiters it wakes (notify(n): at most n; notify_all: all). */
  n?: number;
  /** An Event's every event: whether it is set after the operation. */
  set?: boolean;
  /** A Condition's `create`: the lock it waits with (a `lock` of the log). */
  lock?: string;
  /** A Barrier's every event: how many parties it waits for, how many generations it released, whether it is broken. */
  parties?: number;
  generation?: number;
  broken?: boolean;
}

/**
 * A manager's shared object: made (`create`), used (`use`: how often each process read and wrote
 * it over one interval, one line per process that did), or each call (`call`, only when the run
 * asks for them: `procscope run --shared-calls`).
 */
export interface SharedEvent extends Stamped {
  type: 'shared';
  shared: string;
  kind: SharedKind;
  op: 'create' | 'use' | 'call';
  pid: Pid;
  /** `use`: calls that read it, and that wrote it, since this process's previous `use` line of it. */
  reads?: number;
  writes?: number;
  /** `call`: the method (`__getitem__`, `append`, `set`, …) and whether it writes. */
  method?: string;
  write?: boolean;
}

export interface DeadlockEdge {
  /** This process waits for `lock`… */
  pid: Pid;
  lock: string;
  /** …which is held by this process (the next edge's pid). */
  holder: Pid;
}

export interface DeadlockEvent extends Stamped {
  type: 'deadlock';
  cycle: DeadlockEdge[];
}

export interface ControlEvent extends Stamped {
  type: 'control';
  action: ControlAction;
  /** Target process; absent for `stop`. */
  pid?: Pid;
  /** Target Process object, when the control went through its owner. */
  handle?: string;
  /** Outcome in words, e.g. `exitcode -15` or the Python error message. */
  result?: string;
  ok: boolean;
}

export interface WarningEvent extends Stamped {
  type: 'warning';
  message: string;
  pid?: Pid;
}

export interface EndEvent extends Stamped {
  type: 'end';
  reason: EndReason;
  /** Exit code of the root process (the scenario's main), when it exited. */
  exitcode: number | null;
  /** For reason `error`: what went wrong, in one line. */
  error?: string;
}

/**
 * A Pool worker finished a task (Python's notion: one `apply`, or one chunk of a `map`), well or
 * with an exception. `done` counts this worker's finished tasks so far, `failed` those of them
 * that raised.
 */
export interface TaskEvent extends Stamped {
  type: 'task';
  pid: Pid;
  done: number;
  failed: number;
}

/**
 * A frame of the profile: [function, file, line, library]. The line is the one being run (Python)
 * or where the function starts (TypeScript: V8 samples functions); library is 1 for Python's own
 * modules, installed packages and Node's internals, else 0.
 */
export type ProfileFrame = [name: string, file: string, line: number, lib: 0 | 1];

/** Frames first seen in the run: their ids are `first`, `first + 1`, … (every run starts at 0). */
export interface FramesEvent extends Stamped {
  type: 'frames';
  first: number;
  frames: ProfileFrame[];
}

/**
 * Stacks first seen in the run, ids from `first` on: each is [parent stack id, frame id], the
 * parent -1 for an outermost frame. A stack's parent always has a smaller id.
 */
export interface StacksEvent extends Stamped {
  type: 'stacks';
  first: number;
  stacks: [parent: number, frame: number][];
}

/**
 * Profile samples of one thread of a process. Sample i was taken at `t` + the sum of `dt[1..i]`
 * microseconds (dt[0] is 0), in stack `stacks[i]`; `cpu[i]` is the share of the time since the
 * thread's previous sample that it spent on a CPU, in ninths ('0': it waited, '9': it ran all along).
 */
export interface SamplesEvent extends Stamped {
  type: 'samples';
  pid: Pid;
  thread: string;
  dt: number[];
  stacks: number[];
  cpu: string;
}

/** What a wait waits in: a lock's acquire, a queue's get or put, a process's join. */
export type WaitKind = 'acquire' | 'get' | 'put' | 'join';

/** The program's line that waits. */
export interface WaitSite {
  file: string;
  line: number;
  func: string;
}

/**
 * A wait that blocks, from `begin` to `end` (no `end`: it still waited when its process exited or
 * the run ended). `wait` numbers the waits of one process. `begin` says what it waits in
 * (`object`: the lock or queue; `target`: the pid joined) and where (`site`); `end` with
 * `timeout`: it gave up.
 */
export interface WaitEvent extends Stamped {
  type: 'wait';
  op: 'begin' | 'end';
  pid: Pid;
  wait: number;
  kind?: WaitKind;
  object?: string;
  target?: Pid;
  site?: WaitSite;
  timeout?: boolean;
}

export type RunEvent =
  | RunStartedEvent
  | FramesEvent
  | StacksEvent
  | SamplesEvent
  | WaitEvent
  | ProcessEvent
  | CreatedEvent
  | ClosedEvent
  | ExitEvent
  | TaskEvent
  | SampleEvent
  | OutputEvent
  | QueueEvent
  | LockEvent
  | SyncEvent
  | SharedEvent
  | DeadlockEvent
  | ControlEvent
  | WarningEvent
  | EndEvent;

export type RunEventType = RunEvent['type'];

/** A run event without its timestamp: what producers hand to the session, which stamps it. */
export type UnstampedEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 't'> : never) : never;

// ---------------------------------------------------------------------------------------------
// Presets

export type Lang = 'en' | 'zh';

export interface LocalizedText {
  en: string;
  zh: string;
}

/**
 * The view that carries a preset's lesson: the timeline of process lifetimes, the lock lanes,
 * the queue chart, or the pool's worker lanes with their tasks.
 */
export type LessonView = 'timeline' | 'locks' | 'queues' | 'workers';

/**
 * What a preset's verdict reads from its run log (common/verdict.ts): generic lessons, each with
 * the preset's parameters. Plain data, so it crosses IPC with the preset.
 */
export type VerdictSpec =
  /** Main outlives its children: they are its real children and it waits for them (hello, subclass). */
  | { kind: 'parent-waits'; children: number }
  /** The main's children ran one after another, or overlapped (join-in-loop, -wrong). */
  | { kind: 'children'; children: number }
  /** How each child of main ended, and main itself if it failed (members). */
  | { kind: 'exit-codes' }
  /** The pool's workers and how many tasks (chunks) each took (pool-map). */
  | { kind: 'pool'; workers: number }
  /**
   * The first queue the program created: how full it got and what was left in it. `values`: the
   * items put, in order, as the Python original writes them, to name what is left.
   */
  | { kind: 'queue'; values?: string[] }
  /**
   * Buyers race for `stock` items; a buyer's output line containing `sold` (or `notSold`) says
   * how it went. With a lock in the run, whether it ever had two holders at once.
   */
  | { kind: 'stock'; stock: number; sold: string; notSold: string }
  /** The first Semaphore: the most processes that held it at once, of `clients` expected, and who waited for a permit. */
  | { kind: 'holders'; capacity: number; clients: number }
  /** The first Event: whether one set() let all `waiters` go at once. */
  | { kind: 'released'; waiters: number };

export interface PresetInfo {
  /** e.g. `flash-sale` */
  id: string;
  /** Number of the seed example it mirrors (1..8), see shared/seed-examples.md. */
  seed: number;
  title: LocalizedText;
  /** What to look at while it runs: a short paragraph per language. */
  explanation: LocalizedText;
  /** The view that shows what the preset teaches. */
  lesson: LessonView;
  /** How its outcome is read from the run log, and put in words at the end of a run. */
  verdict: VerdictSpec;
  /** The TypeScript scenario source, as shipped. */
  source: string;
  /** The Python original it mirrors, verbatim from the seed. */
  python: string;
}

// ---------------------------------------------------------------------------------------------
// Process table, as the session keeps it

/** Python's process states as the app shows them: created (initial), running, exited, closed. */
export type ProcessState = 'created' | 'running' | 'exited' | 'closed';

export interface TaskCount {
  done: number;
  failed: number;
}

export interface ProcessInfo {
  /** Stable row key: the Process object's handle, or `pid:<pid>` for the main process. */
  key: string;
  handle: string | null;
  /** null until started. */
  pid: Pid | null;
  /** The parent (for a created object: its owner, the parent it will have). */
  ppid: Pid;
  name: string;
  daemon: boolean;
  state: ProcessState;
  exitcode: number | null;
  /** A Pool worker's finished tasks (and how many of them raised); absent for other processes. */
  tasks?: TaskCount;
  /** ms since run start; null until started. */
  startedAt: number | null;
  endedAt: number | null;
  cpu: number | null;
  rss: number | null;
  /** CPU time used so far (after its exit: in all), seconds; absent until its first sample. */
  cpuTime?: number;
  /** The highest resident size sampled, bytes; absent until its first sample. */
  peakRss?: number;
}

// ---------------------------------------------------------------------------------------------
// Commands: `domain.verb`, with their argument and result types, one map for every shell.

export interface RunStartArgs {
  /** A preset id or a path to a `.py`, `.ts`, `.mts`, `.js` or `.mjs` scenario. */
  scenario: string;
  /** A preset's TypeScript twin (default) or its Python original. A file's extension decides for it. */
  runtime?: Runtime;
  /** Arguments for the program (`sys.argv[1:]`). */
  args?: string[];
  /** Sampling interval in ms (50..10000, default 100: common/interval.ts). */
  interval?: number;
  /** Stop the run after this many seconds. */
  timeout?: number;
  /** Profile every process of the run: sample each thread's stack `hz` times a second (1..1000, default 100). */
  profile?: { hz?: number };
  /** Log each call on a manager's shared objects, not only their counts per interval. */
  sharedCalls?: boolean;
}

/** The profiler's default and allowed sampling rates, Hz. */
export const PROFILE_HZ = { default: 100, min: 1, max: 1000 } as const;

export interface RunInfo {
  runId: string;
  logPath: string;
  scenario: string;
  runtime: Runtime;
}

export interface JoinResult {
  /** Whether the process had exited when join returned (false: the timeout passed). */
  exited: boolean;
  exitcode: number | null;
}

/** A process to control: by pid (any process of the run), or by its Process object's handle. */
export type ProcessTarget = { pid: Pid } | { handle: string };

/** The answer of a control, as Python would print it. */
export interface ControlResult {
  ok: boolean;
  /** e.g. `None`, `-15`, `True`, or the error: `ValueError: Cannot close a process while…` */
  text: string;
  exitcode?: number | null;
  alive?: boolean;
}

export interface RunStatus extends RunInfo {
  state: 'running' | 'ended';
  end: EndEvent | null;
}

export interface PastRun {
  runId: string;
  logPath: string;
  scenario: string;
  runtime: Runtime;
  startedAt: string;
  /** How the run ended, or null if its log has no end (still running, or the monitor was killed). */
  reason: EndReason | null;
  bytes: number;
  /**
   * Bytes at the end of the log that readers leave out: its last line is torn (the monitor was
   * killed in the middle of writing it). Absent when there are none, and for the run in progress.
   */
  tornBytes?: number;
}

export type ExportFormat = 'jsonl' | 'csv' | 'trace' | 'speedscope';

export interface ExportResult {
  /** Desktop: where the file was saved. */
  savedTo?: string;
  /** Browser: a same-origin URL that downloads it. */
  url?: string;
  /** The person closed the save dialog. */
  cancelled?: boolean;
}

export interface Settings {
  /** Sampling interval for new runs, ms (50..10000). */
  interval: number;
  /** The Python interpreter of Python mode: a command on PATH (`python3`) or a path. */
  python: string;
}

export interface ScenarioSource {
  /** The absolute path read. */
  path: string;
  runtime: Runtime;
  text: string;
}

/** Largest program file `scenario.source` returns, bytes. */
export const SOURCE_MAX_BYTES = 1024 * 1024;

export interface AppInfo {
  /** Which shell answers: the desktop window, the browser window, or the command line (no window). */
  shell: 'electron' | 'web' | 'cli';
  version: string;
  platform: string;
  runsDir: string;
}

type NoArgs = Record<string, never>;

/** One frame of a thread's stack: a line of a traceback. */
export interface StackFrame {
  file: string;
  line: number;
  /** The function (Python's `co_name`, `<module>` at top level). */
  func: string;
  /** The source line, stripped; empty where the file cannot be read. */
  code: string;
  /** Python's own library or an installed package, not the program's code. */
  lib: boolean;
}

export interface ThreadStack {
  /** The thread's name (`MainThread`, …). */
  name: string;
  /** Outermost first, innermost (where it is now) last, as a Python traceback reads. */
  frames: StackFrame[];
}

/**
 * Why a process has no stacks: a TypeScript process (Node cannot read its main thread's stack
 * while it waits), no answer in time (a thread holding the interpreter in native code), or not
 * connected (not started yet, or already leaving).
 */
export type StackError = 'typescript' | 'no-answer' | 'not-connected';

/** Where one running process is now, or why it cannot say. */
export interface ProcessStacks {
  pid: Pid;
  name: string;
  threads: ThreadStack[];
  /** Set when there are no stacks. */
  error?: StackError;
}

export interface Commands {
  'app.info': { args: NoArgs; result: AppInfo };
  'presets.list': { args: NoArgs; result: PresetInfo[] };
  'run.start': { args: RunStartArgs; result: RunInfo };
  'run.stop': { args: NoArgs; result: { reason: EndReason | null } };
  /** The current (or last) run; its events so far are pushed again as a replay. */
  'run.current': { args: NoArgs; result: RunStatus | null };
  'process.list': { args: NoArgs; result: ProcessInfo[] };
  /**
   * Where every running process of the current run is now: each Python thread's stack (what a
   * stuck program is waiting in). TypeScript processes say they cannot.
   */
  'run.stacks': { args: NoArgs; result: ProcessStacks[] };
  'process.start': { args: { target: ProcessTarget }; result: ControlResult };
  'process.join': { args: { target: ProcessTarget; timeout?: number }; result: ControlResult };
  'process.terminate': { args: { target: ProcessTarget }; result: ControlResult };
  'process.kill': { args: { target: ProcessTarget }; result: ControlResult };
  'process.close': { args: { target: ProcessTarget }; result: ControlResult };
  'runs.list': { args: NoArgs; result: PastRun[] };
  /** Replays a past run's events as `events` pushes (replay: true); resolves with their count. */
  'runs.open': { args: { runId: string }; result: { runId: string; events: number } };
  'run.export': { args: { runId: string; format: ExportFormat }; result: ExportResult };
  'settings.get': { args: NoArgs; result: Settings };
  'settings.set': { args: Partial<Settings>; result: Settings };
  /** Desktop: a native "Open…" dialog for a scenario file. Browser: not available (null). */
  'scenario.pick': { args: NoArgs; result: { path: string | null } };
  /**
   * The text of a program file the person chose (Open…), to show beside its run. Only files
   * that `run.start` would run (.py, .ts, .mts, .js, .mjs), at most SOURCE_MAX_BYTES: the window
   * can run such a file anyway, so reading it grants nothing more.
   */
  'scenario.source': { args: { path: string }; result: ScenarioSource };
}

/** What the engine pushes to a shell's page, besides command results. */
export type PushMessage =
  | { type: 'events'; runId: string; events: RunEvent[]; replay?: boolean }
  | { type: 'run'; status: RunStatus }
  | { type: 'progress'; task: string; fraction: number };

/**
 * What the renderer talks to: the preload's object in Electron, the WebSocket client in a
 * browser. The renderer cannot tell which one it has.
 */
export interface ProcscopeApi {
  call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']>;
  subscribe(listener: (msg: PushMessage) => void): () => void;
}

export type CommandName = keyof Commands;

/** Errors cross every boundary as data, never as live objects. */
export interface ApiError {
  name: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Validation of events read back from a log or received over a boundary.

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isPidOrNull = (v: unknown): boolean => v === null || isInt(v);
const isExitcode = (v: unknown): boolean => v === null || isInt(v);

const isPids = (v: unknown): boolean => Array.isArray(v) && v.every(isInt);
const optPids = (v: unknown): boolean => v === undefined || isPids(v);
const QUEUE_OPS: readonly string[] = ['create', 'put', 'get', 'wait', 'woken', 'timeout'] satisfies QueueOp[];
const LOCK_OPS: readonly string[] = ['create', 'request', 'acquire', 'release', 'timeout', 'abandoned', 'error'] satisfies LockOp[];
const SYNC_OPS: readonly string[] = ['create', 'wait', 'woken', 'timeout', 'notify', 'set', 'clear', 'release', 'abort', 'reset', 'broken'] satisfies SyncOp[];

type Check = (o: Record<string, unknown>) => boolean;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isHz = (v: unknown): v is number => isInt(v) && (v as number) >= PROFILE_HZ.min && (v as number) <= PROFILE_HZ.max;
const isProfileFrame = (v: unknown): boolean =>
  Array.isArray(v) && v.length === 4 && isStr(v[0]) && isStr(v[1]) && isCount(v[2]) && (v[3] === 0 || v[3] === 1);
const isSite = (v: unknown): boolean => isObj(v) && isStr(v.file) && isCount(v.line) && isStr(v.func);

const checks: Record<RunEventType, Check> = {
  run: (o) =>
    isInt(o.version) &&
    isStr(o.scenario) &&
    isStr(o.startedAt) &&
    isNum(o.interval) &&
    isStr(o.cwd) &&
    (o.runtime === undefined || o.runtime === 'typescript' || o.runtime === 'python') &&
    (o.interpreter === undefined || isStr(o.interpreter)) &&
    (o.args === undefined || (Array.isArray(o.args) && o.args.every(isStr))) &&
    (o.profile === undefined || (isObj(o.profile) && isHz((o.profile as Record<string, unknown>).hz))),
  frames: (o) => isCount(o.first) && Array.isArray(o.frames) && o.frames.every(isProfileFrame),
  stacks: (o) =>
    isCount(o.first) &&
    Array.isArray(o.stacks) &&
    o.stacks.every(
      (x: unknown, i: number) =>
        Array.isArray(x) && x.length === 2 && isInt(x[0]) && x[0] >= -1 && x[0] < (o.first as number) + i && isCount(x[1]),
    ),
  samples: (o) =>
    isInt(o.pid) &&
    isStr(o.thread) &&
    Array.isArray(o.dt) &&
    Array.isArray(o.stacks) &&
    isStr(o.cpu) &&
    o.stacks.length === o.dt.length &&
    o.cpu.length === o.dt.length &&
    /^[0-9]*$/.test(o.cpu) &&
    o.dt.every(isCount) &&
    o.stacks.every(isCount),
  wait: (o) =>
    (o.op === 'begin' || o.op === 'end') &&
    isInt(o.pid) &&
    isCount(o.wait) &&
    (o.op === 'end' || (isStr(o.kind) && (o.object === undefined || isStr(o.object)) && (o.target === undefined || isInt(o.target)) && isSite(o.site))) &&
    (o.timeout === undefined || isBool(o.timeout)),
  process: (o) => isInt(o.pid) && isInt(o.ppid) && isStr(o.name) && isBool(o.daemon) && (o.handle === undefined || isStr(o.handle)),
  created: (o) => isStr(o.handle) && isInt(o.owner) && isStr(o.name) && isBool(o.daemon),
  closed: (o) => isStr(o.handle) && isPidOrNull(o.pid),
  exit: (o) => isInt(o.pid) && isExitcode(o.exitcode),
  task: (o) => isInt(o.pid) && isInt(o.done) && isInt(o.failed) && (o.failed as number) >= 0 && (o.done as number) >= (o.failed as number),
  sample: (o) => isInt(o.pid) && isNum(o.cpu) && isNum(o.rss) && (o.cpuTime === undefined || isNum(o.cpuTime)),
  output: (o) => isInt(o.pid) && (o.stream === 'stdout' || o.stream === 'stderr') && isStr(o.text),
  queue: (o) =>
    isStr(o.queue) &&
    QUEUE_OPS.includes(o.op as string) &&
    isInt(o.pid) &&
    isInt(o.depth) &&
    isInt(o.maxsize) &&
    (o.side === undefined || o.side === 'get' || o.side === 'put') &&
    optPids(o.getters) &&
    optPids(o.putters),
  lock: (o) =>
    isStr(o.lock) &&
    LOCK_OPS.includes(o.op as string) &&
    isInt(o.pid) &&
    isPidOrNull(o.holder) &&
    isPids(o.waiters) &&
    (o.kind === undefined || isOneOf(LOCK_KINDS, o.kind)) &&
    (o.capacity === undefined || (isInt(o.capacity) && (o.capacity as number) >= 0)) &&
    optPids(o.holders) &&
    (o.value === undefined || isInt(o.value)) &&
    (o.timed === undefined || isBool(o.timed)) &&
    (o.error === undefined || isStr(o.error)),
  sync: (o) =>
    isStr(o.sync) &&
    isOneOf(SYNC_KINDS, o.kind) &&
    SYNC_OPS.includes(o.op as string) &&
    isInt(o.pid) &&
    isPids(o.waiters) &&
    optPids(o.released) &&
    (o.by === undefined || isInt(o.by)) &&
    (o.n === undefined || (isInt(o.n) && (o.n as number) >= 0)) &&
    (o.set === undefined || isBool(o.set)) &&
    (o.lock === undefined || isStr(o.lock)) &&
    (o.parties === undefined || (isInt(o.parties) && (o.parties as number) >= 1)) &&
    (o.generation === undefined || (isInt(o.generation) && (o.generation as number) >= 0)) &&
    (o.broken === undefined || isBool(o.broken)),
  shared: (o) =>
    isStr(o.shared) &&
    isOneOf(SHARED_KINDS, o.kind) &&
    (o.op === 'create' || o.op === 'use' || o.op === 'call') &&
    isInt(o.pid) &&
    (o.reads === undefined || (isInt(o.reads) && (o.reads as number) >= 0)) &&
    (o.writes === undefined || (isInt(o.writes) && (o.writes as number) >= 0)) &&
    (o.method === undefined || isStr(o.method)) &&
    (o.write === undefined || isBool(o.write)),
  deadlock: (o) =>
    Array.isArray(o.cycle) &&
    o.cycle.every(
      (e: unknown) =>
        typeof e === 'object' && e !== null && isInt((e as DeadlockEdge).pid) && isStr((e as DeadlockEdge).lock) && isInt((e as DeadlockEdge).holder),
    ),
  control: (o) =>
    ['start', 'join', 'terminate', 'kill', 'close', 'stop'].includes(o.action as string) &&
    (o.pid === undefined || isInt(o.pid)) &&
    isBool(o.ok),
  warning: (o) => isStr(o.message),
  end: (o) => ['finished', 'stopped', 'timeout', 'error'].includes(o.reason as string) && isExitcode(o.exitcode),
};

/** Returns the event if `v` is a well-formed run event, else a one-line reason. */
export function parseRunEvent(v: unknown): { ok: true; event: RunEvent } | { ok: false; reason: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not an object' };
  const o = v as Record<string, unknown>;
  if (!isNum(o.t)) return { ok: false, reason: 'missing numeric "t"' };
  const type = o.type;
  if (!isStr(type) || !(type in checks)) return { ok: false, reason: `unknown type ${JSON.stringify(type)}` };
  if (!checks[type as RunEventType](o)) return { ok: false, reason: `malformed "${type}" event` };
  return { ok: true, event: o as unknown as RunEvent };
}

// ---------------------------------------------------------------------------------------------
// Validation of commands received over IPC or the WebSocket: every shell checks before acting.

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const noKeys = (o: Record<string, unknown>) => Object.keys(o).length === 0;
const isTarget = (v: unknown): boolean =>
  isObj(v) &&
  ((Object.keys(v).length === 1 && isInt(v.pid) && (v.pid as number) > 0) ||
    (Object.keys(v).length === 1 && isStr(v.handle) && (v.handle as string).length <= 64));
const optSeconds = (v: unknown) => v === undefined || (isNum(v) && v >= 0 && v <= 86_400);
/** A command name or path: no NUL (the OS would cut it), no surrounding blanks, short. */
export const isInterpreter = (v: unknown): v is string => isStr(v) && v.length > 0 && v.length <= 1024 && v.trim() === v && !v.includes('\0');
export const isRuntime = (v: unknown): v is Runtime => v === 'typescript' || v === 'python';
const isArgs = (v: unknown) => Array.isArray(v) && v.length <= 256 && v.every((x) => isStr(x) && x.length <= 4096 && !x.includes('\0'));
const isProfileArgs = (v: unknown) => isObj(v) && Object.keys(v).every((k) => k === 'hz') && (v.hz === undefined || isHz(v.hz));

const commandChecks: Record<CommandName, (a: Record<string, unknown>) => boolean> = {
  'app.info': noKeys,
  'presets.list': noKeys,
  'run.start': (a) =>
    isStr(a.scenario) &&
    (a.scenario as string).length > 0 &&
    (a.scenario as string).length <= 4096 &&
    (a.interval === undefined || isInterval(a.interval)) &&
    (a.timeout === undefined || (isNum(a.timeout) && (a.timeout as number) > 0)) &&
    (a.runtime === undefined || isRuntime(a.runtime)) &&
    (a.args === undefined || isArgs(a.args)) &&
    (a.profile === undefined || isProfileArgs(a.profile)) &&
    (a.sharedCalls === undefined || isBool(a.sharedCalls)) &&
    Object.keys(a).every((k) => ['scenario', 'interval', 'timeout', 'runtime', 'args', 'profile', 'sharedCalls'].includes(k)),
  'run.stop': noKeys,
  'run.current': noKeys,
  'process.list': noKeys,
  'run.stacks': noKeys,
  'process.start': (a) => isTarget(a.target) && Object.keys(a).length === 1,
  'process.join': (a) => isTarget(a.target) && optSeconds(a.timeout) && Object.keys(a).every((k) => k === 'target' || k === 'timeout'),
  'process.terminate': (a) => isTarget(a.target) && Object.keys(a).length === 1,
  'process.kill': (a) => isTarget(a.target) && Object.keys(a).length === 1,
  'process.close': (a) => isTarget(a.target) && Object.keys(a).length === 1,
  'runs.list': noKeys,
  'runs.open': (a) => isRunId(a.runId) && Object.keys(a).length === 1,
  'run.export': (a) => isRunId(a.runId) && ['jsonl', 'csv', 'trace', 'speedscope'].includes(a.format as string) && Object.keys(a).length === 2,
  'settings.get': noKeys,
  'settings.set': (a) =>
    (a.interval === undefined || isInterval(a.interval)) &&
    (a.python === undefined || isInterpreter(a.python)) &&
    Object.keys(a).every((k) => k === 'interval' || k === 'python'),
  'scenario.pick': noKeys,
  'scenario.source': (a) => isStr(a.path) && (a.path as string).length > 0 && (a.path as string).length <= 4096 && !(a.path as string).includes('\0') && Object.keys(a).length === 1,
};

export const COMMAND_NAMES = Object.keys(commandChecks) as CommandName[];

/** Checks a command that crossed a boundary; returns it typed, or a one-line reason. */
export function parseCommand(
  name: unknown,
  args: unknown,
): { ok: true; command: CommandName; args: Commands[CommandName]['args'] } | { ok: false; reason: string } {
  if (!isStr(name) || !Object.hasOwn(commandChecks, name)) return { ok: false, reason: `unknown command ${JSON.stringify(name)}` };
  const a = args === undefined ? {} : args;
  if (!isObj(a)) return { ok: false, reason: `${name}: arguments must be an object` };
  if (!commandChecks[name as CommandName](a)) return { ok: false, reason: `${name}: invalid arguments` };
  return { ok: true, command: name as CommandName, args: a as Commands[CommandName]['args'] };
}
