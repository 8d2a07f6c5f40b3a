// The one model of a lock's state, whichever runtime keeps the real lock: the broker's own locks
// and semaphores (locks.ts: the TypeScript runtime asks for them) and those a Python program keeps
// itself (observed.ts: rebuilt from the shim's reports) both drive it through the same few facts,
// and it alone writes `lock` and `deadlock` events, keeps the wait-for graph and the figures.
//
// Facts, as a runtime knows them: a request that was granted at once (or refused at once) never
// waited, and is logged without the requester among the waiters; a request that waits lists it.
// A lock whose holder exits holding it stays held (Python's semantics) and is reported abandoned.
//
// A Semaphore(n) is the same model with a counter: it admits holders while its value is above 0
// (one permit each; a process holding two is listed twice), and any process may release it, as
// in Python. A release by a process that holds no permit frees the oldest holder's: permits are
// anonymous, and the longest hold is the likeliest one handed over. A Lock is a semaphore of
// capacity 1 whose events name only `holder` (as they always did).

import type { LockEvent, LockKind, LockOp } from '../../api.ts';
import type { Peer } from './peer.ts';
import type { ObjectEvents } from './stamps.ts';
import { DeadlockReporter, type WaitGraph } from './waitfor.ts';

export interface LockFigures {
  lock: string;
  acquisitions: number;
  /** Acquisitions that had to wait. */
  contended: number;
  holder: number | null;
  abandoned: boolean;
}

const NO_PIDS: readonly number[] = [];

export class LockState {
  /** A Lock (undefined), or the kind of semaphore. */
  kind: LockKind | undefined = undefined;
  /** How many may hold it at once: 1 for a Lock, a semaphore's initial value. */
  capacity = 1;
  /** A semaphore's counter: permits free now (releases by non-holders may raise it past capacity). */
  value = 1;
  readonly holders: Peer[] = [];
  /** Who waits, in arrival order. */
  readonly waiters: Peer[] = [];
  /** `waiters` as pids, shared by the events emitted while it does not change (events are never edited). */
  waiterPids: readonly number[] = NO_PIDS;
  /** Its holder exited holding it: it stays held. */
  abandoned = false;
  /** Listed (its `create` logged). */
  announced = false;
  /** Stamp of the newest acquire: an older release by another process is a late report. */
  acquiredAt = 0;
  /** `t` of its last event. */
  lastT = 0;
  acquisitions = 0;
  contended = 0;

  constructor(readonly id: string) {}

  get counting(): boolean {
    return this.kind !== undefined;
  }

  /** The holder (of a semaphore: the oldest): what old readers of the log follow. */
  get holder(): Peer | null {
    return this.holders.length > 0 ? this.holders[0] : null;
  }

  get free(): boolean {
    return this.counting ? this.value > 0 : this.holders.length === 0 && !this.abandoned;
  }

  removeWaiter(peer: Peer): boolean {
    const i = this.waiters.indexOf(peer);
    if (i === -1) return false;
    this.waiters.splice(i, 1);
    this.waiterPids = this.waiters.length === 0 ? NO_PIDS : this.waiters.map((p) => p.pid);
    return true;
  }

  addWaiter(peer: Peer): void {
    if (this.waiters.includes(peer)) return;
    this.waiters.push(peer);
    this.waiterPids = this.waiters.map((p) => p.pid);
  }
}

export class LockStates {
  private readonly locks = new Map<string, LockState>();
  /** Wait-for graph: the locks each process is blocked on. */
  private readonly waitingFor = new Map<Peer, Set<LockState>>();
  private readonly deadlocks = new DeadlockReporter((cycle) => this.out.emit({ type: 'deadlock', cycle }));
  private readonly graph: WaitGraph<Peer, LockState> = {
    waitsOf: (p) => this.waitingFor.get(p),
    holdersOf: (l) => l.holders,
    // A semaphore made with value 0 is a signal, not a mutex: its "holders" took permits other
    // processes gave, and its waiters wait for any process at all to release (the main of a
    // ring that collects three `ready.release()`s holds one while it waits for the next). The
    // graph cannot name who that is: its waits are never part of a deadlock.
    free: (l) => l.counting && (l.value > 0 || l.capacity === 0),
    idOf: (l) => l.id,
  };
  /** Waits that began since the last check: only a new wait can close a cycle. */
  private readonly newWaits: [Peer, LockState][] = [];

  constructor(private readonly out: ObjectEvents) {}

  /** The lock `id`, made (not yet listed) if it is new. */
  ensure(id: string): LockState {
    let l = this.locks.get(id);
    if (!l) this.locks.set(id, (l = new LockState(id)));
    return l;
  }

  /** Lists the lock (its `create`), once; a semaphore with its kind and initial value. `at`: the reporter's stamp; absent: now. */
  created(peer: Peer, l: LockState, at?: number, kind?: LockKind, value?: number): void {
    if (l.announced) return;
    l.announced = true;
    if (kind !== undefined) {
      l.kind = kind;
      l.capacity = l.value = Math.max(0, value ?? 1);
    }
    this.event(l, 'create', peer.pid, at);
  }

