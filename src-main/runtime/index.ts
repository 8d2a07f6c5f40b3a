// The public API of procscope's runtime: what a scenario imports as 'procscope'.
// Names and behaviour follow Python's multiprocessing (camelCased); see docs/scenarios.md.

import { ENV_INTERACTIVE } from '../protocol.ts';
import { self, type SelfInfo } from './context.ts';

export { Process, activeChildren, type ProcessOptions, type Target } from './process.ts';
export { Queue, type WaitOptions } from './queue.ts';
export { Lock, type AcquireOptions } from './lock.ts';
export { Semaphore, BoundedSemaphore } from './semaphore.ts';
export { Condition } from './condition.ts';
export { Event } from './event.ts';
export { Barrier, type BarrierOptions } from './barrier.ts';
export { Manager, DictProxy, ListProxy, NamespaceProxy, ValueProxy, ArrayProxy } from './manager.ts';
export { Pool, AsyncResult, TimeoutError } from './pool.ts';
export {
  Empty,
  Full,
  AssertionError,
  ValueError,
  PicklingError,
  BrokenBarrierError,
  KeyError,
  IndexError,
  AttributeError,
  OSError,
} from './errors.ts';

export type CurrentProcess = Readonly<Omit<SelfInfo, 'identity'>>;

/** Python's current_process(): name, pid, ppid and daemon flag of the calling process. */
export function currentProcess(): CurrentProcess {
  return { name: self.name, pid: self.pid, ppid: self.ppid, daemon: self.daemon };
}

/** Python's parent_process() reduced to what crosses: the parent's pid, or null for the main process. */
export function parentPid(): number | null {
  return self.identity.length === 0 ? null : self.ppid;
}

/**
 * True when the run is shown in procscope's window, where a person can call members of Process
 * objects (start, join, terminate, kill, close) while the program runs.
 */
export function interactive(): boolean {
  return process.env[ENV_INTERACTIVE] === '1';
}

/** Used by the child entry point only. */
export { boot as __boot } from './boot.ts';
