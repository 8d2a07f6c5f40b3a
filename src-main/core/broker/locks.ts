// The broker's locks: holder and waiters, the wait-for graph, deadlock and abandoned-lock
// reports. A lock whose holder dies stays held, as a multiprocessing.Lock does in Python.
//
// Lending (see runtime/lock.ts): a lock granted while nobody else waits is lent to its holder,
// which then reports its acquires and releases in batches, stamped with its own run-time clock.
// Another process's request recalls it: the borrower answers `lret` (free: it comes back now) or
// `lheld` (held: it comes back at the release). Only then does a waiter count in the wait-for
// graph, so a lent-but-free lock never shows as a deadlock.

import type { LockEvent, LockOp, RunEvent } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import { Fifo } from './fifo.ts';
import type { Emit, Peer } from './peer.ts';
import { DeadlockReporter } from './waitfor.ts';

interface Waiter {
  peer: Peer;
  rid: Rid;
  timer: NodeJS.Timeout | null;
  /** A non-blocking acquire waiting only for a recall's answer. */
  nonblocking: boolean;
  /** It waited in the list (a reply says so: the runtime reports the wait). */
  parked?: boolean;
}

class BrokerLock {
  holder: Peer | null = null;
  /** The holder is gone but the lock stays held (Python semantics). */
  abandoned = false;
  readonly waiters = new Fifo<Waiter>();
  /** The process it is lent to, if any; `holder` then follows what that process reports. */
  lentTo: Peer | null = null;
  /** Recall of the lent lock: not asked, asked, or answered "held". */
  recall: 'none' | 'sent' | 'held' = 'none';
  /** Run time of this lock's last event. */
  lastT = 0;
  acquisitions = 0;
  contended = 0;

  constructor(readonly id: string) {}
}

export interface LockFigures {
  lock: string;
  acquisitions: number;
  /** Acquisitions that had to wait. */
  contended: number;
  holder: number | null;
  abandoned: boolean;
}

export class LockTable {
  private readonly locks = new Map<string, BrokerLock>();
  /** Wait-for graph: which locks each peer is waiting for. */
  private readonly waitingFor = new Map<Peer, Set<BrokerLock>>();
  private readonly deadlocks = new DeadlockReporter((cycle) => this.emit({ type: 'deadlock', cycle }));

  constructor(
    private readonly emit: Emit,
    /** For events that happened earlier, in a borrower (`t` is its clock, in run time). */
    private readonly emitAt: (event: RunEvent) => void,
  ) {}

  private event(l: BrokerLock, op: LockOp, pid: number, at?: number): void {
    const e: LockEvent = {
      t: at ?? 0,
      type: 'lock',
      lock: l.id,
      op,
      pid,
      holder: l.holder ? l.holder.pid : null,
      waiters: l.waiters.toArray().map((w) => w.peer.pid),
    };
    if (at === undefined) this.emit(e);
    else {
      // A borrower's clock may lag ours a little: a lock's events never go back in time.
      e.t = Math.max(at, l.lastT);
      this.emitAt(e);
    }
    l.lastT = e.t; // stamped in place by the session
  }

  create(peer: Peer, id: string): void {
    if (this.locks.has(id)) return;
    const l = new BrokerLock(id);
    this.locks.set(id, l);
    this.event(l, 'create', peer.pid);
  }

  acquire(peer: Peer, id: string, rid: Rid, block: boolean, timeout: number | null): void {
    const l = this.locks.get(id);
    if (!l) {
      peer.send({ k: 'fail', rid, why: 'Error', message: `unknown lock ${id}` });
      return;
    }
    this.event(l, 'request', peer.pid);
    const lentElsewhere = l.lentTo !== null && l.lentTo !== peer;
    if (l.holder === null && !l.abandoned && l.waiters.length === 0 && l.lentTo === null) {
      this.grant(l, { peer, rid, timer: null, nonblocking: false });
      return;
    }
    // A lock lent elsewhere may be free there: a non-blocking acquire waits for the recall's answer.
    if (!block && !(lentElsewhere && l.recall !== 'held')) {
      this.event(l, 'timeout', peer.pid);
      peer.send({ k: 'fail', rid, why: 'Timeout' });
      return;
    }
    const w: Waiter = { peer, rid, timer: null, nonblocking: !block, parked: true };
    if (timeout !== null) {
      w.timer = setTimeout(() => {
        l.waiters.remove((x) => x === w);
        this.stopWaiting(peer, l);
        this.event(l, 'timeout', peer.pid);
        peer.send({ k: 'fail', rid, why: 'Timeout', waited: true });
      }, timeout * 1000);
    }
    l.waiters.push(w);
    l.contended += 1;
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
    if (lentElsewhere && l.recall === 'none') {
      l.recall = 'sent';
      (l.lentTo as Peer).send({ k: 'lrecall', l: l.id });
    }
    if (!lentElsewhere || l.recall === 'held') this.detectDeadlock(peer, l);
  }

