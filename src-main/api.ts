// The one contract between the engine and every shell (electron, web, cli) and the renderer.
// Types only, plus the validators every boundary uses: nothing here may import node, electron or DOM.

/** Version of the run-log format written in the `run` line; bump on an incompatible change. */
export const LOG_VERSION = 1;

export type Pid = number;

/** Why a run ended, as written in the last line of its log. */
export type EndReason = 'finished' | 'stopped' | 'timeout' | 'error';

export type StreamName = 'stdout' | 'stderr';

export type QueueOp = 'create' | 'put' | 'get';

/**
 * `abandoned`: the holder exited while holding the lock. As in Python the lock stays held
 * (nobody can acquire it again); the event names the dead holder and who is left waiting.
 */
export type LockOp = 'create' | 'request' | 'acquire' | 'release' | 'timeout' | 'abandoned';

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
}

export interface ProcessEvent extends Stamped {
  type: 'process';
  pid: Pid;
  /** The real parent pid (the process whose runtime spawned it; the monitor for the root). */
  ppid: Pid;
  name: string;
  daemon: boolean;
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
  /** Percent of one core since the previous sample (can exceed 100 for multi-threaded work). */
  cpu: number;
  /** Resident set size in bytes. */
  rss: number;
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
}

export interface LockEvent extends Stamped {
  type: 'lock';
  lock: string;
  op: LockOp;
  /** The process that did the operation (for `abandoned`: the holder that died). */
  pid: Pid;
  /** Holder after the operation. */
  holder: Pid | null;
  /** Pids waiting to acquire, in arrival order, after the operation. */
  waiters: Pid[];
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

export type RunEvent =
  | RunStartedEvent
  | ProcessEvent
  | ExitEvent
  | SampleEvent
  | OutputEvent
  | QueueEvent
  | LockEvent
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

export interface PresetInfo {
  /** e.g. `flash-sale` */
  id: string;
  /** Number of the seed example it mirrors (1..8), see shared/seed-examples.md. */
  seed: number;
  title: LocalizedText;
  /** What to look at while it runs: a short paragraph per language. */
  explanation: LocalizedText;
  /** The TypeScript scenario source, as shipped. */
  source: string;
  /** The Python original it mirrors, verbatim from the seed. */
  python: string;
}

// ---------------------------------------------------------------------------------------------
// Process table, as the session keeps it

export type ProcessState = 'running' | 'exited';

export interface ProcessInfo {
  pid: Pid;
  ppid: Pid;
  name: string;
  daemon: boolean;
  state: ProcessState;
  exitcode: number | null;
  /** ms since run start */
  startedAt: number;
  endedAt: number | null;
  cpu: number | null;
  rss: number | null;
}

// ---------------------------------------------------------------------------------------------
// Commands: `domain.verb`, with their argument and result types, one map for every shell.

export interface RunStartArgs {
  /** A preset id or a path to a `.ts`/`.js`/`.mjs` scenario. */
  scenario: string;
  /** Sampling interval in ms (50..10000, default 500). */
  interval?: number;
  /** Stop the run after this many seconds. */
  timeout?: number;
}

export interface RunInfo {
  runId: string;
  logPath: string;
  scenario: string;
}

export interface JoinResult {
  /** Whether the process had exited when join returned (false: the timeout passed). */
  exited: boolean;
  exitcode: number | null;
}

export interface Commands {
  'presets.list': { args: Record<string, never>; result: PresetInfo[] };
  'run.start': { args: RunStartArgs; result: RunInfo };
  'run.stop': { args: Record<string, never>; result: { reason: EndReason } };
  'process.terminate': { args: { pid: Pid }; result: { ok: true } };
  'process.kill': { args: { pid: Pid }; result: { ok: true } };
  'process.join': { args: { pid: Pid; timeout?: number }; result: JoinResult };
  'process.list': { args: Record<string, never>; result: ProcessInfo[] };
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

type Check = (o: Record<string, unknown>) => boolean;

const checks: Record<RunEventType, Check> = {
  run: (o) => isInt(o.version) && isStr(o.scenario) && isStr(o.startedAt) && isNum(o.interval) && isStr(o.cwd),
  process: (o) => isInt(o.pid) && isInt(o.ppid) && isStr(o.name) && isBool(o.daemon),
  exit: (o) => isInt(o.pid) && isExitcode(o.exitcode),
  sample: (o) => isInt(o.pid) && isNum(o.cpu) && isNum(o.rss),
  output: (o) => isInt(o.pid) && (o.stream === 'stdout' || o.stream === 'stderr') && isStr(o.text),
  queue: (o) =>
    isStr(o.queue) && ['create', 'put', 'get'].includes(o.op as string) && isInt(o.pid) && isInt(o.depth) && isInt(o.maxsize),
  lock: (o) =>
    isStr(o.lock) &&
    ['create', 'request', 'acquire', 'release', 'timeout', 'abandoned'].includes(o.op as string) &&
    isInt(o.pid) &&
    isPidOrNull(o.holder) &&
    Array.isArray(o.waiters) &&
    o.waiters.every(isInt),
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
