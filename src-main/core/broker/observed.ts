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
//
// A busy program reports hundreds of thousands of operations a second, so waiting reports are
// kept in flat arrays (stamp, op, object, peer), not one object each, and an `ops` message's
// records resolve their objects once per connection and index, not once per record.

import type { LockEvent, LockOp, QueueEvent, RunEvent } from '../../api.ts';
import { OpCode, type LockReportOp, type OpRecords, type QueueReportOp } from '../../protocol.ts';
import type { LockFigures } from './locks.ts';
import type { Emit, Peer } from './peer.ts';
import type { QueueFigures } from './queues.ts';
import { DeadlockReporter } from './waitfor.ts';

/** How long a report waits for earlier-stamped reports from other processes, ms. */
export const REORDER_WINDOW_MS = 100;
/**
 * Shortest time between two drains, ms: each drain looks at every waiting report, so under a
 * steady stream draining at every ripe stamp would cost far more than the reports themselves.
 */
const MIN_DRAIN_INTERVAL_MS = 20;

/**
 * A stamp as the log writes it: whole µs, as the session stamps every other event (a
 * full-precision double costs more to write and says nothing more). Order is decided before.
 */
const logged = (at: number): number => Math.round(at * 1000) / 1000;

/** What a waiting report does (one byte each in Pending.op). */
const R = {
  QueueCreate: 0,
  QueuePut: 1,
  QueueGet: 2,
  LockCreate: 3,
  LockRequest: 4,
  LockAcquire: 5,
  LockRequestAcquire: 6,
  LockRelease: 7,
  LockTimeout: 8,
  LockRequestTimeout: 9,
  /** The process disconnected: applied after everything stamped before it. */
  Gone: 10,
} as const;

/** Record op (OpCode) -> report op. */
const FROM_OPCODE: readonly number[] = (() => {
  const t: number[] = [];
  t[OpCode.LockRequest] = R.LockRequest;
  t[OpCode.LockAcquire] = R.LockAcquire;
  t[OpCode.LockRequestAcquire] = R.LockRequestAcquire;
  t[OpCode.LockRelease] = R.LockRelease;
  t[OpCode.LockTimeout] = R.LockTimeout;
  t[OpCode.LockRequestTimeout] = R.LockRequestTimeout;
  t[OpCode.QueuePut] = R.QueuePut;
  t[OpCode.QueueGet] = R.QueueGet;
  return t;
})();

const QUEUE_OPS: Record<QueueReportOp, number> = { create: R.QueueCreate, put: R.QueuePut, get: R.QueueGet };
const LOCK_OPS: Record<LockReportOp, number> = {
  create: R.LockCreate,
  request: R.LockRequest,
  acquire: R.LockAcquire,
  release: R.LockRelease,
  timeout: R.LockTimeout,
};

const isQueueOp = (op: number): boolean => op <= R.QueueGet;

class ObservedQueue {
  /** Listed (its `create` event emitted) once its first report is applied. */
  announced = false;
  maxsize = 0;
  /** Puts minus gets as reported; shown clamped at 0 (a late put may follow its get). */
  count = 0;
  puts = 0;
  gets = 0;
  peak = 0;
  lastT = 0;
  constructor(readonly id: string) {}
  get depth(): number {
    return Math.max(0, this.count);
  }
}

const NO_PIDS: readonly number[] = [];

class ObservedLock {
  announced = false;
  holder: Peer | null = null;
  /** Stamp of the current holder's acquire: an older release by someone else is stale. */
  acquiredAt = 0;
  abandoned = false;
  readonly waiters: Peer[] = [];
  /**
   * `waiters` as pids, shared by the events emitted while it does not change: a new array
   * whenever it does (events are never edited after they are emitted).
   */
  waiterPids: readonly number[] = NO_PIDS;
  lastT = 0;
  acquisitions = 0;
  contended = 0;
  constructor(readonly id: string) {}

  waitersChanged(): void {
    this.waiterPids = this.waiters.length === 0 ? NO_PIDS : this.waiters.map((p) => p.pid);
  }
}

type Target = ObservedQueue | ObservedLock | null;

/** Reports waiting for their window, in arrival order, as parallel arrays. */
class Pending {
  n = 0;
  at = new Float64Array(1024);
  op = new Uint8Array(1024);
  /** maxsize of a queue's create. */
  arg = new Float64Array(1024);
  target: Target[] = [];
  peer: Peer[] = [];

