// The broker's queues. Depth is exact: it counts items in the queue plus items lent to a
// consumer and not yet acknowledged (they are still "in the queue" until that consumer's get).
//
// Leases: the sole consumer of a queue may receive up to `max` items per request; it serves its
// next gets locally and acknowledges each (acks arrive batched, in order, on its connection), so
// a stream costs one round trip per batch. When a second consumer appears, outstanding leases
// are recalled and no new ones are granted: with several consumers every get is one item.

import type { Rid, WaitFailure } from '../../protocol.ts';
import { Fifo } from './fifo.ts';
import type { Emit, Peer } from './peer.ts';

interface Getter {
  peer: Peer;
  rid: Rid;
  max: number;
  timer: NodeJS.Timeout | null;
  /** It waited in the list (a reply says so: the runtime reports the wait). */
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
  puts = 0;
  gets = 0;
  peak = 0;

  constructor(
    readonly id: string,
    readonly maxsize: number,
  ) {}

  get depth(): number {
    return this.items.length + this.leased;
  }
}

export interface QueueFigures {
  queue: string;
  maxsize: number;
  puts: number;
  gets: number;
  depth: number;
  peak: number;
}

export class QueueTable {
  private readonly queues = new Map<string, BrokerQueue>();

  constructor(private readonly emit: Emit) {}

  create(peer: Peer, id: string, maxsize: number): void {
    if (this.queues.has(id)) return;
    const q = new BrokerQueue(id, Math.max(0, maxsize));
    this.queues.set(id, q);
    this.emit({ t: 0, type: 'queue', queue: id, op: 'create', pid: peer.pid, depth: 0, maxsize: q.maxsize });
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
      if (!block) {
        peer.send({ k: 'fail', rid, why: 'Full' });
        return;
      }
      const putter: Putter = { peer, rid, v, timer: null };
      if (timeout !== null) {
        putter.timer = setTimeout(() => {
          q.putters.remove((p) => p === putter);
          peer.send({ k: 'fail', rid, why: 'Full' satisfies WaitFailure, waited: true });
        }, timeout * 1000);
      }
      q.putters.push(putter);
      return;
    }
    this.admit(q, peer, v);
    if (rid !== undefined) peer.send({ k: 'ok', rid });
    this.serveGetters(q);
  }

  private admit(q: BrokerQueue, peer: Peer, v: Uint8Array): void {
    q.items.push(v);
    q.puts += 1;
    if (q.depth > q.peak) q.peak = q.depth;
    this.emit({ t: 0, type: 'queue', queue: q.id, op: 'put', pid: peer.pid, depth: q.depth, maxsize: q.maxsize });
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
    if (!block) {
      peer.send({ k: 'fail', rid, why: 'Empty' });
      return;
    }
    const getter: Getter = { peer, rid, max, timer: null, parked: true };
    if (timeout !== null) {
      getter.timer = setTimeout(() => {
        q.getters.remove((g) => g === getter);
        peer.send({ k: 'fail', rid, why: 'Empty', waited: true });
      }, timeout * 1000);
    }
    q.getters.push(getter);
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
    q.gets += 1;
    this.emit({ t: 0, type: 'queue', queue: q.id, op: 'get', pid: g.peer.pid, depth: q.depth, maxsize: q.maxsize });
    // `waited`: the runtime reports the wait and where its program waited (runtime/waits.ts).
    g.peer.send({ k: 'ok', rid: g.rid, v, ...(g.parked ? { waited: true } : {}) });
  }

  private serveGetters(q: BrokerQueue): void {
    while (q.getters.length > 0 && q.items.length > 0) {
      this.deliver(q, q.getters.shift() as Getter);
      this.admitPutters(q);
    }
  }

  private admitPutters(q: BrokerQueue): void {
    while (q.putters.length > 0 && q.depth < q.maxsize) {
      const p = q.putters.shift() as Putter;
      if (p.timer) clearTimeout(p.timer);
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
      q.gets += 1;
      this.emit({ t: 0, type: 'queue', queue: q.id, op: 'get', pid: peer.pid, depth: q.depth, maxsize: q.maxsize });
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

  figures(): QueueFigures[] {
    return [...this.queues.values()].map((q) => ({
      queue: q.id,
      maxsize: q.maxsize,
      puts: q.puts,
      gets: q.gets,
      depth: q.depth,
      peak: q.peak,
    }));
  }

  /** Clears every timer: the run is over. */
  dispose(): void {
    for (const q of this.queues.values()) {
      for (const g of q.getters.toArray()) if (g.timer) clearTimeout(g.timer);
      for (const p of q.putters.toArray()) if (p.timer) clearTimeout(p.timer);
    }
  }
}
