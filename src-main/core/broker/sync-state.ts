// The one model of Conditions, Events and Barriers, whichever runtime keeps the real object: the
// broker's own (sync-objects.ts, for the TypeScript runtime) and a Python program's (observed.ts,
// from the shim's reports) drive it through the same facts, and it alone writes `sync` events.
//
// These objects have no holder: a waiter waits for another process's word (a notify, a set, the
// last party of a barrier), so they take no part in the wait-for graph. What the log says is who
// waits, what let them go and who said it:
// - Condition: `notify` says how many it wakes; each waiter's `woken` names its notifier. The
//   broker wakes its waiters itself, in order (`wakeNow`); a Python waiter says it woke, and is
//   credited to the oldest notify that still had waiters to wake (Python's semaphores wake in no
//   set order).
// - Event: `set` lets every waiter go (`released`); a wait on a set event passes at once.
// - Barrier: the arrival that makes `parties` releases the generation; a timeout, abort() or
//   reset() lets the waiters go with BrokenBarrierError.

import type { SyncEvent, SyncKind, SyncOp } from '../../api.ts';
import type { Peer } from './peer.ts';
import type { ObjectEvents } from './stamps.ts';

const NO_PIDS: readonly number[] = [];

export class SyncState {
  /** Listed (its `create` logged). */
  announced = false;
  /** `t` of its last event. */
  lastT = 0;
  readonly waiters: Peer[] = [];
  waiterPids: readonly number[] = NO_PIDS;
  /** Condition: its lock's id. */
  lock: string | undefined = undefined;
  /** Condition (reported wakes): notifies that still have waiters to wake, oldest first. */
  readonly pending: { by: Peer; left: number }[] = [];
  /** Event: set or not. */
  isSet = false;
  /** Barrier. */
  parties = 1;
  generation = 0;
  broken = false;

  constructor(
    readonly id: string,
    public kind: SyncKind,
  ) {}

  add(peer: Peer): void {
    this.waiters.push(peer);
    this.waiterPids = this.waiters.map((p) => p.pid);
  }

  remove(peer: Peer): boolean {
    const i = this.waiters.indexOf(peer);
    if (i === -1) return false;
    this.waiters.splice(i, 1);
    this.waiterPids = this.waiters.length === 0 ? NO_PIDS : this.waiters.map((p) => p.pid);
    return true;
  }

  /** Every waiter goes at once; returns them. */
  takeAll(): Peer[] {
    const all = this.waiters.splice(0);
    this.waiterPids = NO_PIDS;
    return all;
  }
}

export class SyncStates {
  private readonly objects = new Map<string, SyncState>();

  constructor(private readonly out: ObjectEvents) {}

  /** The object `id`, made (not yet listed) if it is new. */
  ensure(id: string, kind: SyncKind): SyncState {
    let s = this.objects.get(id);
    if (!s) this.objects.set(id, (s = new SyncState(id, kind)));
    return s;
  }

  get(id: string): SyncState | undefined {
    return this.objects.get(id);
  }

  /** Lists it, once: a Condition with its lock, a Barrier with its parties. */
  created(peer: Peer, s: SyncState, at?: number, opts: { lock?: string; parties?: number } = {}): void {
    if (s.announced) return;
    s.announced = true;
    if (opts.lock !== undefined) s.lock = opts.lock;
    if (opts.parties !== undefined) s.parties = Math.max(1, opts.parties);
    this.event(s, 'create', peer.pid, at, s.lock !== undefined ? { lock: s.lock } : undefined);
  }

  /**
   * `peer` begins to wait. An Event already set lets it pass (logged without it among the
   * waiters); a Barrier it completes releases (returned: who goes, itself included); a broken
   * Barrier refuses it (returned: null, and logged `broken`).
   */
  waited(peer: Peer, s: SyncState, at?: number): Peer[] | null | undefined {
    this.listed(peer, s, at);
    if (s.kind === 'barrier' && s.broken) {
      this.event(s, 'broken', peer.pid, at);
      return null;
    }
    if (s.kind === 'event' && s.isSet) {
      this.event(s, 'wait', peer.pid, at);
      return [peer];
    }
    s.add(peer);
    this.event(s, 'wait', peer.pid, at);
    if (s.kind === 'barrier' && s.waiters.length >= s.parties) {
      const released = s.takeAll();
      s.generation += 1;
      this.event(s, 'release', peer.pid, at, { released: released.map((p) => p.pid) });
      return released;
    }
    return undefined;
  }