  push(peer: Peer, at: number, op: number, target: Target, arg: number): void {
    if (this.n === this.at.length) this.grow();
    const i = this.n++;
    this.at[i] = at;
    this.op[i] = op;
    this.arg[i] = arg;
    this.target[i] = target;
    this.peer[i] = peer;
  }

  private grow(): void {
    const size = this.at.length * 2;
    const at = new Float64Array(size);
    at.set(this.at);
    this.at = at;
    const op = new Uint8Array(size);
    op.set(this.op);
    this.op = op;
    const arg = new Float64Array(size);
    arg.set(this.arg);
    this.arg = arg;
  }

  oldest(): number {
    let oldest = Infinity;
    for (let i = 0; i < this.n; i++) if (this.at[i] < oldest) oldest = this.at[i];
    return oldest;
  }

  /** Keeps the reports stamped after `cutoff`, in their order. */
  keepAfter(cutoff: number): void {
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.at[i] <= cutoff) continue;
      if (k !== i) {
        this.at[k] = this.at[i];
        this.op[k] = this.op[i];
        this.arg[k] = this.arg[i];
        this.target[k] = this.target[i];
        this.peer[k] = this.peer[i];
      }
      k++;
    }
    // Applied reports must not keep their objects and connections alive.
    this.target.length = k;
    this.peer.length = k;
    this.n = k;
  }
}

/** One connection's `ops` indices, resolved to objects on first use. */
interface PeerObjects {
  queues: (ObservedQueue | undefined)[];
  locks: (ObservedLock | undefined)[];
}

