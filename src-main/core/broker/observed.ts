// Queues and locks a reporting runtime (the Python shim) keeps itself: the real objects live in
// the scenario's processes (pipes and semaphores), and each process reports what it did, stamped
// with its own clock. This table rebuilds depth, holder and waiters FROM THOSE REPORTS and emits
// the same `queue`, `lock`, `deadlock` events as the broker's own tables (queues.ts, locks.ts).
//
// Reports from different processes travel on different connections, in batches: a get may
// arrive before the put it took. So reports wait here a short window and are applied in the order
// of their stamps (a release is stamped before the semaphore is released, an acquire after it is
// taken, so a lock's hand-over sorts right). A report later than the window is applied at once;
// an object's events never go back in time.

import type { LockEvent, LockOp, QueueEvent, QueueOp, RunEvent } from '../../api.ts';
import type { LockReportOp, QueueReportOp } from '../../protocol.ts';
import type { LockFigures } from './locks.ts';
import type { Emit, Peer } from './peer.ts';
import type { QueueFigures } from './queues.ts';
import { DeadlockReporter } from './waitfor.ts';

/** How long a report waits for earlier-stamped reports from other processes, ms. */
export const REORDER_WINDOW_MS = 100;

type Report =
  | { peer: Peer; seq: number; at: number; kind: 'q'; id: string; op: QueueReportOp; maxsize: number }
  | { peer: Peer; seq: number; at: number; kind: 'l'; id: string; op: LockReportOp }
  /** The process disconnected: applied after everything stamped before it. */
  | { peer: Peer; seq: number; at: number; kind: 'x' };

class ObservedQueue {
  /** Puts minus gets as reported; shown clamped at 0 (a late put may follow its get). */
  count = 0;
  puts = 0;
  gets = 0;
  peak = 0;
  lastT = 0;
  constructor(
    readonly id: string,
    readonly maxsize: number,
  ) {}
  get depth(): number {
    return Math.max(0, this.count);
  }
}

class ObservedLock {
  holder: Peer | null = null;
  /** Stamp of the current holder's acquire: an older release by someone else is stale. */
  acquiredAt = 0;
  abandoned = false;
  readonly waiters: Peer[] = [];
  lastT = 0;
  acquisitions = 0;
  contended = 0;
  constructor(readonly id: string) {}
}

export class ObservedTable {
  private readonly queues = new Map<string, ObservedQueue>();
  private readonly locks = new Map<string, ObservedLock>();
  /** Wait-for graph of reported waits. */
  private readonly waitingFor = new Map<Peer, Set<ObservedLock>>();
  private readonly deadlocks = new DeadlockReporter((cycle) => this.emit({ type: 'deadlock', cycle }));
  private pending: Report[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(
    private readonly emit: Emit,
    private readonly emitAt: (event: RunEvent) => void,
    /** The run's current time, ms (the clock reports are stamped against). */
    private readonly now: () => number,
    private readonly windowMs = REORDER_WINDOW_MS,
  ) {}

  queue(peer: Peer, id: string, op: QueueReportOp, maxsize: number, at: number): void {
    this.add({ peer, seq: this.seq++, at, kind: 'q', id, op, maxsize: maxsize > 0 ? maxsize : 0 });
  }

  lock(peer: Peer, id: string, op: LockReportOp, at: number): void {
    this.add({ peer, seq: this.seq++, at, kind: 'l', id, op });
  }

  private add(r: Report): void {
    if (this.disposed) return;
    this.pending.push(r);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.pending.length === 0 || this.disposed) return;
    let oldest = Infinity;
    for (const r of this.pending) if (r.at < oldest) oldest = r.at;
    const wait = Math.max(1, Math.min(this.windowMs, oldest + this.windowMs - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain(false);
      this.schedule();
    }, wait);
  }

  /** Applies ripe reports (or all of them) in stamp order, then looks for deadlocks. */
  drain(all: boolean): void {
    if (this.pending.length === 0) return;
    const cutoff = this.now() - this.windowMs;
    let ripe: Report[];
    if (all) {
      ripe = this.pending;
      this.pending = [];
    } else {
      ripe = [];
      const rest: Report[] = [];
      for (const r of this.pending) (r.at <= cutoff ? ripe : rest).push(r);
      this.pending = rest;
    }
    ripe.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const waits: [Peer, ObservedLock][] = [];
    for (const r of ripe) {
      if (r.kind === 'q') this.applyQueue(r.peer, r.id, r.op, r.maxsize, r.at);
      else if (r.kind === 'x') this.applyDisconnect(r.peer);
      else {
        const l = this.applyLock(r.peer, r.id, r.op, r.at);
        if (l && r.op === 'request') waits.push([r.peer, l]);
      }
    }
    // After the whole batch: a non-blocking request and its outcome arrive together and never
    // count as a wait.
    for (const [peer, l] of waits) if (this.waitingFor.get(peer)?.has(l)) this.detectDeadlock(peer, l);
  }

  // ---- queues ---------------------------------------------------------------------------------

