// The one model of a lock's state, whichever runtime keeps the real lock: the broker's own locks
// (locks.ts: the TypeScript runtime asks for them) and the locks a Python program keeps itself
// (observed.ts: rebuilt from the shim's reports) both drive it through the same few facts, and it
// alone writes `lock` and `deadlock` events, keeps the wait-for graph and the figures.
//
// Facts, as a runtime knows them: a request that was granted at once (or refused at once) never
// waited, and is logged without the requester among the waiters; a request that waits lists it.
// A lock whose holder exits holding it stays held (Python's semantics) and is reported abandoned.
//
// Holders are a list and the capacity a number so that counting objects (a Semaphore(n) has up
// to n holders) can grow from here; a Lock has capacity 1, and its events name `holder`.

import type { LockEvent, LockOp } from '../../api.ts';
import type { Peer } from './peer.ts';
import type { ObjectEvents } from './stamps.ts';
import { DeadlockReporter } from './waitfor.ts';

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
  /** How many may hold it at once (1: a Lock). */
  readonly capacity = 1;
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

  /** The holder (a Lock has at most one): what the wait-for graph follows. */
  get holder(): Peer | null {
    return this.holders.length > 0 ? this.holders[0] : null;
  }

  get free(): boolean {
    return this.holders.length < this.capacity && !this.abandoned;
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
  /** Waits that began since the last check: only a new wait can close a cycle. */
  private readonly newWaits: [Peer, LockState][] = [];

  constructor(private readonly out: ObjectEvents) {}

  /** The lock `id`, made (not yet listed) if it is new. */
  ensure(id: string): LockState {
    let l = this.locks.get(id);
    if (!l) this.locks.set(id, (l = new LockState(id)));
    return l;
  }

  /** Lists the lock (its `create`), once. `at`: the reporter's stamp; absent: now. */
  created(peer: Peer, l: LockState, at?: number): void {
    if (l.announced) return;
    l.announced = true;
    this.event(l, 'create', peer.pid, at);
  }

  /** `peer` asked for it; `waits`: it did not get it at once and waits now. */
  requested(peer: Peer, l: LockState, waits: boolean, at?: number): void {
    if (waits) {
      l.addWaiter(peer);
      l.contended += 1;
    }
    this.event(l, 'request', peer.pid, at);
  }

  acquired(peer: Peer, l: LockState, at?: number): void {
    if (l.removeWaiter(peer)) this.unblock(peer, l);
    if (l.holders.length >= l.capacity) l.holders.length = 0; // a lost release: the new holder is what counts
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
   * is stamped before the holder's acquire (a late report of an earlier hand-over).
   */
  released(peer: Peer, l: LockState, at?: number): void {
    if (l.holder === peer || l.holder === null || at === undefined || at >= l.acquiredAt) l.holders.length = 0;
    this.event(l, 'release', peer.pid, at);
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

  /** `peer`'s wait on `l` now counts in the wait-for graph (see checkDeadlocks). */
  blocks(peer: Peer, l: LockState): void {
    let set = this.waitingFor.get(peer);
    if (!set) this.waitingFor.set(peer, (set = new Set()));
    set.add(l);
    this.newWaits.push([peer, l]);
  }

  private unblock(peer: Peer, l: LockState): void {
    // The set stays when it empties: a process that takes locks again and again would
    // otherwise make a new one at every wait.
    this.waitingFor.get(peer)?.delete(l);
  }

  /** Reports each cycle that a wait begun since the last call closes, once per cycle. */
  checkDeadlocks(): void {
    for (const [peer, l] of this.newWaits) {
      if (this.waitingFor.get(peer)?.has(l)) this.deadlocks.check(peer, l, (p) => this.waitingFor.get(p));
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

  private event(l: LockState, op: LockOp, pid: number, at: number | undefined): void {
    const e: LockEvent = { t: 0, type: 'lock', lock: l.id, op, pid, holder: l.holder?.pid ?? null, waiters: l.waiterPids as number[] };
    this.out.log(e, at, l);
  }
}
