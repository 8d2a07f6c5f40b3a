// Python's multiprocessing.Pool: worker processes named SpawnPoolWorker-N take chunks of tasks
// from a task queue and put results on a result queue; both are ordinary broker queues, so the
// app shows the pool's backlog like any other queue.
//
// Python's Pool (fork, its default on Linux) has every worker alive and waiting before map() hands
// out the first chunk, so every worker takes part. A Node worker boots in ~100 ms, and the first
// one booted would drain a quick map alone while the others start. So each worker says when it
// waits for tasks (a `ready` note on the result queue), and until every worker has said so (or has
// exited) the pool keeps back its last tasks, one for each worker: the first worker starts at
// once, as a spawned Python pool's does, and no worker is left without a task, as in a forked one.

import { cpus } from 'node:os';
import { broker } from './connection.ts';
import { exportNameOf, scenario } from './context.ts';
import { PicklingError, ValueError } from './errors.ts';
import { Process, builtinTargets } from './process.ts';
import { Queue, takeOne } from './queue.ts';
import { takeSamples } from './profiler.ts';
import { unobserved } from './waits.ts';

type Fn<A extends unknown[], R> = (...args: A) => R | Promise<R>;

interface Task {
  job: number;
  index: number;
  fn: string;
  /** Each entry is the argument list of one call. */
  calls: unknown[][];
}

type TaskResult =
  | { job: number; index: number; ok: true; values: unknown[] }
  | { job: number; index: number; ok: false; error: { name: string; message: string; stack?: string } };

/** A worker (by pid) is waiting for its first task. */
interface Ready {
  ready: number;
}

/** multiprocessing.TimeoutError, raised by AsyncResult.get(timeout). */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

const errorClasses: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};

