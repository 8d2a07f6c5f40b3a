// Python's multiprocessing.Lock. The lock lives in the monitor's broker, which therefore knows
// its holder and every waiter, keeps the wait-for graph and reports deadlocks.
//
// Lending: a lock granted while nobody else waits is lent to the process. It then acquires and
// releases it without a round trip, reporting each operation (with its own run-time clock) in
// batches, until the broker recalls it for another process. A process that takes a lock in a
// loop pays one round trip per handoff instead of one per acquire, and every acquire and release
// is still in the log. Like Python's semaphores, this is not first-come-first-served.

import { broker, onRecall, type BrokerClient } from './connection.ts';
import { newObjectId, runNow } from './context.ts';
import { ValueError } from './errors.ts';
import { loopTurned, sinceLoopTurned, turnEventLoop } from './event-loop.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';
import { watchOwnLockWait } from './stuck-lock.ts';
import { waitBegin, waitEnd } from './waits.ts';

export interface AcquireOptions {
  block?: boolean;
  /** Seconds; null or absent waits forever; a negative timeout is 0, as for Python's SemLock. */
  timeout?: number | null;
}

/** acquire()'s arguments, Python's way: `(block, timeout)` or `{ block, timeout }`; a timeout only counts when blocking. */
export function acquireArgs(block: boolean | AcquireOptions, timeout: number | null | undefined): { block: boolean; timeout: number | null } {
  const opts: AcquireOptions = typeof block === 'object' && block !== null ? block : { block, timeout };
  const b = opts.block ?? true;
  const t = opts.timeout ?? null;
  return { block: b, timeout: b && t !== null ? Math.max(0, t) : null };
}

/** Whether this process holds the Lock `id` (a Condition's wait() and notify() require it). */
export function holdsLock(id: string): boolean {
  return locals.get(id)?.held === true;
}

/** What this process knows of a lock, by id: release() must answer synchronously, as Python's does. */
interface LocalLock {
  /** Held by this process (by one of its tasks). */
  held: boolean;
  /** Lent by the broker: acquire and release here, report in batches. */
  lent: boolean;
  /** The broker wants it back: return it at the first release after `deadline`. */
  recalled: boolean;
  /** When the lend began (performance.now()). */
  since: number;
  /** Recalled: the lend's quantum ends here; until then this process may keep taking it. */
  deadline: number;
  /** A recall arrived while the lock was free: it still owes the broker an answer. */
  answerOwed: boolean;
  /** An acquire of this process is asking the broker (its answer may lend the lock). */
  asking: number;
  /**
   * A recall came before the lend it is about: the broker sends the lend and, when others wait,
   * the recall right behind it, and the recall is read before the acquire that awaits the lend
   * goes on. It applies as soon as the lend does.
   */
  recallEarly: boolean;
  timer: NodeJS.Timeout | null;
  /** Other tasks of this process waiting for the lent lock, in order. */
  waiting: { resolve: (ok: boolean) => void; timer: NodeJS.Timeout | null }[];
}

const locals = new Map<string, LocalLock>();

function local(id: string): LocalLock {
  let st = locals.get(id);
  if (!st) {
    st = { held: false, lent: false, recalled: false, since: 0, deadline: 0, answerOwed: false, asking: 0, recallEarly: false, timer: null, waiting: [] };
    locals.set(id, st);
  }
  return st;
}

/** A loop on a lent lock resolves in microtasks only: let the event loop turn this often (ms). */
const LEND_TURN_MS = 2;

/** Reports an operation on a lent lock, folded into the batch already queued when possible. */
function record(client: BrokerClient, l: string, op: 'q' | 'a' | 'r' | 't'): void {
  const at = runNow();
  const last = client.lastQueued();
  if (last && last.k === 'lops' && last.l === l) {
    last.ops += op;
    last.at.push(at);
    client.grew(10);
  } else client.send({ k: 'lops', l, ops: op, at: [at] });
}

/**
 * How long (ms) a borrower may keep a recalled lock: it takes it again and again meanwhile. One
 * handoff costs a few hundred microseconds on a loaded machine; a quantum makes each worth it,
 * and bounds how long the others wait (they are served in turn, as by a scheduler).
 */
const QUANTUM_MS = 1;

/** While recalled, may this process still take its lent lock without asking? */
function inQuantum(st: LocalLock): boolean {
  return !st.recalled || performance.now() < st.deadline;
}

function giveBack(client: BrokerClient, l: string, st: LocalLock): void {
  if (st.timer) clearTimeout(st.timer);
  st.timer = null;
  st.answerOwed = false;
  st.lent = false;
  st.recalled = false;
  client.send({ k: 'lret', l });
  client.flush();
}

// Another process asks for the lock: it goes back now, at the end of the quantum, or at the release.
onRecall('lock', (client, l) => {
  const st = locals.get(l);
  if (st && !st.lent && st.asking > 0) st.recallEarly = true;
  if (st?.lent) recall(client, l, st);
});

