// Python's multiprocessing.Event: a flag that processes wait for. It lives in the monitor's
// broker, which lets every waiter go at set() and logs which ones that set() released.
// is_set() asks the broker, so it is awaited here.

import { broker } from './connection.ts';
import { newObjectId } from './context.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';

export class Event implements Shareable {
  readonly #id: string;

  constructor() {
    const ref = reviving();
    if (ref) {
      this.#id = ref.id;
      return;
    }
    this.#id = newObjectId('event');
    broker().send({ k: 'snew', s: this.#id, kind: 'event' });
  }

  get id(): string {
    return this.#id;
  }

  [HANDLE](): HandleRef {
    return { kind: 'event', id: this.#id };
  }

  /** Python's is_set(). */
  async isSet(): Promise<boolean> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'sget', rid, s, what: 'set' }));
    return reply.k === 'ok' && reply.n === 1;
  }

  /** Sets the flag: every process waiting goes on, and later waits pass at once. */
  set(): void {
    broker().send({ k: 'sop', s: this.#id, op: 'set' });
  }

  /** Clears the flag: later waits block until the next set(). */
  clear(): void {
    broker().send({ k: 'sop', s: this.#id, op: 'clear' });
  }

  /** Waits until the flag is set, or `timeout` seconds; resolves whether it is set. */
  async wait(timeout: number | null = null): Promise<boolean> {
    const s = this.#id;
    const reply = await broker().request((rid) => ({ k: 'swait', rid, s, timeout: timeout === null ? null : Math.max(0, timeout) }));
    if (reply.k === 'fail' && reply.why === 'Error') throw new Error(reply.message ?? 'event wait failed');
    return reply.k === 'ok';
  }

  toString(): string {
    return `<Event ${this.#id}>`;
  }
}

registerReviver('event', () => new Event());
