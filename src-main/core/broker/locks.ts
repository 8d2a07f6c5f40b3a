// The broker's own locks and semaphores (the TypeScript runtime's Lock, Semaphore and
// BoundedSemaphore): who gets one next, waits with timeouts, and lending (Locks only). What the
// state is (holders, waiters, the wait-for graph, the events) is lock-state.ts's, shared with
// the locks a Python program reports.
//
// A wait with a timeout never counts in the wait-for graph: it ends by itself, so a cycle through
// it is no deadlock (Python's `lock.acquire(timeout=1)` by its own holder returns False).
//
// Lending (see runtime/lock.ts): a lock granted while nobody else waits is lent to its holder,
// which then reports its acquires and releases in batches, stamped with its own run-time clock.
// Another process's request recalls it: the borrower answers `lret` (free: it comes back now) or
// `lheld` (held: it comes back at the release). Only then does a waiter count in the wait-for
// graph, so a lent-but-free lock never shows as a deadlock.

import type { LockKind } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import { Fifo } from './fifo.ts';
import type { LockState, LockStates } from './lock-state.ts';
import type { Peer } from './peer.ts';

interface Waiter {
  peer: Peer;
  rid: Rid;
  timer: NodeJS.Timeout | null;
  /** A non-blocking acquire waiting only for a recall's answer. */
  nonblocking: boolean;
  /** It waited in the queue: the answer says so (the runtime reports the wait, runtime/waits.ts). */
  parked?: boolean;
  /** It waits with a timeout: not part of the wait-for graph. */
  timed: boolean;
}

/** What Python says to a release past a bounded semaphore's value (and to one of a free Lock). */
export const OVER_RELEASE = 'ValueError: semaphore or lock released too many times';

class BrokerLock {
  /** Who gets it next, in order (the state's `waiters` are the same processes). */
  readonly queue = new Fifo<Waiter>();
  /** The process it is lent to, if any; the state then follows what that process reports. */
  lentTo: Peer | null = null;
  /** Recall of the lent lock: not asked, asked, or answered "held". */
  recall: 'none' | 'sent' | 'held' = 'none';

  constructor(readonly state: LockState) {}
}

export class LockTable {
  private readonly locks = new Map<string, BrokerLock>();

  constructor(private readonly states: LockStates) {}

  /** A Lock, or a semaphore of `kind` starting at `value`. */
  create(peer: Peer, id: string, kind?: LockKind, value?: number): void {
    if (this.locks.has(id)) return;
    const l = new BrokerLock(this.states.ensure(id));
    this.locks.set(id, l);
    this.states.created(peer, l.state, undefined, kind, value);
  }

  acquire(peer: Peer, id: string, rid: Rid, block: boolean, timeout: number | null): void {
    const l = this.locks.get(id);
    if (!l) {
      peer.send({ k: 'fail', rid, why: 'Error', message: `unknown lock ${id}` });
      return;
    }
    const s = l.state;
    const lentElsewhere = l.lentTo !== null && l.lentTo !== peer;
    if (s.free && l.queue.length === 0 && l.lentTo === null) {
      this.states.requested(peer, s, false);
      this.grant(l, { peer, rid, timer: null, nonblocking: false, timed: false });
      return;
    }
    // A lock lent elsewhere may be free there: a non-blocking acquire waits for the recall's answer.
    if (!block && !(lentElsewhere && l.recall !== 'held')) {
      this.states.refused(peer, s);
      peer.send({ k: 'fail', rid, why: 'Timeout' });
      return;
    }
    const w: Waiter = { peer, rid, timer: null, nonblocking: !block, parked: true, timed: timeout !== null };
    if (timeout !== null) {
      w.timer = setTimeout(() => {
        l.queue.remove((x) => x === w);
        this.states.timedOut(peer, s);
        peer.send({ k: 'fail', rid, why: 'Timeout', waited: true });
      }, timeout * 1000);
    }
    l.queue.push(w);
    this.states.requested(peer, s, true, undefined, w.timed);
    if (lentElsewhere && l.recall === 'none') {
      l.recall = 'sent';
      (l.lentTo as Peer).send({ k: 'lrecall', l: id });
    }
    if (!w.timed && (!lentElsewhere || l.recall === 'held')) {
      this.states.blocks(peer, s);
      this.states.checkDeadlocks();
    }
  }

  private grant(l: BrokerLock, w: Waiter): void {
    if (w.timer) clearTimeout(w.timer);
    this.states.acquired(w.peer, l.state);
    // A Lock is always lent to a runtime that can borrow; with others waiting, recalled at once
    // (the borrower keeps it for one quantum, then it goes to the next waiter). A semaphore is not.
    const lend = w.peer.borrows === true && !l.state.counting;
    if (lend) {
      l.lentTo = w.peer;
      l.recall = 'none';
    }
    w.peer.send({ k: 'ok', rid: w.rid, ...(lend ? { lend: true } : {}), ...(w.parked ? { waited: true } : {}) });
    if (lend && l.queue.length > 0) {
      l.recall = 'sent';
      w.peer.send({ k: 'lrecall', l: l.state.id });
    }
    // Non-blocking acquires that waited for a recall's answer get it now: the lock is taken.
    this.failNonblocking(l);
  }