function recall(client: BrokerClient, l: string, st: LocalLock): void {
  if (st.recalled) return;
  st.recalled = true;
  st.deadline = st.since + QUANTUM_MS;
  if (st.held) {
    client.send({ k: 'lheld', l });
    client.flush();
  } else if (performance.now() >= st.deadline) {
    giveBack(client, l, st);
  } else {
    // Free now, but the quantum is not over: say nothing yet (it is not held, so no wait on it
    // may count toward a deadlock); at the deadline it goes back unless taken again meanwhile.
    st.answerOwed = true;
    st.timer = setTimeout(() => {
      st.timer = null;
      if (st.lent && !st.held) giveBack(client, l, st);
    }, st.deadline - performance.now());
  }
}

export class Lock implements Shareable {
  readonly #id: string;

  constructor() {
    const ref = reviving();
    if (ref) {
      this.#id = ref.id;
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

  /** Resolves true once held; false if non-blocking and busy, or when the timeout passes. */
  async acquire(block: boolean | AcquireOptions = true, timeout?: number | null): Promise<boolean> {
    const { block: b, timeout: t } = acquireArgs(block, timeout);
    const l = this.#id;
    const client = broker();
    const st = local(l);
    if (st.lent && sinceLoopTurned() > LEND_TURN_MS) await turnEventLoop();
    if (st.lent && inQuantum(st)) {
      record(client, l, 'q');
      if (!st.held) {
        st.held = true;
        record(client, l, 'a');
        if (st.answerOwed) {
          // Taken again within the quantum: now the answer to the recall is "held".
          st.answerOwed = false;
          if (st.timer) clearTimeout(st.timer);
          st.timer = null;
          client.send({ k: 'lheld', l });
        }
        return true;
      }
      // Held by this process (by another task, or by the caller: Lock is not re-entrant): wait
      // here, as a thread would wait in Python.
      if (!b || t === 0) {
        record(client, l, 't');
        return false;
      }
      // Known to block: reported at once.
      const wait = waitBegin('acquire', { obj: l }, true);
      return new Promise<boolean>((resolve) => {
        const w = { resolve, timer: null as NodeJS.Timeout | null };
        if (t !== null && t > 0) {
          w.timer = setTimeout(() => {
            st.waiting.splice(st.waiting.indexOf(w), 1);
            record(client, l, 't');
            resolve(false);
          }, t * 1000);
        }
        st.waiting.push(w);
        if (w.timer === null) watchOwnLockWait(l, () => st.waiting.length > 0);
      }).then((ok) => {
        waitEnd(wait, !ok);
        return ok;
      });
    }
    // Python treats a negative timeout as "wait forever" for locks.
    const wait = b ? waitBegin('acquire', { obj: l }) : null;
    st.asking += 1;
    let reply;
    try {
      reply = await client.request((rid) => ({ k: 'acq', rid, l, block: b, timeout: t !== null && t < 0 ? null : t }));
    } finally {
      st.asking -= 1;
    }
    if (wait) waitEnd(wait, reply.k !== 'ok', reply.waited === true);
    loopTurned();
    // A recall that found no lend to apply to was about one already given back.
    if (!(reply.k === 'ok' && reply.lend) && st.asking === 0) st.recallEarly = false;
    if (reply.k === 'ok') {
      st.held = true;
      if (reply.lend) {
        st.lent = true;
        st.recalled = false;
        st.since = performance.now();
        if (st.recallEarly) {
          st.recallEarly = false;
          recall(client, l, st);
        }
      }
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
    const l = this.#id;
    const st = locals.get(l);
    if (!st?.held) throw new ValueError('semaphore or lock released too many times');
    const client = broker();
    if (!st.lent) {
      st.held = false;
      client.send({ k: 'rel', l });
      return;
    }
    record(client, l, 'r');
    const next = st.waiting.shift();
    if (next && inQuantum(st)) {
      // Straight to the next task of this process: still lent, still held.
      if (next.timer) clearTimeout(next.timer);
      record(client, l, 'a');
      next.resolve(true);
      return;
    }
    st.held = false;
    if (st.recalled && !inQuantum(st)) {
      giveBack(client, l, st);
      // Tasks that waited here now ask the broker, behind whoever recalled the lock.
      const waiting = [...(next ? [next] : []), ...st.waiting.splice(0)];
      for (const w of waiting) {
        if (w.timer) clearTimeout(w.timer);
        void this.acquire().then(w.resolve, () => w.resolve(false));
      }
    } else if (st.recalled && st.timer === null) {
      // Recalled, and released within its quantum: it goes back at the quantum's end unless taken
      // again meanwhile (then at that release). Without this it would stay here, free, while
      // another process waits for it.
      st.timer = setTimeout(() => {
        st.timer = null;
        if (st.lent && !st.held) giveBack(client, l, st);
      }, st.deadline - performance.now());
    }
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
    return `<Lock ${this.#id}${locals.get(this.#id)?.held ? ' held here' : ''}>`;
  }
}

registerReviver('lock', () => new Lock());
