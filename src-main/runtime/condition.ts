// Python's multiprocessing.Condition. It lives in the monitor's broker, with its Lock: wait()
// registers the waiter there before it releases the lock, so a notify from whoever takes the lock
// next always finds it; it then waits for the broker's word (or its timeout) and takes the lock
// again before it returns, as Python's does. notify(n) wakes the n oldest waiters; the log says
// who woke whom.
//
// The default lock is a Lock (Python's is an RLock: a thread owns it, and a JavaScript process has
// one thread, whose tasks cannot be told apart).

import { broker } from './connection.ts';
import { newObjectId, runNow } from './context.ts';
import { AssertionError } from './errors.ts';
import { holdsLock, Lock, type AcquireOptions } from './lock.ts';
import { HANDLE, registerReviver, revive, reviving, type HandleRef, type Shareable } from './marshal.ts';

export class Condition implements Shareable {
  readonly #id: string;
  readonly #lock: Lock;

  constructor(lock?: Lock) {
    const ref = reviving();
    if (ref) {
      this.#id = ref.id;
      this.#lock = revive(ref.inner as HandleRef) as Lock;
      return;
    }
    this.#lock = lock ?? new Lock();
    this.#id = newObjectId('condition');
    broker().send({ k: 'snew', s: this.#id, kind: 'condition', lock: this.#lock.id });
  }

  get id(): string {
    return this.#id;
  }

  /** The lock it waits with. */
  get lock(): Lock {
    return this.#lock;
  }

  [HANDLE](): HandleRef {
    return { kind: 'condition', id: this.#id, inner: this.#lock[HANDLE]() };
  }

  acquire(block: boolean | AcquireOptions = true, timeout?: number | null): Promise<boolean> {
    return this.#lock.acquire(block, timeout);
  }

  release(): void {
    this.#lock.release();
  }

  /** Python's `with cond:` — holds the lock while `fn` runs. */
  with<R>(fn: () => R | Promise<R>): Promise<R> {
    return this.#lock.with(fn);
  }

  /**
   * Releases the lock, waits to be notified (or for `timeout` seconds), takes the lock again.
   * Resolves false when the timeout passed. The lock must be held, as in Python.
   */
  async wait(timeout: number | null = null): Promise<boolean> {
    if (!holdsLock(this.#lock.id)) throw new AssertionError('must acquire() condition before using wait()');
    const s = this.#id;
    const client = broker();
    // Registered before the release, in that order on the connection.
    const reply = client.request((rid) => ({ k: 'swait', rid, s, timeout: timeout === null ? null : Math.max(0, timeout), at: runNow() }));
    this.#lock.release();
    const r = await reply;
    await this.#lock.acquire();
    if (r.k === 'fail' && r.why === 'Error') throw new Error(r.message ?? 'condition wait failed');
    return r.k === 'ok';
  }

  /** Python's wait_for(): waits until `predicate()` is truthy, or the timeout passes; resolves its last value. */
  async waitFor<T>(predicate: () => T | Promise<T>, timeout: number | null = null): Promise<T> {
    let result = await predicate();
    const end = timeout === null ? null : performance.now() + timeout * 1000;
    while (!result) {
      let wait: number | null = null;
      if (end !== null) {
        wait = (end - performance.now()) / 1000;
        if (wait <= 0) break;
      }
      await this.wait(wait);
      result = await predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (the oldest). The lock must be held. */
  notify(n = 1): void {
    if (!holdsLock(this.#lock.id)) throw new AssertionError('lock is not owned');
    broker().send({ k: 'sop', s: this.#id, op: 'notify', n: Math.max(0, Math.floor(n)), at: runNow() });
  }

  /** Wakes every waiter. The lock must be held. */
  notifyAll(): void {
    if (!holdsLock(this.#lock.id)) throw new AssertionError('lock is not owned');
    broker().send({ k: 'sop', s: this.#id, op: 'notify', n: -1, at: runNow() });
  }

  toString(): string {
    return `<Condition ${this.#id} ${this.#lock}>`;
  }
}

registerReviver('condition', () => new Condition());