  /**
   * A Condition's notify(n) (n < 0: notify_all). `wakeNow`: the waiters it wakes go now, in
   * order, and are returned (the broker's own conditions); otherwise they say so themselves.
   */
  notified(peer: Peer, s: SyncState, n: number, wakeNow: boolean, at?: number): Peer[] {
    this.listed(peer, s, at);
    const k = n < 0 ? s.waiters.length : Math.min(n, s.waiters.length);
    this.event(s, 'notify', peer.pid, at, { n: k });
    if (!wakeNow) {
      if (k > 0) s.pending.push({ by: peer, left: k });
      return [];
    }
    const woken = s.waiters.slice(0, k);
    for (const w of woken) this.woken(w, s, at, peer);
    return woken;
  }

  /** `peer`'s wait ended because another process let it go (`by`, when the broker knows it). */
  woken(peer: Peer, s: SyncState, at?: number, by?: Peer): void {
    if (!s.remove(peer)) return; // let go already (a set, a release): nothing new
    let from = by;
    if (from === undefined && s.kind === 'condition') {
      const p = s.pending[0];
      if (p) {
        from = p.by;
        if (--p.left === 0) s.pending.shift();
      }
    }
    this.event(s, 'woken', peer.pid, at, from !== undefined ? { by: from.pid } : undefined);
  }

  /**
   * `peer`'s wait ran out. A Barrier breaks: its other waiters go with an error (returned).
   */
  timedOut(peer: Peer, s: SyncState, at?: number): Peer[] {
    if (!s.remove(peer)) return [];
    if (s.kind !== 'barrier') {
      this.event(s, 'timeout', peer.pid, at);
      return [];
    }
    s.broken = true;
    const others = s.takeAll();
    this.event(s, 'timeout', peer.pid, at, { released: others.map((p) => p.pid) });
    return others;
  }

  /** Event: set() lets every waiter go (returned). */
  set(peer: Peer, s: SyncState, at?: number): Peer[] {
    this.listed(peer, s, at);
    s.isSet = true;
    const released = s.takeAll();
    this.event(s, 'set', peer.pid, at, { released: released.map((p) => p.pid) });
    return released;
  }

  clear(peer: Peer, s: SyncState, at?: number): void {
    this.listed(peer, s, at);
    s.isSet = false;
    this.event(s, 'clear', peer.pid, at);
  }

  /** Barrier: abort() breaks it (`op` abort) or reset() makes it new (`op` reset); the waiters go with an error (returned). */
  broke(peer: Peer, s: SyncState, op: 'abort' | 'reset', at?: number): Peer[] {
    this.listed(peer, s, at);
    s.broken = op === 'abort';
    const released = s.takeAll();
    this.event(s, op, peer.pid, at, { released: released.map((p) => p.pid) });
    return released;
  }

  /** Barrier: `peer`'s wait raised BrokenBarrierError (a Python waiter says so): if still listed, the barrier broke. */
  brokenWait(peer: Peer, s: SyncState, at?: number): void {
    if (!s.remove(peer)) return;
    s.broken = true;
    this.event(s, 'broken', peer.pid, at);
  }

  /** A process is gone: its waits end, silently (its exit says why). */
  gone(peer: Peer): void {
    for (const s of this.objects.values()) s.remove(peer);
  }

  /** An object first met through its use (a late create): listed as it is. */
  private listed(peer: Peer, s: SyncState, at: number | undefined): void {
    if (!s.announced) this.created(peer, s, at);
  }

  private event(s: SyncState, op: SyncOp, pid: number, at: number | undefined, extra?: Partial<SyncEvent>): void {
    const e: SyncEvent = { t: 0, type: 'sync', sync: s.id, kind: s.kind, op, pid, waiters: s.waiterPids as number[] };
    if (s.kind === 'event') e.set = s.isSet;
    else if (s.kind === 'barrier') {
      e.parties = s.parties;
      e.generation = s.generation;
      e.broken = s.broken;
    }
    if (extra) Object.assign(e, extra);
    this.out.log(e, at, s);
  }
}
