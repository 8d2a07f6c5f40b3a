// The sequencer: every message of a scenario process is handled here, in causal order across
// processes, and nothing downstream waits, holds back or re-sorts.
//
// Each connection has an inbox, delivered in the order it was sent. Two facts travel on another
// connection than the one they concern, so two messages wait at an explicit barrier:
// - a parent's `exited` (it reaped a child) waits until the child's inbox is drained (closed
//   and delivered to the end) or the child never connected: a child's exit comes after its last
//   words, and whatever the parent does next (take the lock the child released, get the item it
//   put) comes after everything the child did;
// - a child's `hello` carrying `after = n` (the parent had sent n messages when it started the
//   child) waits until the parent's inbox has delivered n: a child is listed after what its
//   parent said before starting it (the exit of the sibling it joined, say); and after the
//   siblings its parent started before it (announced by `spawned` among those n), so children
//   are listed in the order they were started, whichever connects first. When a wait for a
//   child's end runs out while that child still waits for an older sibling, the sibling wait
//   gives way first (and the end gets a fresh bound): a child's exit after its last words
//   matters more than the order of listing.
// Exits known outside any inbox (the main process's, from the operating system; one read from
// a zombie) wait for the same fact through `whenDrained`. Every wait is bounded by ONE constant,
// so that a process that stops reporting cannot hold the run back.
//
// "Never connected" is decided without a timer where it can be: a child connects before it
// can exit, and its parent reports the exit only after reaping it, so when the report is read
// the child's connection is at least waiting to be accepted. One turn of the event loop accepts
// it, and a connection accepted without its hello yet holds the answer until it says who it is.
//
// Reports stamped with their sender's clock (the Python shim's) are ordered by stamp instead:
// that is the sequencer's other half, `stamps` (stamp-order.ts).

import { Fifo } from './fifo.ts';
import type { StampOrder } from './stamp-order.ts';

/**
 * The longest any message waits at a barrier, ms. What it waits for comes within milliseconds
 * (the facts are already in the kernel's socket buffers), so the bound only matters when a
 * process keeps a dead one's connection open, or on a machine so loaded that the monitor reads
 * late: generous, so that the log stays causal on two busy cores.
 */
export const ORDER_WAIT_MS = 2000;

export type Barrier =
  /**
   * A child's hello: until its parent `pid`'s inbox has delivered `count` messages (or is
   * drained, or never was), and the siblings announced among them have said hello or ended.
   */
  | { until: 'hello'; pid: number; count: number; child: number }
  /** Until `pid`'s inbox is drained, or `pid` never connected. */
  | { until: 'drained'; pid: number };

export class Inbox<C, M> {
  /** The process this connection says it is (from its hello, as soon as it arrives); 0 before. */
  pid = 0;
  /** Messages delivered so far, the hello included. */
  read = 0;
  /** No more messages will arrive. */
  closed = false;
  /** Closed, and every message delivered. */
  drained = false;
  /** The message held at a barrier, while it waits. */
  held: M | null = null;
  waiting: Wait | null = null;
  readonly queue = new Fifo<M>();

  constructor(readonly conn: C) {}
}

interface Wait {
  readonly barrier: Barrier;
  readonly then: () => void;
  timer: NodeJS.Timeout | null;
  /** A turn of the event loop has passed since it began (see "never connected"). */
  turned: boolean;
  /** Given a fresh bound once already (see expire). */
  extended: boolean;
}

export interface SequencerHost<C, M> {
  /** Handles one message; messages of one inbox come in order, and after what they wait for. */
  deliver(inbox: Inbox<C, M>, m: M): void;
  /** The barrier a message must wait at before it is delivered, if any. */
  barrierOf(inbox: Inbox<C, M>, m: M): Barrier | null;
  /** Everything the connection sent is delivered, and it is closed. */
  drained(inbox: Inbox<C, M>): void;
  /** The inbox waits (stop reading its socket: what it sends meanwhile would only pile up) or goes on. */
  waiting(inbox: Inbox<C, M>, waits: boolean): void;
  /** Whether `pid` can still run (the kernel's word). */
  alive(pid: number): boolean;
  /** A child its parent announced died before it said hello: it is listed now, in its place. */
  vanished(pid: number): void;
}

