// Python's multiprocessing.Semaphore and BoundedSemaphore. The semaphore lives in the monitor's
// broker, which therefore knows every holder (one per permit) and waiter, logs them as a `lock`
// with several holders, and finds deadlocks through it. Unlike a Lock it is never lent: any
// process may release it, so its count is only known in one place.
//
// release() is a promise here (Python's is synchronous): a BoundedSemaphore refuses a release past
// its initial value with Python's ValueError, and only the broker can tell. Await it to catch the
// error; left unawaited, a refused release ends the process as any uncaught error does.

import { broker } from './connection.ts';
import { newObjectId } from './context.ts';
import { OSError, ValueError } from './errors.ts';
import { acquireArgs, type AcquireOptions } from './lock.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';

export class Semaphore implements Shareable {
  readonly #id: string;
  readonly #bounded: boolean;
  /** A BoundedSemaphore's bound (its initial value). */
  readonly #max: number;

  constructor(value = 1) {
    const ref = reviving();
    this.#bounded = ref ? ref.sub === 'bounded' : new.target === BoundedSemaphore;
    if (ref) {
      this.#id = ref.id;
      this.#max = ref.n ?? 1;
      return;
    }
    // multiprocessing's SemLock: sem_open refuses a negative value.
    if (!Number.isInteger(value) || value < 0) throw new OSError('[Errno 22] Invalid argument');
    this.#max = value;
    this.#id = newObjectId('semaphore');
    broker().send({ k: 'lnew', l: this.#id, kind: this.#bounded ? 'bounded-semaphore' : 'semaphore', value });
  }

  get id(): string {
    return this.#id;
  }

  [HANDLE](): HandleRef {
    return { kind: 'semaphore', id: this.#id, n: this.#max, ...(this.#bounded ? { sub: 'bounded' } : {}) };
  }

  /** Resolves true once a permit is taken; false if non-blocking and none is free, or when the timeout passes. */
  async acquire(block: boolean | AcquireOptions = true, timeout?: number | null): Promise<boolean> {
    const w = acquireArgs(block, timeout);
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'acq', rid, l: s, block: w.block, timeout: w.timeout }));
    if (reply.k === 'ok') return true;
    if (reply.why === 'Error') throw new Error(reply.message ?? 'semaphore acquire failed');
    return false;
  }

  /** Gives a permit back (any process may). A BoundedSemaphore past its initial value rejects with ValueError. */
  release(): Promise<void> {
    const client = broker();
    const s = this.#id;
    if (!this.#bounded) {
      client.send({ k: 'rel', l: s });
      return Promise.resolve();
    }
    return client.request((rid) => ({ k: 'rel', l: s, rid })).then((reply) => {
      if (reply.k === 'fail') throw new ValueError('semaphore or lock released too many times');
    });
  }

  /** Python's get_value(): permits free now, as the broker counts them. */
  async getValue(): Promise<number> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'sget', rid, s, what: 'value' }));
    return reply.k === 'ok' ? (reply.n ?? 0) : 0;
  }

  /** Python's `with sem:` — acquire, run, release even if `fn` throws. */
  async with<R>(fn: () => R | Promise<R>): Promise<R> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  toString(): string {
    return this.#bounded ? `<BoundedSemaphore ${this.#id} maxvalue=${this.#max}>` : `<Semaphore ${this.#id}>`;
  }
}

/** A Semaphore that refuses to be released past its initial value. */
export class BoundedSemaphore extends Semaphore {}

registerReviver('semaphore', () => (reviving()?.sub === 'bounded' ? new BoundedSemaphore() : new Semaphore()));
