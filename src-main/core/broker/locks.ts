// The broker's locks: exact holder and waiters, the wait-for graph, deadlock and abandoned-lock
// reports. A lock whose holder dies stays held, as a multiprocessing.Lock does in Python.

import type { DeadlockEdge } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import { Fifo } from './fifo.ts';
import type { Emit, Peer } from './peer.ts';

interface Waiter {
  peer: Peer;
  rid: Rid;
  timer: NodeJS.Timeout | null;
}

class BrokerLock {
  holder: Peer | null = null;
  /** The holder is gone but the lock stays held (Python semantics). */
  abandoned = false;
  readonly waiters = new Fifo<Waiter>();
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
  private readonly reportedCycles = new Set<string>();

  constructor(private readonly emit: Emit) {}

  private event(l: BrokerLock, op: 'create' | 'request' | 'acquire' | 'release' | 'timeout' | 'abandoned', pid: number): void {
    this.emit({
      type: 'lock',
      lock: l.id,
      op,
      pid,
      holder: l.holder ? l.holder.pid : null,
      waiters: l.waiters.toArray().map((w) => w.peer.pid),
    });
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
    if (l.holder === null && !l.abandoned && l.waiters.length === 0) {
      this.grant(l, { peer, rid, timer: null });
      return;
    }
    if (!block) {
      this.event(l, 'timeout', peer.pid);
      peer.send({ k: 'fail', rid, why: 'Timeout' });
      return;
    }
    const w: Waiter = { peer, rid, timer: null };
    if (timeout !== null) {
      w.timer = setTimeout(() => {
        l.waiters.remove((x) => x === w);
        this.stopWaiting(peer, l);
        this.event(l, 'timeout', peer.pid);
        peer.send({ k: 'fail', rid, why: 'Timeout' });
      }, timeout * 1000);
    }
    l.waiters.push(w);
    l.contended += 1;
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
    this.detectDeadlock(peer, l);
  }

  private grant(l: BrokerLock, w: Waiter): void {
    if (w.timer) clearTimeout(w.timer);
    l.holder = w.peer;
    l.acquisitions += 1;
    this.stopWaiting(w.peer, l);
    this.event(l, 'acquire', w.peer.pid);
    w.peer.send({ k: 'ok', rid: w.rid });
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
    if (!l || l.holder !== peer) return;
    l.holder = null;
    this.event(l, 'release', peer.pid);
    const next = l.waiters.shift();
    if (next) this.grant(l, next);
  }

  /**
   * A cycle exists when, following "waits for a lock held by", we come back to `start`. Only the
   * newest wait can close a cycle, so searching from it on each new wait finds every cycle once.
   */
  private detectDeadlock(start: Peer, first: BrokerLock): void {
    const path: DeadlockEdge[] = [];
    const seen = new Set<Peer>();
    const visit = (peer: Peer, lock: BrokerLock): boolean => {
      const holder = lock.holder;
      if (!holder) return false;
      path.push({ pid: peer.pid, lock: lock.id, holder: holder.pid });
      if (holder === start) return true;
      if (!seen.has(holder)) {
        seen.add(holder);
        for (const next of this.waitingFor.get(holder) ?? []) if (visit(holder, next)) return true;
      }
      path.pop();
      return false;
    };
    if (!visit(start, first)) return;
    const key = path
      .map((e) => `${e.pid}>${e.lock}`)
      .sort()
      .join(',');
    if (this.reportedCycles.has(key)) return;
    this.reportedCycles.add(key);
    this.emit({ type: 'deadlock', cycle: path });
  }

  /** A process is gone: its waits end; locks it held stay held and are reported abandoned. */
  disconnect(peer: Peer): void {
    for (const l of this.locks.values()) {
      for (const w of l.waiters.removeAll((w) => w.peer === peer)) if (w.timer) clearTimeout(w.timer);
      if (l.holder === peer && !l.abandoned) {
        l.abandoned = true;
        this.event(l, 'abandoned', peer.pid);
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