export class Sequencer<C, M> {
  private readonly inboxes = new Set<Inbox<C, M>>();
  /** The newest inbox of each pid (pids can come back). */
  private readonly byPid = new Map<number, Inbox<C, M>>();
  /** Inboxes open without a hello yet: one of them may be the child a barrier asks about. */
  private unclaimed = 0;
  private readonly waits = new Set<Wait>();
  /** How many waits concern each pid: a delivery to an unconcerned inbox costs one lookup. */
  private readonly watched = new Map<number, number>();
  /** Inboxes that may deliver now; pumped one after another, never re-entrantly. */
  private readonly ready = new Set<Inbox<C, M>>();
  private pumping = false;
  /** The run is over: barriers no longer hold anything. */
  private flushing = false;
  /**
   * Children a parent announced (`spawned`) that have neither said hello nor ended, by parent:
   * each with how many of the parent's messages were delivered once it was announced.
   */
  private readonly expected = new Map<number, Map<number, number>>();
  private readonly parentOf = new Map<number, number>();

  constructor(
    private readonly host: SequencerHost<C, M>,
    /** The stamp order of reports that carry their own stamps. */
    readonly stamps: StampOrder,
    private readonly waitMs = ORDER_WAIT_MS,
  ) {}

  open(conn: C): Inbox<C, M> {
    const inbox = new Inbox<C, M>(conn);
    this.inboxes.add(inbox);
    this.unclaimed += 1;
    return inbox;
  }

  /** The connection said which process it is (its hello arrived, delivered or not). */
  claim(inbox: Inbox<C, M>, pid: number): void {
    if (inbox.pid !== 0) return;
    inbox.pid = pid;
    // A second connection claiming a pid whose first is still open does not take its place in
    // the barriers (the gate decides about it); a pid that came back after its end does.
    const first = this.byPid.get(pid);
    if (!first || first.drained) this.byPid.set(pid, inbox);
    this.unclaimed -= 1;
    this.recheck();
  }

  /** A message arrived on the connection. */
  push(inbox: Inbox<C, M>, m: M): void {
    if (inbox.drained) return;
    // The common case, on the hot path: nothing held, nothing to wait for: delivered at once.
    if (!this.pumping && inbox.waiting === null && inbox.held === null && inbox.queue.length === 0 && this.host.barrierOf(inbox, m) === null) {
      this.pumping = true;
      try {
        this.delivered(inbox, m);
      } finally {
        this.pumping = false;
      }
      if (this.ready.size > 0) this.pump();
      return;
    }
    inbox.queue.push(m);
    this.wake(inbox);
  }

  /** The connection closed: nothing more will arrive. */
  close(inbox: Inbox<C, M>): void {
    if (inbox.closed) return;
    inbox.closed = true;
    if (inbox.pid === 0) {
      this.unclaimed -= 1;
      inbox.drained = true;
      this.inboxes.delete(inbox);
      this.recheck();
      return;
    }
    this.wake(inbox);
  }

  /** While `parent` delivers it: a child it started, which its later siblings are listed after. */
  announce(parent: Inbox<C, M>, child: number): void {
    // Its hello may come first (a forked manager server says it before its parent's `spawned`
    // is read): a child already listed is no sibling to wait for.
    const known = this.byPid.get(child);
    if (known && (known.read > 0 || known.drained)) return;
    const byChild = this.expected.get(parent.pid) ?? new Map<number, number>();
    this.expected.set(parent.pid, byChild);
    byChild.set(child, parent.read + 1);
    this.parentOf.set(child, parent.pid);
  }

  /** `pid` said hello, or its exit is known: its siblings no longer wait for it. */
  settled(pid: number): void {
    const parent = this.parentOf.get(pid);
    if (parent === undefined) return;
    this.parentOf.delete(pid);
    const byChild = this.expected.get(parent);
    byChild?.delete(pid);
    if (byChild?.size === 0) this.expected.delete(parent);
    this.recheck();
  }

  /** The inbox of `pid`, if it ever connected (its newest). */
  inboxOf(pid: number): Inbox<C, M> | undefined {
    return this.byPid.get(pid);
  }

  /** Calls `then` once `pid`'s inbox is drained or `pid` never connected (bounded, see above). */
  whenDrained(pid: number, then: () => void): void {
    this.await({ until: 'drained', pid }, then);
  }

  /** Connections still open. */
  get connected(): number {
    let n = 0;
    for (const inbox of this.inboxes) if (!inbox.closed) n += 1;
    return n;
  }

  /** The run is over: every wait ends now and everything received is delivered. */
  flush(): void {
    this.flushing = true;
    for (const w of [...this.waits]) this.end(w);
    for (const inbox of this.inboxes) this.ready.add(inbox);
    this.pump();
  }

  dispose(): void {
    for (const w of this.waits) if (w.timer) clearTimeout(w.timer);
    this.waits.clear();
  }

  // ---- internals ------------------------------------------------------------------------------