  private queueEvent(q: ObservedQueue, op: QueueOp, pid: number, at: number): void {
    const e: QueueEvent = { t: Math.max(at, q.lastT), type: 'queue', queue: q.id, op, pid, depth: q.depth, maxsize: q.maxsize };
    this.emitAt(e);
    q.lastT = e.t;
  }

  private applyQueue(peer: Peer, id: string, op: QueueReportOp, maxsize: number, at: number): void {
    let q = this.queues.get(id);
    if (!q) {
      // A put or get before its create (a late report): the queue is listed anyway.
      q = new ObservedQueue(id, op === 'create' ? maxsize : 0);
      this.queues.set(id, q);
      this.queueEvent(q, 'create', peer.pid, at);
    }
    if (op === 'create') return;
    if (op === 'put') {
      q.count += 1;
      q.puts += 1;
    } else {
      q.count -= 1;
      q.gets += 1;
    }
    if (q.depth > q.peak) q.peak = q.depth;
    this.queueEvent(q, op, peer.pid, at);
  }

  // ---- locks ----------------------------------------------------------------------------------

  private lockEvent(l: ObservedLock, op: LockOp, pid: number, at?: number): void {
    const e: LockEvent = { t: at ?? 0, type: 'lock', lock: l.id, op, pid, holder: l.holder ? l.holder.pid : null, waiters: l.waiters.map((p) => p.pid) };
    if (at === undefined) this.emit(e);
    else {
      e.t = Math.max(at, l.lastT);
      this.emitAt(e);
    }
    l.lastT = e.t; // stamped in place by the session
  }

  private applyLock(peer: Peer, id: string, op: LockReportOp, at: number): ObservedLock | null {
    let l = this.locks.get(id);
    if (!l) {
      l = new ObservedLock(id);
      this.locks.set(id, l);
      this.lockEvent(l, 'create', peer.pid, at);
    }
    switch (op) {
      case 'create':
        return l;
      case 'request':
        if (!l.waiters.includes(peer)) l.waiters.push(peer);
        if (l.holder !== null && l.holder !== peer) l.contended += 1;
        this.startWaiting(peer, l);
        this.lockEvent(l, 'request', peer.pid, at);
        return l;
      case 'acquire':
        this.stopWaiting(peer, l);
        l.holder = peer;
        l.acquiredAt = at;
        l.abandoned = false;
        l.acquisitions += 1;
        this.lockEvent(l, 'acquire', peer.pid, at);
        return l;
      case 'release':
        // A multiprocessing.Lock may be released by any process; a release stamped before the
        // current holder's acquire is a late report of an earlier hand-over.
        if (l.holder === peer || l.holder === null || at >= l.acquiredAt) l.holder = null;
        this.lockEvent(l, 'release', peer.pid, at);
        return l;
      case 'timeout':
        this.stopWaiting(peer, l);
        this.lockEvent(l, 'timeout', peer.pid, at);
        return l;
    }
  }

  private startWaiting(peer: Peer, l: ObservedLock): void {
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
  }

  private stopWaiting(peer: Peer, l: ObservedLock): void {
    const i = l.waiters.indexOf(peer);
    if (i !== -1) l.waiters.splice(i, 1);
    const set = this.waitingFor.get(peer);
    if (!set) return;
    set.delete(l);
    if (set.size === 0) this.waitingFor.delete(peer);
  }

  /** Reports the cycle the newest wait (`start` for `first`) closes, if any, once per cycle. */
  private detectDeadlock(start: Peer, first: ObservedLock): void {
    this.deadlocks.check(start, first, (p) => this.waitingFor.get(p));
  }

  /**
   * A process is gone: its reports are all in, but others' reports stamped earlier may still be
   * on their way, so its end takes its place in stamp order too.
   */
  disconnect(peer: Peer): void {
    this.add({ peer, seq: this.seq++, at: this.now(), kind: 'x' });
  }

  /** Its waits end; locks it held stay held and are reported abandoned. */
  private applyDisconnect(peer: Peer): void {
    for (const l of this.locks.values()) {
      const i = l.waiters.indexOf(peer);
      if (i !== -1) l.waiters.splice(i, 1);
      if (l.holder === peer && !l.abandoned) {
        l.abandoned = true;
        this.lockEvent(l, 'abandoned', peer.pid);
      }
    }
    this.waitingFor.delete(peer);
  }

  queueFigures(): QueueFigures[] {
    return [...this.queues.values()].map((q) => ({ queue: q.id, maxsize: q.maxsize, puts: q.puts, gets: q.gets, depth: q.depth, peak: q.peak }));
  }

  lockFigures(): LockFigures[] {
    return [...this.locks.values()].map((l) => ({
      lock: l.id,
      acquisitions: l.acquisitions,
      contended: l.contended,
      holder: l.holder ? l.holder.pid : null,
      abandoned: l.abandoned,
    }));
  }

  /** Stops the timer: the run is over (every process's reports were applied at its disconnect). */
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
