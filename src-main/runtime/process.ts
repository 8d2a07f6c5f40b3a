// Python's multiprocessing.Process on real OS processes. Every child is started by this process
// (so its ppid is ours), fresh like Python's `spawn` start method: a new Node process that loads
// the scenario module and runs the target it finds there by export name.

import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { serialize } from 'node:v8';
import { exitcodeName, exitcodeOf } from '../common/exitcode.ts';
import { broker } from './connection.ts';
import { exportNameOf, nextIdentity, scenario, self } from './context.ts';
import { AssertionError, PicklingError, ValueError } from './errors.ts';
import { marshal } from './marshal.ts';
import { waitBegin, waitEnd } from './waits.ts';
import { dropSpare, takeSpare } from './spares.ts';

export { prewarm } from './spares.ts';

export type Target = (...args: never[]) => unknown;

export interface ProcessOptions {
  target?: Target | null;
  args?: readonly unknown[];
  name?: string;
  daemon?: boolean;
}

/** What a child reads from fd 3 to become the process its parent started. */
export interface ChildSpec {
  /** Export name of the Process subclass, or null for a plain Process. */
  cls: string | null;
  /** Export name of the target function, or a `builtin:` name for runtime-owned targets. */
  target: string | null;
  args: Uint8Array;
  state: Uint8Array | null;
  name: string;
  daemon: boolean;
  identity: number[];
  /** The Process object in the parent that this process is (its hello says so). */
  handle: string;
  /**
   * Messages the parent had sent when it started this process: the monitor lists the child only
   * once it has read that many from the parent (the exit of the sibling it joined comes first).
   */
  after: number;
  /** The parent's working directory and environment at start(): a spare was spawned earlier. */
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** Functions the runtime itself runs in children (Pool workers), addressed as `builtin:<name>`. */
export const builtinTargets = new Map<string, Target>();

/** Process objects of this process that are not closed, by handle: what the window may control. */
const registry = new Map<string, Process>();

/**
 * Runs a control from the window on one of our Process objects: the real member, in the real
 * parent, so the answer (exit codes, Python's errors) is exactly what the program would see.
 */
export async function runControl(
  op: 'start' | 'join' | 'terminate' | 'kill' | 'close',
  handle: string,
  timeout: number | null,
): Promise<{ ok: boolean; text: string; exitcode: number | null; alive: boolean }> {
  const p = registry.get(handle);
  if (!p) return { ok: false, text: 'ValueError: process object is closed', exitcode: null, alive: false };
  const state = () => {
    try {
      return { exitcode: p.exitcode, alive: p.isAlive() };
    } catch {
      return { exitcode: null, alive: false };
    }
  };
  try {
    if (op === 'start') p.start();
    else if (op === 'join') await p.join(timeout);
    else if (op === 'terminate') p.terminate();
    else if (op === 'kill') p.kill();
    else p.close();
    return { ok: true, text: 'None', ...state() };
  } catch (err) {
    const e = err as Error;
    return { ok: false, text: `${e.name}: ${e.message}`, ...state() };
  }
}

/** Python's `_children`: processes started here and not yet closed. */
const children = new Set<Process>();

type State = 'initial' | 'started' | 'closed';

let reviving = false;

function describe(fn: unknown): string {
  return typeof fn === 'function' && fn.name ? `'${fn.name}'` : 'an anonymous function';
}

export class Process {
  #state: State = 'initial';
  #name: string;
  #daemon: boolean;
  #target: Target | null;
  #args: readonly unknown[];
  #identity: number[];
  #child: ChildProcess | null = null;
  #pid: number | null = null;
  #exitcode: number | null = null;
  #exited: Promise<void> | null = null;
  /** Id of this object within the run, for the window's controls (Python has id(p)). */
  #handle = '';
  #announced = false;
  #closedWaiters: (() => void)[] = [];
  /** Python's `_parent_pid`: the process that created this object. */
  #parentPid = process.pid;
  /** This object is the calling process itself (a child's revived Process). */
  #current = false;

