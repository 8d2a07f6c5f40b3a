// Python's multiprocessing.Barrier: `parties` processes wait until all have arrived, then go on
// together (a generation). It lives in the monitor's broker. A wait that times out breaks it, as
// abort() does: every waiter then gets BrokenBarrierError, until reset(). Python's `action` (a
// callable run by one party at each release) is not offered: a function cannot cross to the
// other processes.

import { broker } from './connection.ts';
import { newObjectId } from './context.ts';
import { BrokenBarrierError, ValueError } from './errors.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';

export interface BarrierOptions {
  /** The default timeout of wait(), seconds (Python's `timeout=`); null: none. */
  timeout?: number | null;
}

export class Barrier implements Shareable {
  readonly #id: string;
  readonly #parties: number;
  readonly #timeout: number | null;

  constructor(parties: number, options: BarrierOptions = {}) {
    const ref = reviving();
    if (ref) {
      this.#id = ref.id;
      this.#parties = ref.n ?? 1;
      this.#timeout = ref.timeout ?? null;
      return;
    }
    if (!Number.isInteger(parties) || parties < 1) throw new ValueError('parties must be > 0');
    this.#parties = parties;
    this.#timeout = options.timeout ?? null;
    this.#id = newObjectId('barrier');
    broker().send({ k: 'snew', s: this.#id, kind: 'barrier', parties });
  }

  get id(): string {
    return this.#id;
  }

  /** How many must arrive. */
  get parties(): number {
    return this.#parties;
  }

  [HANDLE](): HandleRef {
    return { kind: 'barrier', id: this.#id, n: this.#parties, timeout: this.#timeout };
  }

  /**
   * Waits until `parties` processes have called wait(); resolves this one's arrival index
   * (0 .. parties - 1). Rejects with BrokenBarrierError when the barrier is or becomes broken
   * (its timeout passing breaks it).
   */
  async wait(timeout: number | null = this.#timeout): Promise<number> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'swait', rid, s, timeout: timeout === null ? null : Math.max(0, timeout) }));
    if (reply.k === 'ok') return reply.n ?? 0;
    if (reply.message === 'BrokenBarrierError' || reply.why === 'Timeout') throw new BrokenBarrierError();
    throw new Error(reply.message ?? 'barrier wait failed');
  }

  /** Breaks the barrier: waiters now and later get BrokenBarrierError. */
  abort(): void {
    broker().send({ k: 'sop', s: this.#id, op: 'abort' });
  }

  /** Back to its first state; waiters now get BrokenBarrierError. */
  reset(): void {
    broker().send({ k: 'sop', s: this.#id, op: 'reset' });
  }

  /** Python's n_waiting. */
  async nWaiting(): Promise<number> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'sget', rid, s, what: 'waiting' }));
    return reply.k === 'ok' ? (reply.n ?? 0) : 0;
  }

  /** Python's broken. */
  async broken(): Promise<boolean> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'sget', rid, s, what: 'broken' }));
    return reply.k === 'ok' && reply.n === 1;
  }

  toString(): string {
    return `<Barrier ${this.#id} parties=${this.#parties}>`;
  }
}

registerReviver('barrier', () => new Barrier(1));