  private failNonblocking(l: BrokerLock): void {
    for (const w of l.queue.removeAll((x) => x.nonblocking)) {
      this.states.timedOut(w.peer, l.state);
      w.peer.send({ k: 'fail', rid: w.rid, why: 'Timeout' });
    }
  }

  /**
   * What a borrower did with its lent lock, each operation at its own time: q request (it waits
   * when another of its tasks holds it), a acquire, r release, t timeout.
   */
  lentOps(peer: Peer, id: string, ops: string, at: number[]): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer) return;
    const s = l.state;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op === 'a') this.states.acquired(peer, s, at[i]);
      else if (op === 'r') this.states.released(peer, s, at[i]);
      else if (op === 'q') this.states.requested(peer, s, s.holder !== null, at[i]);
      else this.states.timedOut(peer, s, at[i]);
    }
  }

  /** The borrower gives the lock back, released: the first waiter gets it. */
  returned(peer: Peer, id: string): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer) return;
    l.lentTo = null;
    l.recall = 'none';
    this.states.forget(peer, l.state);
    this.next(l);
  }

  /** The borrower holds it now and gives it back at its release: waits become real waits. */
  heldOnRecall(peer: Peer, id: string): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer || l.recall !== 'sent') return;
    l.recall = 'held';
    this.failNonblocking(l);
    for (const w of l.queue.toArray()) if (!w.timed) this.states.blocks(w.peer, l.state);
    this.states.checkDeadlocks();
  }

  /**
   * A release. A Lock's comes from its holder (the runtime only releases what it holds: anything
   * else is a stale or forged message). A semaphore's may come from any process, and a bounded
   * one refuses a release past its initial value, as Python does: answered on `rid`.
   */
  release(peer: Peer, id: string, rid?: Rid): void {
    const l = this.locks.get(id);
    const s = l?.state;
    if (!l || !s?.counting) {
      if (l && s && s.holder === peer && l.lentTo !== peer) {
        this.states.released(peer, s);
        this.next(l);
      }
      if (rid !== undefined) peer.send({ k: 'ok', rid });
      return;
    }
    if (s.kind === 'bounded-semaphore' && s.value >= s.capacity) {
      this.states.refusedRelease(peer, s, OVER_RELEASE);
      if (rid !== undefined) peer.send({ k: 'fail', rid, why: 'Error', message: OVER_RELEASE });
      return;
    }
    this.states.released(peer, s);
    if (rid !== undefined) peer.send({ k: 'ok', rid });
    this.next(l);
  }

  /** A semaphore's get_value(): its permits free now. */
  value(peer: Peer, id: string, rid: Rid): void {
    const s = this.locks.get(id)?.state;
    if (!s) return peer.send({ k: 'fail', rid, why: 'Error', message: `unknown lock ${id}` });
    peer.send({ k: 'ok', rid, n: s.counting ? s.value : Number(s.free) });
  }

  /**
   * `peer` says its own waits on the lent lock `id` can never end: every task of it waits, and
   * the holder is itself (a Lock taken again by its holder). Its wait joins the graph: a deadlock.
   */
  stuck(peer: Peer, id: string): void {
    const s = this.locks.get(id)?.state;
    if (!s || !s.holders.includes(peer)) return;
    if (!s.waiters.includes(peer)) this.states.requested(peer, s, true);
    this.states.blocks(peer, s);
    this.states.checkDeadlocks();
  }

  private next(l: BrokerLock): void {
    do {
      const w = l.queue.shift();
      if (!w) return;
      this.grant(l, w);
    } while (l.state.counting && l.state.free);
  }

  /**
   * A process is gone (lock-state.ts has ended its waits and reported what it held as
   * abandoned): its place in the queues goes, and a lock lent to it and free comes back.
   */
  disconnect(peer: Peer): void {
    for (const l of this.locks.values()) {
      for (const w of l.queue.removeAll((w) => w.peer === peer)) if (w.timer) clearTimeout(w.timer);
      const lent = l.lentTo === peer;
      if (lent) {
        l.lentTo = null;
        l.recall = 'none';
      }
      // Held for good: non-blocking acquires that waited for a recall's answer are refused.
      if (l.state.abandoned) this.failNonblocking(l);
      else if (lent && l.state.holder === null) this.next(l);
    }
  }

  dispose(): void {
    for (const l of this.locks.values()) for (const w of l.queue.toArray()) if (w.timer) clearTimeout(w.timer);
  }
}