function revivedError(e: { name: string; message: string; stack?: string }): Error {
  const Ctor = errorClasses[e.name] ?? Error;
  const err = new Ctor(e.message);
  if (!(e.name in errorClasses)) err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The loop every pool worker runs: the Python pool's `worker()` function. */
async function poolWorker(tasks: Queue<Task | null>, results: Queue<TaskResult | Ready>): Promise<void> {
  const exports = scenario().exports ?? {};
  let done = 0;
  let failed = 0;
  await results.put({ ready: process.pid });
  for (;;) {
    const task = await takeOne(tasks);
    if (task === null) return;
    const fn = exports[task.fn];
    try {
      if (typeof fn !== 'function') throw new PicklingError(`pool task ${task.fn} is not an exported function`);
      const values: unknown[] = [];
      for (const call of task.calls) values.push(await (fn as (...a: unknown[]) => unknown)(...call));
      // Before the result: once the last one is in, the pool may end this worker (terminate()).
      takeSamples();
      await results.put({ job: task.job, index: task.index, ok: true, values });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      failed += 1;
      takeSamples();
      await results.put({ job: task.job, index: task.index, ok: false, error: { name: e.name, message: e.message, stack: e.stack } });
    }
    // Counted as Python counts them (one chunk, one task), for the worker's row in the window.
    done += 1;
    broker().send({ k: 'task', done, failed });
  }
}
builtinTargets.set('pool-worker', poolWorker as never);

interface Job {
  chunks: number;
  done: number;
  onChunk(index: number, values: unknown[]): void;
  onError(err: Error): void;
}

export class AsyncResult<R> {
  #settled = false;
  #ok = false;
  #value: R | undefined;
  #error: Error | undefined;
  readonly #promise: Promise<R>;

  constructor(promise: Promise<R>) {
    this.#promise = promise.then(
      (v) => {
        this.#settled = true;
        this.#ok = true;
        this.#value = v;
        return v;
      },
      (e: Error) => {
        this.#settled = true;
        this.#error = e;
        throw e;
      },
    );
    this.#promise.catch(() => {});
  }

  /** Resolves with the result; rejects with the task's error, or TimeoutError after `timeout` s. */
  async get(timeout?: number | null): Promise<R> {
    if (timeout === undefined || timeout === null) return this.#promise;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), timeout * 1000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async wait(timeout?: number | null): Promise<void> {
    await this.get(timeout).catch(() => {});
  }

  ready(): boolean {
    return this.#settled;
  }

  successful(): boolean {
    if (!this.#settled) throw new ValueError(`${this} not ready`);
    return this.#ok;
  }

  /** The value if ready and successful (synchronous peek). */
  get value(): R | undefined {
    return this.#value;
  }

  get error(): Error | undefined {
    return this.#error;
  }
}

type PoolState = 'run' | 'close' | 'terminate';

export class Pool {
  readonly #workers: Process[] = [];
  readonly #tasks = new Queue<Task | null>();
  readonly #results = new Queue<TaskResult | Ready>();
  readonly #jobs = new Map<number, Job>();
  /** Pids of workers waiting for tasks, or exited. */
  readonly #settled = new Set<number>();
  /** Tasks (and close()'s sentinels) kept back until every worker is settled; null from then on. */
  #held: (Task | null)[] | null = [];
  #nextJob = 1;
  #state: PoolState = 'run';
  #collecting = false;

  constructor(processes?: number | null) {
    const n = processes ?? (cpus().length || 1);
    if (!Number.isInteger(n) || n < 1) throw new ValueError('Number of processes must be at least 1');
    for (let i = 0; i < n; i++) {
      const w = new Process({ target: poolWorker as never, args: [this.#tasks, this.#results] });
      // Python: w.name = w.name.replace('Process', 'PoolWorker') on a SpawnProcess.
      w.name = w.name.replace('Process', 'SpawnPoolWorker');
      w.daemon = true;
      w.start();
      this.#workers.push(w);
      // A worker that dies before it is ready must not hold the tasks back for ever.
      const pid = w.pid;
      // The pool watches its workers end; Python's pool polls them: neither is the program waiting.
      if (pid !== null) void unobserved(() => w.join()).then(() => this.#settle(pid));
    }
  }

  /** `with Pool(n) as p:` — runs `fn` and terminates the pool afterwards, as Python's __exit__ does. */
  static async with<R>(processes: number | null | undefined, fn: (pool: Pool) => R | Promise<R>): Promise<R> {
    const pool = new Pool(processes);
    try {
      return await fn(pool);
    } finally {
      pool.terminate();
      await pool.join();
    }
  }

  get processes(): readonly Process[] {
    return this.#workers;
  }

  async map<A, R>(fn: Fn<[A], R>, iterable: Iterable<A>, chunksize?: number | null): Promise<R[]> {
    return this.mapAsync(fn, iterable, chunksize).get();
  }

  async starmap<A extends unknown[], R>(fn: Fn<A, R>, iterable: Iterable<A>, chunksize?: number | null): Promise<R[]> {
    return this.#submit<R>(fn, [...iterable].map((a) => [...a]), chunksize ?? null).get();
  }

  mapAsync<A, R>(fn: Fn<[A], R>, iterable: Iterable<A>, chunksize?: number | null): AsyncResult<R[]> {
    return this.#submit(fn, [...iterable].map((a) => [a]), chunksize ?? null);
  }

  async apply<A extends unknown[], R>(fn: Fn<A, R>, args?: A): Promise<R> {
    return this.applyAsync(fn, args).get();
  }

  applyAsync<A extends unknown[], R>(
    fn: Fn<A, R>,
    args?: A,
    callback?: (value: R) => void,
    errorCallback?: (err: Error) => void,
  ): AsyncResult<R> {
    const all = this.#submit<R>(fn as Fn<unknown[], R>, [args ?? []], 1);
    const one = new AsyncResult<R>(all.get().then((v) => v[0]));
    one.get().then(callback ?? (() => {}), errorCallback ?? (() => {}));
    return one;
  }

  /** Results in input order, as each becomes available (default chunksize 1, as Python). */
  imap<A, R>(fn: Fn<[A], R>, iterable: Iterable<A>, chunksize = 1): AsyncIterable<R> {
    return this.#iterate(fn, iterable, chunksize, true);
  }

  /** Results in completion order. */
  imapUnordered<A, R>(fn: Fn<[A], R>, iterable: Iterable<A>, chunksize = 1): AsyncIterable<R> {
    return this.#iterate(fn, iterable, chunksize, false);
  }

  /** No more tasks: workers exit once the queued ones are done. */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    this.#hand(this.#workers.map(() => null));
    this.#collect();
  }

  /** Stops the workers now (SIGTERM), outstanding work is dropped. */
  terminate(): void {
    if (this.#state === 'terminate') return;
    this.#state = 'terminate';
    if (this.#held) this.#held.length = 0;
    for (const w of this.#workers) if (w.exitcode === null) w.terminate();
    for (const job of this.#jobs.values()) job.onError(new ValueError('Pool was terminated'));
    this.#jobs.clear();
  }

  async join(): Promise<void> {
    if (this.#state === 'run') throw new ValueError('Pool is still running');
    for (const w of this.#workers) await w.join();
  }

  #check(fn: unknown): string {
    if (this.#state !== 'run') throw new ValueError('Pool not running');
    const name = typeof fn === 'function' ? exportNameOf(fn) : null;
    if (!name) {
      const label = typeof fn === 'function' && fn.name ? `'${fn.name}'` : 'an anonymous function';
      throw new PicklingError(
        `cannot send ${label} to the pool: it is not exported from the scenario module; ` +
          'workers find functions by export name, as pickle finds them by reference',
      );
    }
    return name;
  }

  #chunks(calls: unknown[][], chunksize: number | null): unknown[][][] {
    let size = chunksize ?? 0;
    if (chunksize === null) {
      // Python: chunksize, extra = divmod(len(iterable), len(self._pool) * 4); if extra: chunksize += 1
      size = Math.floor(calls.length / (this.#workers.length * 4));
      if (calls.length % (this.#workers.length * 4)) size += 1;
    }
    if (size < 1) size = 1;
    const out: unknown[][][] = [];
    for (let i = 0; i < calls.length; i += size) out.push(calls.slice(i, i + size));
    return out;
  }

  #submit<R>(fn: unknown, calls: unknown[][], chunksize: number | null): AsyncResult<R[]> {
    const name = this.#check(fn);
    const chunks = this.#chunks(calls, chunksize);
    const results: unknown[][] = new Array(chunks.length);
    const promise = new Promise<R[]>((resolve, reject) => {
      if (chunks.length === 0) {
        resolve([]);
        return;
      }
      const id = this.#nextJob++;
      const job: Job = {
        chunks: chunks.length,
        done: 0,
        onChunk: (index, values) => {
          results[index] = values;
          if (++job.done === job.chunks) {
            this.#jobs.delete(id);
            resolve(results.flat() as R[]);
          }
        },
        onError: reject,
      };
      this.#jobs.set(id, job);
      this.#hand(chunks.map((chunk, index) => ({ job: id, index, fn: name, calls: chunk })));
      this.#collect();
    });
    return new AsyncResult(promise);
  }

  #iterate<A, R>(fn: Fn<[A], R>, iterable: Iterable<A>, chunksize: number, ordered: boolean): AsyncIterable<R> {
    const name = this.#check(fn);
    const chunks = this.#chunks([...iterable].map((a) => [a]), chunksize);
    const ready = new Map<number, unknown[]>();
    const order: number[] = [];
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    const id = this.#nextJob++;
    const job: Job = {
      chunks: chunks.length,
      done: 0,
      onChunk: (index, values) => {
        ready.set(index, values);
        if (!ordered) order.push(index);
        job.done += 1;
        if (job.done === job.chunks) this.#jobs.delete(id);
        wake?.();
      },
      onError: (err) => {
        failure = err;
        this.#jobs.delete(id);
        wake?.();
      },
    };
    if (chunks.length > 0) {
      this.#jobs.set(id, job);
      this.#hand(chunks.map((chunk, index) => ({ job: id, index, fn: name, calls: chunk })));
      this.#collect();
    }
    return {
      [Symbol.asyncIterator]: async function* () {
        let next = 0;
        for (let yielded = 0; yielded < chunks.length; yielded++) {
          for (;;) {
            if (failure) throw failure;
            const index = ordered ? (ready.has(next) ? next : -1) : (order.shift() ?? -1);
            if (index >= 0) {
              const values = ready.get(index) as unknown[];
              ready.delete(index);
              if (ordered) next++;
              for (const v of values) yield v as R;
              break;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
        }
      },
    };
  }

  /**
   * Queues tasks for the workers, in order. Until they are all ready, the last `workers` tasks
   * (and close()'s sentinels after them) wait: one for each worker, whenever it comes, since the
   * queue serves waiting workers first come, first served.
   */
  #hand(items: (Task | null)[]): void {
    if (!this.#held) {
      for (const item of items) void this.#tasks.put(item);
      return;
    }
    this.#held.push(...items);
    let tasks = this.#held.filter((t) => t !== null).length;
    while (this.#held[0] && tasks > this.#workers.length) {
      void this.#tasks.put(this.#held.shift() as Task);
      tasks -= 1;
    }
  }

  #settle(pid: number): void {
    this.#settled.add(pid);
    if (!this.#held || this.#settled.size < this.#workers.length) return;
    const held = this.#held;
    this.#held = null;
    this.#hand(held);
  }

  /**
   * Reads results while jobs are outstanding, and the workers' ready notes while tasks are held;
   * idle pools leave no pending request behind.
   */
  #collect(): void {
    if (this.#collecting) return;
    this.#collecting = true;
    // The pool's own wait for results (every later get has no frame of the program either).
    void unobserved(async () => {
      try {
        while (this.#jobs.size > 0 || (this.#held !== null && this.#held.length > 0)) {
          const r = await this.#results.get();
          if ('ready' in r) {
            this.#settle(r.ready);
            continue;
          }
          const job = this.#jobs.get(r.job);
          if (!job) continue;
          if (r.ok) job.onChunk(r.index, r.values);
          else {
            this.#jobs.delete(r.job);
            job.onError(revivedError(r.error));
          }
        }
      } catch (err) {
        for (const job of this.#jobs.values()) job.onError(err as Error);
        this.#jobs.clear();
      } finally {
        this.#collecting = false;
      }
    });
  }
}