  /** `peer` asked for it; `waits`: it did not get it at once and waits now; `timed`: with a timeout. */
  requested(peer: Peer, l: LockState, waits: boolean, at?: number, timed = false): void {
    if (waits) {
      l.addWaiter(peer);
      l.contended += 1;
    }
    this.event(l, 'request', peer.pid, at, timed && waits ? { timed: true } : undefined);
  }

  acquired(peer: Peer, l: LockState, at?: number): void {
    if (l.removeWaiter(peer)) this.unblock(peer, l);
    if (l.counting) {
      // Not a permit left: a release was lost (or is late); the new holder is what counts.
      if (l.value <= 0) {
        l.holders.shift();
        l.value = 1;
      }
      l.value -= 1;
    } else if (l.holders.length > 0) l.holders.length = 0; // a lost release: the new holder is what counts
    l.holders.push(peer);
    l.acquiredAt = at ?? this.out.stamps.now();
    l.abandoned = false;
    l.acquisitions += 1;
    this.event(l, 'acquire', peer.pid, at);
  }

  /** A request granted at once: never a wait. */
  takenAtOnce(peer: Peer, l: LockState, at?: number): void {
    this.requested(peer, l, false, at);
    this.acquired(peer, l, at);
  }

  /**
   * A multiprocessing.Lock may be released by any process: the holder goes, unless the release
   * is stamped before the holder's acquire (a late report of an earlier hand-over). A semaphore's
   * release frees the releaser's own permit, else the oldest holder's.
   */
  released(peer: Peer, l: LockState, at?: number): void {
    if (l.counting) {
      const own = l.holders.indexOf(peer);
      if (own !== -1) l.holders.splice(own, 1);
      else l.holders.shift();
      l.value += 1;
      if (l.holders.length === 0) l.abandoned = false;
    } else if (l.holder === peer || l.holder === null || at === undefined || at >= l.acquiredAt) l.holders.length = 0;
    this.event(l, 'release', peer.pid, at);
  }

  /** A release the object refused, with what the program was told. Nothing changes. */
  refusedRelease(peer: Peer, l: LockState, error: string, at?: number): void {
    this.event(l, 'error', peer.pid, at, { error });
  }

  /** `peer` stopped waiting: its timeout passed, or a non-blocking attempt was refused. */
  timedOut(peer: Peer, l: LockState, at?: number): void {
    if (l.removeWaiter(peer)) this.unblock(peer, l);
    this.event(l, 'timeout', peer.pid, at);
  }

  /** A non-blocking attempt refused at once: a request and its timeout, never a wait. */
  refused(peer: Peer, l: LockState, at?: number): void {
    this.requested(peer, l, false, at);
    this.timedOut(peer, l, at);
  }

  /** `peer`'s wait on `l` now counts in the wait-for graph (see checkDeadlocks). A timed wait never does: it ends by itself. */
  blocks(peer: Peer, l: LockState): void {
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
    this.newWaits.push([peer, l]);
  }

  private unblock(peer: Peer, l: LockState): void {
    // The set stays when it empties: a process that takes locks again and again would
    // otherwise make a new one at every wait.
    if (this.waitingFor.get(peer)?.delete(l)) this.deadlocks.ended(peer.pid, l.id);
  }

  /** Reports each deadlock that a wait begun since the last call closes, once while it lasts. */
  checkDeadlocks(): void {
    for (const [peer, l] of this.newWaits) {
      if (this.waitingFor.get(peer)?.has(l)) this.deadlocks.check(peer, this.graph);
    }
    this.newWaits.length = 0;
  }

  /** Without an event: the holder handed it back to the broker, already released (locks.ts). */
  forget(peer: Peer, l: LockState): void {
    const i = l.holders.indexOf(peer);
    if (i !== -1) l.holders.splice(i, 1);
  }

  /** A process is gone: its waits end (silently); what it held stays held, and is reported abandoned. */
  gone(peer: Peer): LockState[] {
    const abandoned: LockState[] = [];
    for (const l of this.locks.values()) {
      l.removeWaiter(peer);
      if (l.holders.includes(peer) && !l.abandoned) {
        l.abandoned = true;
        abandoned.push(l);
        this.event(l, 'abandoned', peer.pid, undefined);
      }
    }
    this.waitingFor.delete(peer);
    this.deadlocks.gone(peer.pid);
    return abandoned;
  }

  figures(): LockFigures[] {
    const out: LockFigures[] = [];
    for (const l of this.locks.values()) {
      if (!l.announced) continue;
      out.push({ lock: l.id, acquisitions: l.acquisitions, contended: l.contended, holder: l.holder?.pid ?? null, abandoned: l.abandoned });
    }
    return out;
  }

  private event(l: LockState, op: LockOp, pid: number, at: number | undefined, extra?: Partial<LockEvent>): void {
    const e: LockEvent = { t: 0, type: 'lock', lock: l.id, op, pid, holder: l.holder?.pid ?? null, waiters: l.waiterPids as number[] };
    if (l.counting) {
      if (op === 'create') {
        e.kind = l.kind;
        e.capacity = l.capacity;
      }
      e.holders = l.holders.map((p) => p.pid);
      e.value = l.value;
    }
    if (extra) Object.assign(e, extra);
    this.out.log(e, at, l);
  }
}
