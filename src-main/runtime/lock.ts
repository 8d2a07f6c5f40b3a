// Python's multiprocessing.Lock. The lock lives in the monitor's broker, which therefore knows
// its holder and every waiter exactly, keeps the wait-for graph and reports deadlocks.

import { broker } from './connection.ts';
import { newObjectId } from './context.ts';
import { ValueError } from './errors.ts';
import { HANDLE, registerReviver, type HandleRef, type Shareable } from './marshal.ts';

export interface AcquireOptions {
  block?: boolean;
  /** Seconds; null or absent waits forever. */
  timeout?: number | null;
}

/** Locks this process holds, by id: release() must answer synchronously, as Python's does. */
const held = new Set<string>();

let revivingId: string | null = null;

export class Lock implements Shareable {
  readonly #id: string;

  constructor() {
    if (revivingId !== null) {
      this.#id = revivingId;
      return;
    }
    this.#id = newObjectId('lock');
    broker().send({ k: 'lnew', l: this.#id });
  }

  get id(): string {
    return this.#id;
  }

  [HANDLE](): HandleRef {
    return { kind: 'lock', id: this.#id };
  }

  static revive(ref: HandleRef): Lock {
    revivingId = ref.id;
    try {
      return new Lock();
    } finally {
      revivingId = null;
    }
  }

  /** Resolves true once held; false if non-blocking and busy, or when the timeout passes. */
  async acquire(block: boolean | AcquireOptions = true, timeout?: number | null): Promise<boolean> {
    const opts: AcquireOptions = typeof block === 'object' && block !== null ? block : { block, timeout };
    const b = opts.block ?? true;
    const t = b ? (opts.timeout ?? null) : null;
    const l = this.#id;
    // Python treats a negative timeout as "wait forever" for locks.
    const reply = await broker().request((rid) => ({ k: 'acq', rid, l, block: b, timeout: t !== null && t < 0 ? null : t }));
    if (reply.k === 'ok') {
      held.add(l);
      return true;
    }
    if (reply.why === 'Error') throw new Error(reply.message ?? 'lock acquire failed');
    return false;
  }

  /**
   * Releases the lock. Python lets any process release a multiprocessing.Lock; here only the
   * holder can, because release() must answer synchronously and only the holder knows it holds.
   */
  release(): void {
    if (!held.has(this.#id)) throw new ValueError('semaphore or lock released too many times');
    held.delete(this.#id);
    broker().send({ k: 'rel', l: this.#id });
  }

  /** Python's `with lock:` — acquire, run, release even if `fn` throws. */
  async with<R>(fn: () => R | Promise<R>): Promise<R> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  toString(): string {
    return `<Lock ${this.#id}${held.has(this.#id) ? ' held here' : ''}>`;
  }
}

registerReviver('lock', (ref) => Lock.revive(ref));