  private grant(l: BrokerLock, w: Waiter): void {
    if (w.timer) clearTimeout(w.timer);
    l.holder = w.peer;
    l.acquisitions += 1;
    this.stopWaiting(w.peer, l);
    this.event(l, 'acquire', w.peer.pid);
    // Always lent to a runtime that can borrow; with others waiting, recalled at once (the
    // borrower keeps it for one quantum, then it goes to the next waiter).
    const lend = w.peer.borrows === true;
    if (lend) {
      l.lentTo = w.peer;
      l.recall = 'none';
    }
    // `waited`: the runtime reports the wait and where its program waited (runtime/waits.ts).
    w.peer.send({ k: 'ok', rid: w.rid, ...(lend ? { lend: true } : {}), ...(w.parked ? { waited: true } : {}) });
    if (lend && l.waiters.length > 0) {
      l.recall = 'sent';
      w.peer.send({ k: 'lrecall', l: l.id });
    }
    // Non-blocking acquires that waited for a recall's answer get it now: the lock is taken.
    this.failNonblocking(l);
  }

  private failNonblocking(l: BrokerLock): void {
    for (const w of l.waiters.removeAll((x) => x.nonblocking)) {
      this.stopWaiting(w.peer, l);
      this.event(l, 'timeout', w.peer.pid);
      w.peer.send({ k: 'fail', rid: w.rid, why: 'Timeout' });
    }
  }

  /** What a borrower did with its lent lock, each operation at its own time. */
  lentOps(peer: Peer, id: string, ops: string, at: number[]): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer) return;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op === 'a') {
        l.holder = peer;
        l.acquisitions += 1;
        this.event(l, 'acquire', peer.pid, at[i]);
      } else if (op === 'r') {
        l.holder = null;
        this.event(l, 'release', peer.pid, at[i]);
      } else {
        this.event(l, op === 'q' ? 'request' : 'timeout', peer.pid, at[i]);
      }
    }
  }

  /** The borrower gives the lock back, released: the first waiter gets it. */
  returned(peer: Peer, id: string): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer) return;
    l.lentTo = null;
    l.recall = 'none';
    l.holder = null;
    const next = l.waiters.shift();
    if (next) this.grant(l, next);
  }

  /** The borrower holds it now and gives it back at its release: waits become real waits. */
  heldOnRecall(peer: Peer, id: string): void {
    const l = this.locks.get(id);
    if (!l || l.lentTo !== peer || l.recall !== 'sent') return;
    l.recall = 'held';
    this.failNonblocking(l);
    for (const w of l.waiters.toArray()) this.detectDeadlock(w.peer, l);
  }

  private stopWaiting(peer: Peer, l: BrokerLock): void {
    const set = this.waitingFor.get(peer);
    if (!set) return;
    set.delete(l);
    if (set.size === 0) this.waitingFor.delete(peer);
  }

  release(peer: Peer, id: string): void {
    const l = this.locks.get(id);
    // The runtime only releases what it holds; anything else is a stale or forged message.
    if (!l || l.holder !== peer || l.lentTo === peer) return;
    l.holder = null;
    this.event(l, 'release', peer.pid);
    const next = l.waiters.shift();
    if (next) this.grant(l, next);
  }

  /** Reports the cycle the newest wait (`start` for `first`) closes, if any, once per cycle. */
  private detectDeadlock(start: Peer, first: BrokerLock): void {
    this.deadlocks.check(start, first, (p) => this.waitingFor.get(p));
  }

  /** A process is gone: its waits end; locks it held stay held and are reported abandoned. */
  disconnect(peer: Peer): void {
    for (const l of this.locks.values()) {
      for (const w of l.waiters.removeAll((w) => w.peer === peer)) if (w.timer) clearTimeout(w.timer);
      const lent = l.lentTo === peer;
      if (lent) {
        l.lentTo = null;
        l.recall = 'none';
      }
      if (l.holder === peer && !l.abandoned) {
        l.abandoned = true;
        this.event(l, 'abandoned', peer.pid);
        // Non-blocking acquires that waited for a recall's answer: it is held for good.
        this.failNonblocking(l);
      } else if (lent && l.holder === null) {
        // Lent, but released before it exited: the lock is free again.
        const next = l.waiters.shift();
        if (next) this.grant(l, next);
      }
    }
    this.waitingFor.delete(peer);
  }

  figures(): LockFigures[] {
    return [...this.locks.values()].map((l) => ({
      lock: l.id,
      acquisitions: l.acquisitions,
      contended: l.contended,
      holder: l.holder ? l.holder.pid : null,
      abandoned: l.abandoned,
    }));
  }

  dispose(): void {
    for (const l of this.locks.values()) for (const w of l.waiters.toArray()) if (w.timer) clearTimeout(w.timer);
  }
}
