// Python's multiprocessing.Queue. The queue lives in the monitor's broker, so its depth is exact;
// this object is a handle to it. Puts on an unbounded queue are sent without waiting for an
// answer (Python's feeder thread does the same); a sole consumer is lent a batch of items at a
// time (a lease) and acknowledges each get, so a stream of items costs one round trip per batch
// while every put and get is still observed by the broker.

import { unpackItems } from '../protocol.ts';
import { decodeItem, encodeItem } from './item-codec.ts';
import { broker, onRecall, type BrokerClient } from './connection.ts';
import { newObjectId } from './context.ts';
import { Empty, Full, ValueError } from './errors.ts';
import { loopTurned, sinceLoopTurned, turnEventLoop } from './event-loop.ts';
import { HANDLE, registerReviver, reviving, type HandleRef, type Shareable } from './marshal.ts';
import { waitBegin, waitEnd } from './waits.ts';

export interface WaitOptions {
  /** Wait when the queue is empty (get) or full (put). Default true. */
  block?: boolean;
  /** Seconds to wait at most; null or absent waits forever. */
  timeout?: number | null;
}

/** Largest lease asked for; the broker grants leases only to a queue's sole consumer. */
const LEASE_MAX = 512;

/** Unflushed bytes past which an unbounded put waits for the socket (Python's feeder buffers too). */
const BACKLOG_LIMIT = 1024 * 1024;

/** Longest (ms) a consumer served from its lease goes without letting its event loop turn. */
const LEASE_TURN_MS = 5;

interface Lease {
  items: Uint8Array[];
  head: number;
  /** Batches this large mean a stream: worth prefetching the next one. */
  streaming: boolean;
}

/** The items of a get's answer, packed or not. */
function itemsOf(reply: { v?: Uint8Array[]; pack?: Uint8Array }): Uint8Array[] {
  return reply.pack ? unpackItems(reply.pack) : (reply.v ?? []);
}

/** A lease of at least this many items marks a stream. */
const STREAMING = 64;

/** Queues with a prefetch in flight, by id. */
const prefetching = new Map<string, Promise<void>>();

/** Asks for the next batch of a stream; every item it brings is leased, none is a get yet. */
function prefetch(client: BrokerClient, q: string): void {
  const done = client
    .request((rid) => ({ k: 'get', rid, q, block: false, timeout: null, max: LEASE_MAX, prefetch: true }))
    .then((reply) => {
      const items = reply.k === 'ok' ? itemsOf(reply) : [];
      if (items.length === 0) return;
      const lease = leases.get(q);
      if (!lease) leases.set(q, { items, head: 0, streaming: items.length >= STREAMING });
      else {
        lease.items = lease.items.slice(lease.head).concat(items);
        lease.head = 0;
        lease.streaming = items.length >= STREAMING;
      }
    })
    .finally(() => prefetching.delete(q));
  prefetching.set(q, done);
}

/** Leased items per queue id, shared by every handle of that queue in this process. */
const leases = new Map<string, Lease>();

// Another consumer needs the items: what is left of the lease goes back.
onRecall('queue', (client, q) => {
  const lease = leases.get(q);
  const n = lease ? lease.items.length - lease.head : 0;
  leases.delete(q);
  client.send({ k: 'ret', q, n });
  client.flush();
});

function waitArgs(block: boolean | WaitOptions | undefined, timeout: number | null | undefined): {
  block: boolean;
  timeout: number | null;
} {
  const opts: WaitOptions = typeof block === 'object' && block !== null ? block : { block, timeout };
  const b = opts.block ?? true;
  const t = opts.timeout ?? null;
  if (b && t !== null && !(t >= 0)) throw new ValueError("'timeout' must be a non-negative number");
  return { block: b, timeout: b ? t : null };
}

/** Runtime-internal (Pool workers): a blocking get of exactly one item, never a lease. */
export let takeOne: <T>(queue: Queue<T>) => Promise<T>;

export class Queue<T = unknown> implements Shareable {
  readonly #id: string;
  readonly #maxsize: number;

