// The broker's queues. Depth is exact: it counts items in the queue plus items lent to a
// consumer and not yet acknowledged (they are still "in the queue" until that consumer's get).
//
// Leases: the sole consumer of a queue may receive up to `max` items per request; it serves its
// next gets locally and acknowledges each (acks arrive batched, in order, on its connection), so
// a stream costs one round trip per batch. When a second consumer appears, outstanding leases
// are recalled and no new ones are granted: with several consumers every get is one item.

import type { QueueSide } from '../../api.ts';
import type { Rid } from '../../protocol.ts';
import { Fifo } from './fifo.ts';
import type { Peer } from './peer.ts';
import type { QueueCount, QueueCounts } from './queue-count.ts';

interface Getter {
  peer: Peer;
  rid: Rid;
  max: number;
  timer: NodeJS.Timeout | null;
  /** It waited in the line: the answer says so (the runtime reports the wait, runtime/waits.ts). */
  parked?: boolean;
}

interface Putter {
  peer: Peer;
  rid: Rid;
  v: Uint8Array;
  timer: NodeJS.Timeout | null;
}

class BrokerQueue {
  readonly items = new Fifo<Uint8Array>();
  readonly leases = new Map<Peer, Fifo<Uint8Array>>();
  leased = 0;
  readonly getters = new Fifo<Getter>();
  readonly putters = new Fifo<Putter>();
  readonly consumers = new Set<Peer>();
  readonly recalled = new Set<Peer>();

  constructor(
    readonly id: string,
    readonly maxsize: number,
    /** Its puts and gets, as logged. */
    readonly count: QueueCount,
  ) {}

  /** Items in the queue plus items leased and not yet got: puts minus gets. */
  get depth(): number {
    return this.count.count;
  }
}

/**
 * A getter or putter that cannot be served now waits in `line` (logged as a wait at its end of
 * the queue), and fails when its timeout passes; one that may not block fails at once.
 */
function wait<W extends { peer: Peer; timer: NodeJS.Timeout | null; parked?: boolean }>(
  counts: QueueCounts,
  q: BrokerQueue,
  side: QueueSide,
  line: Fifo<W>,
  w: W,
  block: boolean,
  timeout: number | null,
  fail: (waited: boolean) => void,
): void {
  if (!block) return fail(false);
  if (timeout !== null) {
    w.timer = setTimeout(() => {
      line.remove((x) => x === w);
      counts.waitEnded(w.peer, q.count, side, 'timeout');
      fail(true);
    }, timeout * 1000);
  }
  w.parked = true;
  line.push(w);
  counts.waits(w.peer, q.count, side);
}

/** What an answer adds when its request waited in a line. */
const waitedFlag = (waited: boolean | undefined) => (waited ? { waited: true } : {});

export class QueueTable {
  private readonly queues = new Map<string, BrokerQueue>();

  constructor(private readonly counts: QueueCounts) {}

  create(peer: Peer, id: string, maxsize: number): void {
    if (this.queues.has(id)) return;
    const q = new BrokerQueue(id, Math.max(0, maxsize), this.counts.ensure(id));
    this.queues.set(id, q);
    this.counts.created(peer, q.count, q.maxsize);
  }

  private find(peer: Peer, id: string, rid?: Rid): BrokerQueue | null {
    const q = this.queues.get(id);
    if (!q && rid !== undefined) peer.send({ k: 'fail', rid, why: 'Error', message: `unknown queue ${id}` });
    return q ?? null;
  }

  put(peer: Peer, id: string, v: Uint8Array, rid: Rid | undefined, block: boolean, timeout: number | null): void {
    const q = this.find(peer, id, rid);
    if (!q) return;
    if (q.maxsize > 0 && (q.depth >= q.maxsize || q.putters.length > 0)) {
      if (rid === undefined) return; // a bounded put always carries a rid; ignore a malformed one
      return wait(this.counts, q, 'put', q.putters, { peer, rid, v, timer: null }, block, timeout, (waited) => peer.send({ k: 'fail', rid, why: 'Full', ...waitedFlag(waited) }));
    }
    this.admit(q, peer, v);
    if (rid !== undefined) peer.send({ k: 'ok', rid });
    this.serveGetters(q);
  }

  private admit(q: BrokerQueue, peer: Peer, v: Uint8Array): void {
    q.items.push(v);
    this.counts.put(peer, q.count);
  }

  /** The sole consumer asks early for its next batch: all leased, none a get yet; never waits. */
  prefetch(peer: Peer, id: string, rid: Rid, max: number): void {
    const q = this.find(peer, id, rid);
    if (!q) return;
    if (q.consumers.size !== 1 || !q.consumers.has(peer) || q.getters.length > 0 || q.items.length === 0) {
      peer.send({ k: 'ok', rid, v: [] });
      return;
    }
    const n = Math.min(max, q.items.length);
    const v: Uint8Array[] = [];
    let held = q.leases.get(peer);
    if (!held) q.leases.set(peer, (held = new Fifo()));
    for (let i = 0; i < n; i++) {
      const item = q.items.shift() as Uint8Array;
      v.push(item);
      held.push(item);
    }
    q.leased += n;
    peer.send({ k: 'ok', rid, v });
  }

