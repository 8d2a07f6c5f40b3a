// Where a TypeScript process waits: a lock's acquire, a queue's get or put, a join that blocks is
// reported with the program's line that waits (its first frame outside this runtime and Node's
// internals), in the `wait` messages the Python shim sends too.
//
// Whether a request to the monitor will block is known only when its answer comes (it says
// `waited`), so the call site is captured (cheaply: V8 formats a stack only when asked) for each
// request that may block, and the wait is reported when the answer says it waited, or, still
// unanswered after PENDING_MS, by a check every CHECK_MS, so a stuck consumer's get is in the
// table while it is stuck. A wait known to block from the start (a join of a running child, a lock
// held by another task of this process) is reported at once.

import { fileURLToPath } from 'node:url';
import type { WireWaitKind } from '../protocol.ts';
import { broker } from './connection.ts';
import { runNow } from './context.ts';

/** A wait that lasts this long (ms) is reported, where nothing says whether it blocked. */
export const WAIT_MS = 1;
/**
 * A request to the monitor still unanswered after this long (ms) is reported as a wait while it
 * lasts: a round trip takes far less, even on a loaded machine.
 */
const PENDING_MS = 100;
/** How often waits still going on are looked at, ms. */
const CHECK_MS = 250;
/** Frames captured per call site: the program's line is a few frames above the runtime's. */
const SITE_FRAMES = 12;

const RUNTIME_DIR = new URL('.', import.meta.url).href;

/** A wait in progress: what it waits in, where, since when. */
export interface Wait {
  readonly kind: WireWaitKind;
  readonly obj?: string;
  readonly target?: number;
  readonly at: number;
  /** The stack at the call, formatted only if the wait is reported. */
  readonly trace: { stack?: unknown };
  /** Its number, once its begin is sent (-1: not reported, it has no line of the program). */
  w: number;
}

let counter = 0;
const pending = new Set<Wait>();
/** Inside unobserved(): the runtime's own waits, which Python's Pool does not block in either. */
let quiet = 0;

/** Runs `fn`, whose waits (begun before its first await) are the runtime's own: not reported. */
export function unobserved<T>(fn: () => T): T {
  quiet += 1;
  try {
    return fn();
  } finally {
    quiet -= 1;
  }
}
let checker: NodeJS.Timeout | null = null;

/** Starts a wait that may block; `now` reports it at once (it is known to block). */
export function waitBegin(kind: WireWaitKind, what: { obj?: string; target?: number }, now = false): Wait | null {
  if (quiet > 0) return null;
  const trace: { stack?: unknown } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = SITE_FRAMES;
  Error.captureStackTrace(trace, waitBegin);
  Error.stackTraceLimit = limit;
  const wait: Wait = { kind, ...what, at: runNow(), trace, w: 0 };
  if (now) send(wait);
  else {
    pending.add(wait);
    if (!checker) {
      checker = setInterval(check, CHECK_MS);
      checker.unref();
    }
  }
  return wait;
}

/**
 * The wait ended (`timedOut`: it gave up). `waited`: whether it blocked, when the monitor's answer
 * says (it waited in the monitor's list); without it, whether it lasted WAIT_MS.
 */
export function waitEnd(wait: Wait | null, timedOut = false, waited?: boolean): void {
  if (!wait) return;
  pending.delete(wait);
  const at = runNow();
  if (wait.w === 0 && (waited === false || (waited === undefined && at - wait.at < WAIT_MS))) return;
  if (wait.w === 0) send(wait);
  if (wait.w < 0) return;
  broker().send({ k: 'wait', op: 'end', w: wait.w, at, ...(timedOut ? { timeout: true } : {}) });
}

function check(): void {
  const now = runNow();
  for (const wait of pending) {
    if (wait.w === 0 && now - wait.at >= PENDING_MS) send(wait);
  }
  if (pending.size === 0 && checker) {
    clearInterval(checker);
    checker = null;
  }
}

/**
 * Sends the wait's begin, or marks it unreported when no frame of the program called it: the
 * runtime's own waits (a Pool worker waiting for its next task) are procscope's, not the program's.
 */
function send(wait: Wait): void {
  const site = siteOf(wait.trace);
  if (!site) {
    wait.w = -1;
    return;
  }
  wait.w = ++counter;
  broker().send({
    k: 'wait',
    op: 'begin',
    w: wait.w,
    kind: wait.kind,
    ...(wait.obj !== undefined ? { obj: wait.obj } : {}),
    ...(wait.target !== undefined ? { target: wait.target } : {}),
    at: wait.at,
    site,
  });
}

interface CallSite {
  getScriptNameOrSourceURL(): string | null;
  getLineNumber(): number | null;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getTypeName(): string | null;
}

/** [file, line, function] of the first frame of the program in a captured stack, or null. */
function siteOf(trace: { stack?: unknown }): [string, number, string] | null {
  const prepare = Error.prepareStackTrace;
  let sites: CallSite[] = [];
  Error.prepareStackTrace = (_err, calls) => calls;
  try {
    sites = (trace.stack as CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
  }
  const first = sites.find((s) => {
    const file = s.getScriptNameOrSourceURL() ?? '';
    return file !== '' && !file.startsWith(RUNTIME_DIR) && !file.startsWith('node:') && !file.includes('/node_modules/');
  });
  if (!first) return null;
  const url = first.getScriptNameOrSourceURL() ?? '';
  let file = url;
  if (url.startsWith('file://')) {
    try {
      file = fileURLToPath(url);
    } catch {
      // keep the URL
    }
  }
  const type = first.getTypeName();
  const fn = first.getFunctionName() ?? first.getMethodName() ?? '<anonymous>';
  const func = type && type !== 'Object' && !fn.includes('.') && first.getMethodName() ? `${type}.${fn}` : fn;
  return [file.slice(0, 1024), first.getLineNumber() ?? 0, func.slice(0, 256)];
}
