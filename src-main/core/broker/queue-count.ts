// The one count of a queue's depth, whichever runtime keeps the items: the broker's own queues
// (queues.ts) count puts and gets as they hand items over, a Python program's queues (observed.ts)
// as its processes report them. It alone writes `queue` events and keeps the figures.
//
// It also follows who is blocked at either end: a get on an empty queue, a put on a full one,
// from the moment it blocks (`wait`) until it goes on (`woken`) or gives up (`timeout`).

import type { QueueEvent, QueueOp, QueueSide } from '../../api.ts';
import type { Peer } from './peer.ts';
import type { ObjectEvents } from './stamps.ts';

export interface QueueFigures {
  queue: string;
  maxsize: number;
  puts: number;
  gets: number;
  depth: number;
  peak: number;
}

export class QueueCount {
  /** Listed (its `create` logged). */
  announced = false;
  maxsize = 0;
  /** Puts minus gets. Reports can come late (a get before the put it took): shown clamped at 0. */
  count = 0;
  puts = 0;
  gets = 0;
  peak = 0;
  /** `t` of its last event. */
  lastT = 0;
  /** Processes blocked in a get, and in a put, in arrival order (a process twice if two of its threads are). */
  readonly getters: number[] = [];
  readonly putters: number[] = [];

  constructor(readonly id: string) {}

  get depth(): number {
    return this.count > 0 ? this.count : 0;
  }
}

export class QueueCounts {
  private readonly queues = new Map<string, QueueCount>();

  constructor(private readonly out: ObjectEvents) {}

  /** The queue `id`, made (not yet listed) if it is new. */
  ensure(id: string): QueueCount {
    let q = this.queues.get(id);
    if (!q) this.queues.set(id, (q = new QueueCount(id)));
    return q;
  }

  /** Lists a queue as new and empty (a second create of an id starts it again). */
  created(peer: Peer, q: QueueCount, maxsize: number, at?: number): void {
    q.announced = true;
    q.count = 0;
    q.maxsize = maxsize > 0 ? maxsize : 0;
    this.event(q, 'create', peer.pid, at);
  }

  put(peer: Peer, q: QueueCount, at?: number): void {
    q.count += 1;
    q.puts += 1;
    if (q.count > q.peak) q.peak = q.count;
    this.event(q, 'put', peer.pid, at);
  }

  got(peer: Peer, q: QueueCount, at?: number): void {
    q.count -= 1;
    q.gets += 1;
    this.event(q, 'get', peer.pid, at);
  }

  /** `peer` blocks at the `side` end (a get on an empty queue, a put on a full one). */
  waits(peer: Peer, q: QueueCount, side: QueueSide, at?: number): void {
    (side === 'get' ? q.getters : q.putters).push(peer.pid);
    this.waitEvent(q, 'wait', peer.pid, side, at);
  }

  /** `peer`'s blocked get or put ended: it goes on (`woken`) or its timeout passed. No-op if it was not listed. */
  waitEnded(peer: Peer, q: QueueCount, side: QueueSide, how: 'woken' | 'timeout', at?: number): void {
    const list = side === 'get' ? q.getters : q.putters;
    const i = list.indexOf(peer.pid);
    if (i === -1) return;
    list.splice(i, 1);
    this.waitEvent(q, how, peer.pid, side, at);
  }

  /** A process is gone: its blocked gets and puts end, silently (its exit says why). */
  gone(peer: Peer): void {
    for (const q of this.queues.values()) {
      for (const list of [q.getters, q.putters]) for (let i = list.indexOf(peer.pid); i !== -1; i = list.indexOf(peer.pid)) list.splice(i, 1);
    }
  }

  figures(): QueueFigures[] {
    const out: QueueFigures[] = [];
    for (const q of this.queues.values()) {
      if (q.announced) out.push({ queue: q.id, maxsize: q.maxsize, puts: q.puts, gets: q.gets, depth: q.depth, peak: q.peak });
    }
    return out;
  }

  private waitEvent(q: QueueCount, op: QueueOp, pid: number, side: QueueSide, at: number | undefined): void {
    const e: QueueEvent = { t: 0, type: 'queue', queue: q.id, op, pid, depth: q.depth, maxsize: q.maxsize, side, getters: [...q.getters], putters: [...q.putters] };
    this.out.log(e, at, q);
  }

  private event(q: QueueCount, op: QueueOp, pid: number, at: number | undefined): void {
    // `t` first, so the session can stamp it in place (the hot path: no copy per event).
    const e: QueueEvent = { t: 0, type: 'queue', queue: q.id, op, pid, depth: q.depth, maxsize: q.maxsize };
    this.out.log(e, at, q);
  }
}