  private wake(inbox: Inbox<C, M>): void {
    this.ready.add(inbox);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let inbox = first(this.ready); inbox; inbox = first(this.ready)) {
        this.ready.delete(inbox);
        this.run(inbox);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Delivers what `inbox` holds, in order, until a barrier stops it. */
  private run(inbox: Inbox<C, M>): void {
    while (inbox.waiting === null && !inbox.drained) {
      let m = inbox.held;
      if (m !== null) inbox.held = null;
      else {
        m = inbox.queue.shift() ?? null;
        if (m === null) break;
        const barrier = this.flushing ? null : this.host.barrierOf(inbox, m);
        if (barrier !== null && !this.satisfied(barrier, null)) {
          inbox.held = m;
          this.hold(inbox, barrier);
          return;
        }
      }
      this.delivered(inbox, m);
    }
    if (inbox.closed && !inbox.drained && inbox.waiting === null && inbox.held === null && inbox.queue.length === 0) {
      inbox.drained = true;
      this.inboxes.delete(inbox);
      this.host.drained(inbox);
      if (this.watched.has(inbox.pid)) this.recheck();
    }
  }

  private delivered(inbox: Inbox<C, M>, m: M): void {
    this.host.deliver(inbox, m);
    inbox.read += 1;
    if (inbox.read === 1) this.settled(inbox.pid);
    if (this.watched.has(inbox.pid)) this.recheck();
  }

  private hold(inbox: Inbox<C, M>, barrier: Barrier): void {
    this.host.waiting(inbox, true);
    inbox.waiting = this.await(barrier, () => {
      inbox.waiting = null;
      if (!inbox.closed) this.host.waiting(inbox, false);
      this.wake(inbox);
    });
  }

  private await(barrier: Barrier, then: () => void): Wait | null {
    const w: Wait = { barrier, then, timer: null, turned: false, extended: false };
    if (this.flushing || this.satisfied(barrier, w)) {
      then();
      return null;
    }
    this.waits.add(w);
    this.watched.set(barrier.pid, (this.watched.get(barrier.pid) ?? 0) + 1);
    w.timer = setTimeout(() => this.expire(w), this.waitMs);
    w.timer.unref();
    if (barrier.until === 'drained') {
      setImmediate(() => {
        w.turned = true;
        if (this.waits.has(w)) this.recheck();
      });
    }
    return w;
  }

  private satisfied(b: Barrier, w: Wait | null): boolean {
    const inbox = this.byPid.get(b.pid);
    if (b.until === 'hello') return (inbox === undefined || inbox.drained || inbox.read >= b.count) && this.olderSiblings(b).length === 0;
    if (inbox !== undefined) return inbox.drained;
    // Never connected: nobody unaccounted for is connected, and a turn has let pending ones in.
    return w !== null && w.turned && this.unclaimed === 0;
  }

  private recheck(): void {
    if (this.waits.size === 0) return;
    for (const w of [...this.waits]) if (this.waits.has(w) && this.satisfied(w.barrier, w)) this.end(w);
  }

  /**
   * Siblings announced before the child of a hello barrier that have not said hello nor ended.
   * One that is dead without having connected never will: it is listed in its place (vanished)
   * and waited for no more.
   */
  private olderSiblings(b: Extract<Barrier, { until: 'hello' }>): number[] {
    const byChild = this.expected.get(b.pid);
    if (!byChild) return [];
    const older: number[] = [];
    for (const [child, at] of byChild) if (child !== b.child && at <= b.count) older.push(child);
    const waitFor = older.filter((pid) => this.byPid.has(pid) || this.unclaimed > 0 || this.host.alive(pid));
    for (const pid of older) {
      if (waitFor.includes(pid)) continue;
      this.host.vanished(pid);
      this.parentOf.delete(pid);
      byChild.delete(pid);
    }
    if (byChild.size === 0) this.expected.delete(b.pid);
    return waitFor;
  }

  /**
   * A wait that ran out of time ends; siblings a hello waited for are waited for no more. A wait
   * for a child's end whose child is itself held at its hello releases the child first, once,
   * and waits on (see the top).
   */
  private expire(w: Wait): void {
    const b = w.barrier;
    if (b.until === 'hello') for (const pid of this.olderSiblings(b)) this.settled(pid);
    const held = b.until === 'drained' ? this.byPid.get(b.pid)?.waiting : null;
    if (held && held.barrier.until === 'hello' && !w.extended) {
      w.extended = true;
      w.timer = setTimeout(() => this.expire(w), this.waitMs);
      w.timer.unref();
      this.expire(held);
      return;
    }
    this.end(w);
  }

  private end(w: Wait): void {
    if (!this.waits.delete(w)) return;
    if (w.timer) clearTimeout(w.timer);
    const pid = w.barrier.pid;
    const n = (this.watched.get(pid) ?? 1) - 1;
    if (n > 0) this.watched.set(pid, n);
    else this.watched.delete(pid);
    w.then();
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const v of set) return v;
  return undefined;
}