  constructor(opts: ProcessOptions = {}) {
    this.#target = opts.target ?? null;
    this.#args = opts.args ?? [];
    this.#daemon = opts.daemon ?? false;
    if (reviving) {
      this.#identity = [];
      this.#name = '';
      return;
    }
    this.#identity = nextIdentity();
    // Python: type(self).__name__ + '-' + ':'.join(identity), so a subclass Foo is 'Foo-1'.
    const cls = new.target === Process ? 'Process' : new.target.name || 'Process';
    this.#name = opts.name ?? `${cls}-${this.#identity.join(':')}`;
    this.#handle = `${process.pid}.${this.#identity.join(':')}`;
    registry.set(this.#handle, this);
    // After the constructor chain: a subclass usually sets its name right after super().
    queueMicrotask(() => this.#announce());
  }

  get name(): string {
    return this.#name;
  }
  set name(v: string) {
    if (typeof v !== 'string') throw new TypeError('name must be a string');
    this.#name = v;
  }

  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(v: boolean) {
    if (this.#state !== 'initial') throw new AssertionError('process has already started');
    this.#daemon = Boolean(v);
  }

  get pid(): number | null {
    this.#checkClosed();
    return this.#pid;
  }

  /** Python's `ident`, the same as pid. */
  get ident(): number | null {
    return this.pid;
  }

  get exitcode(): number | null {
    this.#checkClosed();
    return this.#exitcode;
  }

  /** Method to be run in the child; override it in a subclass (Python's `run`). */
  run(): unknown {
    // Called as a plain function, as Python calls self._target(*args): no `this` inside it, and
    // tracebacks read `at target`, not `at Process.target`.
    const target = this.#target as ((...a: unknown[]) => unknown) | null;
    if (target) return target(...this.#args);
    return undefined;
  }

  /** This object's id in the run log (`created`, `process` and `closed` events). */
  get handle(): string {
    return this.#handle;
  }

  #announce(): void {
    if (this.#announced || !this.#handle) return;
    this.#announced = true;
    broker().send({ k: 'created', handle: this.#handle, name: this.#name, daemon: this.#daemon });
  }

  /** Resolves when this object is closed (by the program, or by a person at the window). */
  waitClosed(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    // A pending promise alone would let Node exit: hold the process open until then.
    const keepAlive = setInterval(() => {}, 1 << 30);
    return new Promise((resolve) =>
      this.#closedWaiters.push(() => {
        clearInterval(keepAlive);
        resolve();
      }),
    );
  }

  start(): void {
    this.#checkClosed();
    if (this.#state !== 'initial') throw new AssertionError('cannot start a process twice');
    if (self.daemon) throw new AssertionError('daemonic processes are not allowed to have children');
    const spec = this.#spec();
    const client = broker();
    this.#announce();
    // Queues and locks created just before start() must reach the broker before the child uses them.
    client.flush();
    const child = takeSpare();
    if (child.pid === undefined) {
      throw new Error(`cannot start ${this.#name}: spawning ${process.execPath} failed`);
    }
    child.ref();
    const pipe = child.stdio[3] as Socket;
    pipe.end(serialize({ ...spec, after: client.sent, cwd: process.cwd(), env: { ...process.env } } satisfies ChildSpec));
    this.#child = child;
    this.#pid = child.pid;
    this.#state = 'started';
    children.add(this);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitcode = exitcodeOf(code, signal, constants.signals);
        if (!client.isClosed) client.send({ k: 'exited', pid: child.pid as number, exitcode: this.#exitcode });
        resolve();
      });
    });
    child.once('error', () => {});
    client.send({ k: 'spawned', pid: child.pid, name: this.#name, daemon: this.#daemon, handle: this.#handle });
  }

  /** Waits for the process to end, or for `timeout` seconds. Returns with it still alive on timeout. */
  async join(timeout?: number | null): Promise<void> {
    this.#checkClosed();
    if (this.#state !== 'started' || !this.#exited) throw new AssertionError('can only join a started process');
    if (this.#exitcode !== null) return;
    // The child runs: this join blocks until it ends.
    const wait = this.#pid !== null ? waitBegin('join', { target: this.#pid }, true) : null;
    if (timeout === undefined || timeout === null) {
      await this.#exited;
      if (wait) waitEnd(wait);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, timeout) * 1000);
      }),
    ]);
    clearTimeout(timer);
    if (wait) waitEnd(wait, this.#exitcode === null);
  }

  isAlive(): boolean {
    this.#checkClosed();
    if (this.#state !== 'started') return false;
    return this.#exitcode === null;
  }

  /** SIGTERM; no error when the process has already exited (Python's terminate). */
  terminate(): void {
    this.#signal('SIGTERM');
  }

  /** SIGKILL; no error when the process has already exited (Python's kill). */
  kill(): void {
    this.#signal('SIGKILL');
  }

  close(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'started' && this.#exitcode === null) {
      throw new ValueError(
        'Cannot close a process while it is still running. You should first call join() or terminate().',
      );
    }
    children.delete(this);
    this.#child = null;
    this.#state = 'closed';
    registry.delete(this.#handle);
    if (this.#announced) broker().send({ k: 'closed', handle: this.#handle });
    for (const w of this.#closedWaiters.splice(0)) w();
  }

  /** Python's repr: `<Process name='Process-1' pid=42 parent=41 stopped exitcode=-SIGTERM daemon>`. */
  toString(): string {
    let status: string;
    let exitcode: string | null = null;
    if (this.#current) status = 'started';
    else if (this.#state === 'closed') status = 'closed';
    else if (this.#state === 'initial') status = 'initial';
    else if (this.#exitcode === null) status = 'started';
    else {
      status = 'stopped';
      exitcode = exitcodeName(this.#exitcode, constants.signals);
    }
    const info = [this.constructor.name || 'Process', `name='${this.#name}'`];
    // Python shows the pid while it has a Popen: from start() until close().
    if (this.#state === 'started' && this.#pid !== null) info.push(`pid=${this.#pid}`);
    info.push(`parent=${this.#parentPid}`, status);
    if (exitcode !== null) info.push(`exitcode=${exitcode}`);
    if (this.#daemon) info.push('daemon');
    return `<${info.join(' ')}>`;
  }

  #signal(sig: NodeJS.Signals): void {
    this.#checkClosed();
    if (this.#state !== 'started' || !this.#child) {
      throw new AssertionError(`can only ${sig === 'SIGTERM' ? 'terminate' : 'kill'} a started process`);
    }
    if (this.#exitcode === null) this.#child.kill(sig);
  }

  #checkClosed(): void {
    if (this.#state === 'closed') throw new ValueError('process object is closed');
  }

  /** Like pickling by reference: the child must be able to find the class and target by name. */
  #spec(): Omit<ChildSpec, 'after'> {
    const ctor = this.constructor as typeof Process;
    let cls: string | null = null;
    if (ctor !== Process && !isBuiltinClass(ctor)) {
      cls = exportNameOf(ctor);
      if (!cls) {
        throw new PicklingError(
          `cannot start ${this.#name}: class ${ctor.name || '(anonymous)'} is not exported from ${scenarioLabel()}; ` +
            'a child finds its Process subclass by export name, as pickle finds classes by reference',
        );
      }
    }
    let target: string | null = null;
    if (this.#target) {
      const builtin = [...builtinTargets].find(([, fn]) => fn === this.#target)?.[0];
      target = builtin ? `builtin:${builtin}` : exportNameOf(this.#target);
      if (!target) {
        throw new PicklingError(
          `cannot start ${this.#name}: target ${describe(this.#target)} is not exported from ${scenarioLabel()}; ` +
            'a child finds its target by export name, as pickle finds functions by reference',
        );
      }
    }
    const own = cls ? { ...this } : null;
    try {
      return {
        cls,
        target,
        args: marshal(this.#args),
        state: own && Object.keys(own).length > 0 ? marshal(own) : null,
        name: this.#name,
        daemon: this.#daemon,
        identity: this.#identity,
        handle: this.#handle,
      };
    } catch (err) {
      throw new PicklingError(
        `cannot start ${this.#name}: its arguments cannot be copied to another process (${(err as Error).message})`,
      );
    }
  }

  /** Turns a fresh object into the process this child is: called once, by the child bootstrap. */
  static revive(spec: ChildSpec, cls: typeof Process | null, target: Target | null, args: unknown[]): Process {
    reviving = true;
    let p: Process;
    try {
      p = cls ? Reflect.construct(Process, [], cls) : new Process();
    } finally {
      reviving = false;
    }
    p.#name = spec.name;
    p.#daemon = spec.daemon;
    p.#identity = spec.identity;
    p.#target = target;
    p.#args = args;
    p.#pid = process.pid;
    p.#parentPid = process.ppid;
    p.#current = true;
    p.#state = 'started';
    return p;
  }
}

function scenarioLabel(): string {
  const { path, exports } = scenario();
  if (!exports) return 'the scenario module (start() was called while it was still loading; call it from main)';
  return path;
}

const builtinClasses = new Set<typeof Process>();

/** Runtime-owned subclasses (Pool workers) that need no export. */
export function registerBuiltinClass(c: typeof Process): void {
  builtinClasses.add(c);
}

function isBuiltinClass(c: typeof Process): boolean {
  return builtinClasses.has(c);
}

/** Python's `active_children()`: started, not closed, not yet seen to exit. */
export function activeChildren(): Process[] {
  return [...children].filter((p) => p.exitcode === null);
}

/**
 * Python's `util._exit_function`: when a process's main (or run) returns, its daemonic children
 * are terminated and every child is joined before the process exits.
 */
export async function joinChildrenAtExit(): Promise<void> {
  dropSpare();
  for (const p of activeChildren()) if (p.daemon) p.terminate();
  for (const p of activeChildren()) await p.join();
}
