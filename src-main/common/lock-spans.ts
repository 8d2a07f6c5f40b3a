// Who held a lock when, and who waited for it when, from its `lock` events: the one reading of
// the log that the window's lock lanes and the Chrome trace both draw.
//
// A hold runs from the holder's `acquire` until the holder changes (its `release`, a release by
// another process as multiprocessing.Lock allows, or a lost release ended by the next acquire),
// or until `abandoned`: the holder exited holding it, and the lock stays held by nobody alive.
// A wait runs from a `request` that had to wait until the waiter's `acquire`, its `timeout`, or
// its exit.
//
// Whether a request waited: the log says so by listing the requester in `waiters` (a request
// granted at once does not list it). Logs written before that rule still read right: a request
// made while the lock was held, abandoned or queued for is a wait (older TypeScript logs left the
// requester out of `waiters`), and a requester listed alone on a free lock waited only if its
// `acquire` did not follow at the same instant (older Python logs listed it for a moment even
// when it was granted at once). That last case is known at the lock's next event, not before.
//
// A semaphore (its events list `holders`) has a hold per process among its holders, several at
// once, and a request waited exactly when it lists its requester: a holder does not make others
// wait while permits are left.

import type { LockEvent, Pid } from '../api.ts';

export type WaitEnd = 'acquired' | 'timeout' | 'exited';
export type HoldEnd = 'released' | 'abandoned';

/** Receives spans as they open and close, in the order of the events. */
export interface LockSpanSink {
  waitStarted(pid: Pid, t: number): void;
  waitEnded(pid: Pid, t: number, how: WaitEnd): void;
  holdStarted(pid: Pid, t: number): void;
  holdEnded(pid: Pid, t: number, how: HoldEnd): void;
}

/** What a lock event says, as far as spans go. */
export type LockFact = Pick<LockEvent, 't' | 'op' | 'pid' | 'holder' | 'waiters' | 'holders'>;

const NO_PIDS: readonly Pid[] = [];

/** The spans of ONE lock. */
export class LockSpans {
  /** The holder after the last event (it may have exited: see `abandonedBy`). */
  holder: Pid | null = null;
  waiters: readonly Pid[] = NO_PIDS;
  /** The holder that exited holding the lock, while nobody has taken it since. */
  abandonedBy: Pid | null = null;
  readonly #waiting = new Set<Pid>();
  readonly #holding = new Set<Pid>();
  /**
   * Processes that exited, with when: a report of theirs stamped after that opens nothing; one
   * stamped before it (Python's reports can be logged after the exit) counts, and a wait it
   * opens ends at the exit at the latest.
   */
  readonly #gone = new Map<Pid, number>();
  /** A request that waited only if its acquire does not follow at the same instant. */
  #maybe: { pid: Pid; t: number } | null = null;

  constructor(private readonly sink: LockSpanSink) {}

  apply(e: LockFact): void {
    const maybe = this.#maybe;
    if (maybe) {
      this.#maybe = null;
      const atOnce = e.op === 'acquire' && e.pid === maybe.pid && e.t === maybe.t;
      if (!atOnce) this.#startWait(maybe.pid, maybe.t);
    }
    switch (e.op) {
      case 'request':
        this.#request(e);
        break;
      case 'acquire':
        this.#endWait(e.pid, e.t, 'acquired');
        if (e.holder !== this.abandonedBy) this.abandonedBy = null;
        break;
      case 'timeout':
        this.#endWait(e.pid, e.t, 'timeout');
        break;
      case 'abandoned':
        this.abandonedBy = e.pid;
        if (this.#holding.delete(e.pid)) this.sink.holdEnded(e.pid, e.t, 'abandoned');
        break;
      default:
        break;
    }
    this.#followHolder(e);
    this.holder = e.holder;
    this.waiters = e.waiters;
    // A late wait of a process that has exited ends there, once the lock's time has passed it.
    for (const pid of this.#waiting) {
      const end = this.#gone.get(pid);
      if (end !== undefined && end <= e.t) this.#endWait(pid, end, 'exited');
    }
  }

  /** `pid` exited at `t`: a wait it had open ends there (a hold stays until `abandoned` says). */
  exited(pid: Pid, t: number): void {
    if (this.#maybe?.pid === pid) this.settle();
    this.#endWait(pid, t, 'exited');
    this.#gone.set(pid, t);
  }

  /** `pid` started (again: pids are reused): its events count from now on. */
  started(pid: Pid): void {
    this.#gone.delete(pid);
  }

  /** Decides a request still in doubt as a wait (the log ends, or is read up to here). */
  settle(): void {
    const maybe = this.#maybe;
    this.#maybe = null;
    if (maybe) this.#startWait(maybe.pid, maybe.t);
  }

  /** Whether `pid` had exited by `t`. */
  #goneBy(pid: Pid, t: number): boolean {
    const end = this.#gone.get(pid);
    return end !== undefined && t >= end;
  }

  #request(e: LockFact): void {
    const pid = e.pid;
    if (this.#goneBy(pid, e.t) || this.#waiting.has(pid)) return;
    let others = false;
    let listed = false;
    for (const w of e.waiters) {
      if (w === pid) listed = true;
      else others = true;
    }
    if (e.holders !== undefined) {
      if (listed) this.#startWait(pid, e.t);
    } else if (e.holder !== null || this.abandonedBy !== null || others) this.#startWait(pid, e.t);
    else if (listed) this.#maybe = { pid, t: e.t };
  }

  #startWait(pid: Pid, t: number): void {
    if (this.#waiting.has(pid) || this.#goneBy(pid, t)) return;
    this.#waiting.add(pid);
    this.sink.waitStarted(pid, t);
  }

  #endWait(pid: Pid, t: number, how: WaitEnd): void {
    if (this.#waiting.delete(pid)) this.sink.waitEnded(pid, t, how);
  }

  /**
   * Holds follow `holder` (a semaphore: `holders`): whoever it no longer names has released; a
   * new live holder holds.
   */
  #followHolder(e: LockFact): void {
    const holders = e.holders ?? (e.holder === null ? NO_PIDS : [e.holder]);
    for (const pid of this.#holding) {
      if (holders.includes(pid)) continue;
      this.#holding.delete(pid);
      this.sink.holdEnded(pid, e.t, 'released');
    }
    for (const h of holders) {
      if (h !== this.abandonedBy && !this.#goneBy(h, e.t) && !this.#holding.has(h)) {
        this.#holding.add(h);
        this.sink.holdStarted(h, e.t);
      }
    }
  }
}