  /** Consecutive unbounded puts of one process, in order. */
  putMany(peer: Peer, id: string, vs: Uint8Array[]): void {
    const q = this.find(peer, id);
    if (!q) return;
    if (q.maxsize > 0) return; // bounded puts wait for room one by one: they never come batched
    for (const v of vs) this.admit(q, peer, v);
    this.serveGetters(q);
  }

  get(peer: Peer, id: string, rid: Rid, block: boolean, timeout: number | null, max: number): void {
    const q = this.find(peer, id, rid);
    if (!q) return;
    if (!q.consumers.has(peer)) {
      q.consumers.add(peer);
      if (q.consumers.size > 1) this.recallLeases(q, peer);
    }
    if (q.items.length > 0 && q.getters.length === 0) {
      this.deliver(q, { peer, rid, max, timer: null });
      this.admitPutters(q);
      return;
    }
    if (q.items.length === 0 && q.leased > 0) this.recallLeases(q, peer);
    wait(this.counts, q, 'get', q.getters, { peer, rid, max, timer: null }, block, timeout, (waited) => peer.send({ k: 'fail', rid, why: 'Empty', ...waitedFlag(waited) }));
  }

  /** Hands the head item (and, to a sole consumer, a lease of more) to a getter. */
  private deliver(q: BrokerQueue, g: Getter): void {
    if (g.timer) clearTimeout(g.timer);
    const lease = q.consumers.size === 1 ? Math.min(g.max, q.items.length) : 1;
    const v: Uint8Array[] = [];
    for (let i = 0; i < lease; i++) v.push(q.items.shift() as Uint8Array);
    if (lease > 1) {
      let held = q.leases.get(g.peer);
      if (!held) q.leases.set(g.peer, (held = new Fifo()));
      for (let i = 1; i < v.length; i++) held.push(v[i]);
      q.leased += lease - 1;
    }
    this.counts.got(g.peer, q.count);
    g.peer.send({ k: 'ok', rid: g.rid, v, ...waitedFlag(g.parked) });
  }

  private serveGetters(q: BrokerQueue): void {
    while (q.getters.length > 0 && q.items.length > 0) {
      const g = q.getters.shift() as Getter;
      this.counts.waitEnded(g.peer, q.count, 'get', 'woken');
      this.deliver(q, g);
      this.admitPutters(q);
    }
  }

  private admitPutters(q: BrokerQueue): void {
    while (q.putters.length > 0 && q.depth < q.maxsize) {
      const p = q.putters.shift() as Putter;
      if (p.timer) clearTimeout(p.timer);
      this.counts.waitEnded(p.peer, q.count, 'put', 'woken');
      this.admit(q, p.peer, p.v);
      p.peer.send({ k: 'ok', rid: p.rid, waited: true });
    }
  }

  private recallLeases(q: BrokerQueue, except: Peer): void {
    for (const [holder, items] of q.leases) {
      if (holder !== except && items.length > 0 && !q.recalled.has(holder)) {
        q.recalled.add(holder);
        holder.send({ k: 'recall', q: q.id });
      }
    }
  }

  /** The consumer got `n` items from its lease: each is a get, observed now. */
  ack(peer: Peer, id: string, n: number): void {
    const q = this.find(peer, id);
    const held = q?.leases.get(peer);
    if (!q || !held) return;
    const count = Math.min(n, held.length);
    for (let i = 0; i < count; i++) {
      held.shift();
      q.leased -= 1;
      this.counts.got(peer, q.count);
    }
    if (held.length === 0) q.leases.delete(peer);
    this.admitPutters(q);
  }

  /** The consumer gave back its unconsumed lease (after acking what it consumed). */
  returned(peer: Peer, id: string): void {
    const q = this.find(peer, id);
    if (!q) return;
    q.recalled.delete(peer);
    this.giveBack(q, peer);
    this.serveGetters(q);
  }

  private giveBack(q: BrokerQueue, peer: Peer): void {
    const held = q.leases.get(peer);
    if (!held) return;
    q.leases.delete(peer);
    q.leased -= held.length;
    q.items.unshiftAll(held.toArray());
  }

  size(peer: Peer, id: string, rid: Rid): void {
    const q = this.find(peer, id, rid);
    if (q) peer.send({ k: 'ok', rid, n: q.depth });
  }

  /** A process is gone: its lease goes back to the front, its pending waits are dropped. */
  disconnect(peer: Peer): void {
    for (const q of this.queues.values()) {
      for (const g of q.getters.removeAll((g) => g.peer === peer)) if (g.timer) clearTimeout(g.timer);
      for (const p of q.putters.removeAll((p) => p.peer === peer)) if (p.timer) clearTimeout(p.timer);
      q.consumers.delete(peer);
      q.recalled.delete(peer);
      this.giveBack(q, peer);
      this.serveGetters(q);
    }
  }

  /** Clears every timer: the run is over. */
  dispose(): void {
    for (const q of this.queues.values()) {
      for (const g of q.getters.toArray()) if (g.timer) clearTimeout(g.timer);
      for (const p of q.putters.toArray()) if (p.timer) clearTimeout(p.timer);
    }
  }
}