  constructor(maxsize = 0) {
    const ref = reviving();
    this.#maxsize = ref ? (ref.maxsize ?? 0) : maxsize > 0 ? Math.floor(maxsize) : 0;
    if (ref) {
      this.#id = ref.id;
      return;
    }
    this.#id = newObjectId('queue');
    broker().send({ k: 'qnew', q: this.#id, maxsize: this.#maxsize });
  }

  /** The broker's id of this queue, as it appears in the run log. */
  get id(): string {
    return this.#id;
  }

  get maxsize(): number {
    return this.#maxsize;
  }

  [HANDLE](): HandleRef {
    return { kind: 'queue', id: this.#id, maxsize: this.#maxsize };
  }

  async put(obj: T, block?: boolean | WaitOptions, timeout?: number | null): Promise<void> {
    const w = waitArgs(block, timeout);
    const v = encodeItem(obj);
    const client = broker();
    const q = this.#id;
    if (this.#maxsize === 0) {
      const last = client.lastQueued();
      if (last && last.k === 'puts' && last.q === q && last.vs) {
        last.vs.push(v);
        client.grew(v.length + 8);
      } else client.send({ k: 'puts', q, vs: [v] });
      if (client.backlog > BACKLOG_LIMIT) await client.drain();
      return;
    }
    const wait = w.block ? waitBegin('put', { obj: q }) : null;
    const reply = await client.request((rid) => ({ k: 'put', q, v, rid, block: w.block, timeout: w.timeout }));
    if (wait) waitEnd(wait, reply.k === 'fail', reply.waited === true);
    if (reply.k === 'fail') {
      if (reply.why === 'Full' || reply.why === 'Timeout') throw new Full();
      throw new Error(reply.message ?? 'queue put failed');
    }
  }

  async get(block?: boolean | WaitOptions, timeout?: number | null): Promise<T> {
    return this.#get(waitArgs(block, timeout), LEASE_MAX);
  }

  /** `max` > 1 accepts a lease of up to `max` items when this process is the sole consumer. */
  async #get(w: { block: boolean; timeout: number | null }, max: number): Promise<T> {
    const q = this.#id;
    const client = broker();
    let lease = leases.get(q);
    if (lease && lease.head < lease.items.length && sinceLoopTurned() > LEASE_TURN_MS) {
      // Gets served from a lease resolve in microtasks, so a consumer that computes between gets
      // never lets its event loop turn: its acks and prints would wait for the whole lease, and so
      // would a recall (another consumer waiting for these very items). Let it turn now and then;
      // a recall handled meanwhile ends the lease.
      await turnEventLoop();
      lease = leases.get(q);
    }
    if (lease && lease.head < lease.items.length) {
      const item = lease.items[lease.head++];
      if (lease.head === lease.items.length) leases.delete(q);
      const last = client.lastQueued();
      if (last && last.k === 'ack' && last.q === q) last.n += 1;
      else client.send({ k: 'ack', q, n: 1 });
      // A stream: ask for the next batch while this one lasts, so the consumer never waits a
      // round trip with nothing to do.
      if (lease.streaming && !prefetching.has(q) && lease.items.length - lease.head <= LEASE_MAX / 2) prefetch(client, q);
      return decodeItem(item) as T;
    }
    const pending = prefetching.get(q);
    if (pending) {
      // Items it brings come before anything a new request could get: wait for them first.
      await pending;
      return this.#get(w, max);
    }
    const wait = w.block ? waitBegin('get', { obj: q }) : null;
    const reply = await client.request((rid) => ({
      k: 'get',
      rid,
      q,
      block: w.block,
      timeout: w.timeout,
      max,
    }));
    if (wait) waitEnd(wait, reply.k === 'fail', reply.waited === true);
    loopTurned();
    if (reply.k === 'fail') {
      if (reply.why === 'Empty' || reply.why === 'Timeout') throw new Empty();
      throw new Error(reply.message ?? 'queue get failed');
    }
    const items = itemsOf(reply);
    if (items.length === 0) throw new Error('broker answered a get with no item');
    if (items.length > 1) leases.set(q, { items, head: 1, streaming: items.length >= STREAMING });
    return decodeItem(items[0]) as T;
  }

  static {
    // Python's pool workers take one task per get: a lease would hold back tasks that an idle
    // worker could run while this one is busy (and a busy worker cannot answer a recall).
    takeOne = (queue) => queue.#get({ block: true, timeout: null }, 1);
  }

  putNowait(obj: T): Promise<void> {
    return this.put(obj, false);
  }

  getNowait(): Promise<T> {
    return this.get(false);
  }

  /** Items in the queue now, as the broker counts them (including items lent to a consumer). */
  async qsize(): Promise<number> {
    const q = this.#id;
    const reply = await broker().request((rid) => ({ k: 'qsize', rid, q }));
    if (reply.k === 'fail') throw new Error(reply.message ?? 'qsize failed');
    return reply.n ?? 0;
  }

  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  async full(): Promise<boolean> {
    return this.#maxsize > 0 && (await this.qsize()) >= this.#maxsize;
  }

  /** Python's close(): this process will put no more. Nothing to release here. */
  close(): void {}

  /** Python's join_thread(): puts are already handed to the broker when the batch flushes. */
  joinThread(): void {
    broker().flush();
  }

  cancelJoinThread(): void {}
}

registerReviver('queue', () => new Queue());