export class ObservedTable {
  private readonly queues = new Map<string, ObservedQueue>();
  private readonly locks = new Map<string, ObservedLock>();
  private readonly byPeer = new Map<Peer, PeerObjects>();
  /** Wait-for graph of reported waits. */
  private readonly waitingFor = new Map<Peer, Set<ObservedLock>>();
  private readonly deadlocks = new DeadlockReporter((cycle) => this.emit({ type: 'deadlock', cycle }));
  private readonly pending = new Pending();
  private readonly singles = new Map<number, readonly number[]>();
  /** Scratch of one drain: indices of ripe reports, then the waits they started. */
  private readonly order: number[] = [];
  private readonly waitPeers: Peer[] = [];
  private readonly waitLocks: ObservedLock[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDrain = -Infinity;
  private disposed = false;

  constructor(
    private readonly emit: Emit,
    private readonly emitAt: (event: RunEvent) => void,
    /** The run's current time, ms (the clock reports are stamped against). */
    private readonly now: () => number,
    private readonly windowMs = REORDER_WINDOW_MS,
  ) {}

  queue(peer: Peer, id: string, op: QueueReportOp, maxsize: number, at: number): void {
    this.add(peer, at, QUEUE_OPS[op], this.queueFor(id), maxsize > 0 ? maxsize : 0);
  }

  lock(peer: Peer, id: string, op: LockReportOp, at: number): void {
    this.add(peer, at, LOCK_OPS[op], this.lockFor(id), 0);
  }

  /**
   * The records of one `ops` message, checked (checkOpRecords) against `ids`, the
   * connection's id table.
   */
  records(peer: Peer, ids: readonly string[], records: OpRecords): void {
    if (this.disposed) return;
    let objects = this.byPeer.get(peer);
    if (!objects) this.byPeer.set(peer, (objects = { queues: [], locks: [] }));
    const { at, code, count } = records;
    for (let i = 0; i < count; i++) {
      const index = code[i] >>> 3;
      const op = FROM_OPCODE[code[i] & 7];
      const target = isQueueOp(op)
        ? (objects.queues[index] ??= this.queueFor(ids[index]))
        : (objects.locks[index] ??= this.lockFor(ids[index]));
      this.pending.push(peer, at[i], op, target, 0);
    }
    this.schedule();
  }

  private queueFor(id: string): ObservedQueue {
    let q = this.queues.get(id);
    if (!q) this.queues.set(id, (q = new ObservedQueue(id)));
    return q;
  }

  private lockFor(id: string): ObservedLock {
    let l = this.locks.get(id);
    if (!l) this.locks.set(id, (l = new ObservedLock(id)));
    return l;
  }

  private add(peer: Peer, at: number, op: number, target: Target, arg: number): void {
    if (this.disposed) return;
    this.pending.push(peer, at, op, target, arg);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.pending.n === 0 || this.disposed) return;
    const now = this.now();
    const ripe = this.pending.oldest() + this.windowMs - now;
    const wait = Math.max(1, this.lastDrain + MIN_DRAIN_INTERVAL_MS - now, Math.min(this.windowMs, ripe));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain(false);
      this.schedule();
    }, wait);
  }

  /** Applies ripe reports (or all of them) in stamp order, then looks for deadlocks. */
  drain(all: boolean): void {
    const p = this.pending;
    if (p.n === 0) return;
    const now = this.now();
    this.lastDrain = now;
    const cutoff = all ? Infinity : now - this.windowMs;
    const order = this.order;
    order.length = 0;
    const at = p.at;
    for (let i = 0; i < p.n; i++) if (at[i] <= cutoff) order.push(i);
    if (order.length === 0) return;
    // Ties keep their order of arrival. Each batch arrives sorted, so this merges runs.
    order.sort((a, b) => at[a] - at[b] || a - b);
    this.waitPeers.length = 0;
    this.waitLocks.length = 0;
    for (const i of order) this.apply(p.peer[i], p.at[i], p.op[i], p.target[i], p.arg[i]);
    p.keepAfter(cutoff);
    // After the whole batch: a non-blocking request and its outcome arrive together and never
    // count as a wait.
    for (let w = 0; w < this.waitPeers.length; w++) {
      const peer = this.waitPeers[w];
      const l = this.waitLocks[w];
      if (this.waitingFor.get(peer)?.has(l)) this.detectDeadlock(peer, l);
    }
  }

  private apply(peer: Peer, at: number, op: number, target: Target, arg: number): void {
    if (op === R.Gone) return this.applyDisconnect(peer);
    if (target instanceof ObservedQueue) return this.applyQueue(peer, target, op, arg, at);
    if (target instanceof ObservedLock) this.applyLock(peer, target, op, at);
  }

  // ---- queues ---------------------------------------------------------------------------------

  private queueEvent(q: ObservedQueue, op: QueueEvent['op'], pid: number, at: number): void {
    const e: QueueEvent = { t: Math.max(logged(at), q.lastT), type: 'queue', queue: q.id, op, pid, depth: q.depth, maxsize: q.maxsize };
    this.emitAt(e);
    q.lastT = e.t;
  }

  private applyQueue(peer: Peer, q: ObservedQueue, op: number, maxsize: number, at: number): void {
    if (!q.announced) {
      // A put or get before its create (a late report): the queue is listed anyway.
      q.announced = true;
      if (op === R.QueueCreate) q.maxsize = maxsize;
      this.queueEvent(q, 'create', peer.pid, at);
    } else if (op === R.QueueCreate && logged(at) >= q.lastT) {
      // A second create of a known id, after everything seen of it: a manager reuses the name
      // of a freed queue (it names objects by address) for a new, empty one. A create stamped
      // before what was applied is only a late report, and changes nothing.
      q.count = 0;
      q.maxsize = maxsize;
      this.queueEvent(q, 'create', peer.pid, at);
    }
    if (op === R.QueueCreate) return;
    if (op === R.QueuePut) {
      q.count += 1;
      q.puts += 1;
    } else {
      q.count -= 1;
      q.gets += 1;
    }
    if (q.depth > q.peak) q.peak = q.depth;
    this.queueEvent(q, op === R.QueuePut ? 'put' : 'get', peer.pid, at);
  }

  // ---- locks ----------------------------------------------------------------------------------

  private lockEvent(l: ObservedLock, op: LockOp, pid: number, at?: number): void {
    const e: LockEvent = { t: at ?? 0, type: 'lock', lock: l.id, op, pid, holder: l.holder ? l.holder.pid : null, waiters: l.waiterPids as number[] };
    if (at === undefined) this.emit(e);
    else {
      e.t = Math.max(logged(at), l.lastT);
      this.emitAt(e);
    }
    l.lastT = e.t; // stamped in place by the session
  }

  private applyLock(peer: Peer, l: ObservedLock, op: number, at: number): void {
    if (!l.announced) {
      l.announced = true;
      this.lockEvent(l, 'create', peer.pid, at);
    }
    switch (op) {
      case R.LockRequest:
        this.request(peer, l, at);
        this.waitPeers.push(peer);
        this.waitLocks.push(l);
        return;
      case R.LockAcquire:
        return this.acquire(peer, l, at);
      case R.LockRequestAcquire:
        if (!this.passingRequest(peer, l, at)) this.request(peer, l, at);
        return this.acquire(peer, l, at);
      case R.LockRelease:
        // A multiprocessing.Lock may be released by any process; a release stamped before the
        // current holder's acquire is a late report of an earlier hand-over.
        if (l.holder === peer || l.holder === null || at >= l.acquiredAt) l.holder = null;
        return this.lockEvent(l, 'release', peer.pid, at);
      case R.LockTimeout:
        return this.timeout(peer, l, at);
      case R.LockRequestTimeout:
        if (!this.passingRequest(peer, l, at)) this.request(peer, l, at);
        return this.timeout(peer, l, at);
    }
  }

  /**
   * The request of a request-and-outcome record: the same event as request(), without joining
   * and leaving the waiters (and the wait-for graph) in between. False if `peer` already waits
   * (another of its threads): then request() does it.
   */
  private passingRequest(peer: Peer, l: ObservedLock, at: number): boolean {
    if (l.waiters.includes(peer)) return false;
    if (l.holder !== null && l.holder !== peer) l.contended += 1;
    const pids = l.waiterPids;
    l.waiterPids = pids.length === 0 ? this.onlyWaiter(peer.pid) : [...pids, peer.pid];
    this.lockEvent(l, 'request', peer.pid, at);
    l.waiterPids = pids;
    return true;
  }

  /** `[pid]`, one array per pid: most requests find nobody waiting. */
  private onlyWaiter(pid: number): readonly number[] {
    let pids = this.singles.get(pid);
    if (!pids) this.singles.set(pid, (pids = [pid]));
    return pids;
  }

  private request(peer: Peer, l: ObservedLock, at: number): void {
    if (!l.waiters.includes(peer)) {
      l.waiters.push(peer);
      l.waitersChanged();
    }
    if (l.holder !== null && l.holder !== peer) l.contended += 1;
    this.startWaiting(peer, l);
    this.lockEvent(l, 'request', peer.pid, at);
  }

  private acquire(peer: Peer, l: ObservedLock, at: number): void {
    this.stopWaiting(peer, l);
    l.holder = peer;
    l.acquiredAt = at;
    l.abandoned = false;
    l.acquisitions += 1;
    this.lockEvent(l, 'acquire', peer.pid, at);
  }

  private timeout(peer: Peer, l: ObservedLock, at: number): void {
    this.stopWaiting(peer, l);
    this.lockEvent(l, 'timeout', peer.pid, at);
  }

  private startWaiting(peer: Peer, l: ObservedLock): void {
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
  }

  private stopWaiting(peer: Peer, l: ObservedLock): void {
    const i = l.waiters.indexOf(peer);
    if (i !== -1) {
      l.waiters.splice(i, 1);
      l.waitersChanged();
    }
    // The set stays when it empties: a process that takes locks again and again would
    // otherwise make a new one at every request.
    this.waitingFor.get(peer)?.delete(l);
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
    this.byPeer.delete(peer);
    this.add(peer, this.now(), R.Gone, null, 0);
  }

  /** Its waits end; locks it held stay held and are reported abandoned. */
  private applyDisconnect(peer: Peer): void {
    for (const l of this.locks.values()) {
      const i = l.waiters.indexOf(peer);
      if (i !== -1) {
        l.waiters.splice(i, 1);
        l.waitersChanged();
      }
      if (l.holder === peer && !l.abandoned) {
        l.abandoned = true;
        this.lockEvent(l, 'abandoned', peer.pid);
      }
    }
    this.waitingFor.delete(peer);
  }

  queueFigures(): QueueFigures[] {
    return [...this.queues.values()]
      .filter((q) => q.announced)
      .map((q) => ({ queue: q.id, maxsize: q.maxsize, puts: q.puts, gets: q.gets, depth: q.depth, peak: q.peak }));
  }

  lockFigures(): LockFigures[] {
    return [...this.locks.values()]
      .filter((l) => l.announced)
      .map((l) => ({
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
