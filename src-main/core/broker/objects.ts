// Every object the processes of a run share, as the broker keeps it: the models that write the
// log (lock-state, queue-count, sync-state, shared-counts), the broker's own objects that the
// TypeScript runtime asks for (queues, locks and semaphores, Conditions/Events/Barriers, manager
// objects), and the reports of a runtime that keeps its objects itself (the Python shim). The
// server hands it each object message in causal order; it answers the peers and logs.

import {
  decodeOps,
  namedRecords,
  unpackItems,
  type OpsMessage,
  type UpMessage,
} from '../../protocol.ts';
import type { Connection } from './connection.ts';
import { LockTable } from './locks.ts';
import { LockStates } from './lock-state.ts';
import { ObservedReports } from './observed.ts';
import { QueueCounts } from './queue-count.ts';
import { QueueTable } from './queues.ts';
import { SharedCounts } from './shared-counts.ts';
import { SharedObjects } from './shared-objects.ts';
import { StampOrder } from './stamp-order.ts';
import type { ObjectEvents } from './stamps.ts';
import { SyncTable } from './sync-objects.ts';
import { SyncStates } from './sync-state.ts';

/** The messages about shared objects (everything but process lifecycle, output and answers). */
export type ObjectMessage = Extract<
  UpMessage,
  {
    k:
      | 'put' | 'puts' | 'get' | 'ack' | 'ret' | 'qsize' | 'qnew'
      | 'lnew' | 'acq' | 'rel' | 'lops' | 'lret' | 'lheld' | 'stuck'
      | 'snew' | 'swait' | 'sop' | 'sget' | 'shnew' | 'sh'
      | 'qrep' | 'lrep' | 'srep' | 'shrep' | 'ops';
  }
>;

const OBJECT_KINDS = new Set<string>([
  'put', 'puts', 'get', 'ack', 'ret', 'qsize', 'qnew',
  'lnew', 'acq', 'rel', 'lops', 'lret', 'lheld', 'stuck',
  'snew', 'swait', 'sop', 'sget', 'shnew', 'sh',
  'qrep', 'lrep', 'srep', 'shrep', 'ops',
]);

export function isObjectMessage(m: UpMessage): m is ObjectMessage {
  return OBJECT_KINDS.has(m.k);
}

export interface ObjectOptions {
  /** How often manager objects' `use` counts are written, ms (the run's sampling interval). */
  sharedIntervalMs: number;
  /** Log each call on a manager object too. */
  sharedCalls: boolean;
}

export class BrokerObjects {
  readonly lockStates: LockStates;
  readonly queueCounts: QueueCounts;
  readonly syncStates: SyncStates;
  readonly sharedCounts: SharedCounts;
  /** Reports stamped with their sender's clock, applied in stamp order. */
  readonly stampOrder: StampOrder;
  private readonly queues: QueueTable;
  private readonly locks: LockTable;
  private readonly syncs: SyncTable;
  private readonly shared: SharedObjects;
  private readonly observed: ObservedReports;

  constructor(
    events: ObjectEvents,
    now: () => number,
    opts: ObjectOptions,
    /** One bad message of a connection: said, and skipped. */
    private readonly warn: (conn: Connection, why: string) => void,
  ) {
    this.lockStates = new LockStates(events);
    this.queueCounts = new QueueCounts(events);
    this.syncStates = new SyncStates(events);
    this.sharedCounts = new SharedCounts(events, opts.sharedIntervalMs, opts.sharedCalls);
    this.queues = new QueueTable(this.queueCounts);
    this.locks = new LockTable(this.lockStates);
    this.syncs = new SyncTable(this.syncStates);
    this.shared = new SharedObjects(this.sharedCounts);
    this.stampOrder = new StampOrder(
      (peer, at, op, target, arg) => this.observed.apply(peer, at, op, target, arg),
      () => this.lockStates.checkDeadlocks(),
      now,
    );
    this.observed = new ObservedReports(this.lockStates, this.queueCounts, this.syncStates, this.sharedCounts, this.stampOrder);
  }

  /** One object message, in causal order. */
  deliver(conn: Connection, m: ObjectMessage): void {
    switch (m.k) {
      case 'put':
        return this.queues.put(conn, m.q, m.v, m.rid, m.block ?? true, m.timeout ?? null);
      case 'puts': {
        let items: Uint8Array[];
        try {
          items = m.pack ? unpackItems(m.pack) : (m.vs ?? []);
        } catch (err) {
          return this.warn(conn, `puts to ${m.q}: ${(err as Error).message}`);
        }
        return this.queues.putMany(conn, m.q, items);
      }
      case 'get':
        if (m.prefetch) return this.queues.prefetch(conn, m.q, m.rid, m.max);
        return this.queues.get(conn, m.q, m.rid, m.block, m.timeout, m.max);
      case 'ack':
        return this.queues.ack(conn, m.q, m.n);
      case 'ret':
        return this.queues.returned(conn, m.q);
      case 'qsize':
        return this.queues.size(conn, m.q, m.rid);
      case 'qnew':
        return this.queues.create(conn, m.q, m.maxsize);
      case 'lnew':
        return this.locks.create(conn, m.l, m.kind, m.value);
      case 'acq':
        return this.locks.acquire(conn, m.l, m.rid, m.block, m.timeout);
      case 'rel':
        return this.locks.release(conn, m.l, m.rid);
      case 'lops':
        return this.locks.lentOps(conn, m.l, m.ops, m.at);
      case 'lret':
        return this.locks.returned(conn, m.l);
      case 'lheld':
        return this.locks.heldOnRecall(conn, m.l);
      case 'stuck':
        return this.locks.stuck(conn, m.l);
      case 'snew':
        return this.syncs.create(conn, m.s, m.kind, { lock: m.lock, parties: m.parties });
      case 'swait':
        return this.syncs.wait(conn, m.s, m.rid, m.timeout, m.at);
      case 'sop':
        return this.syncs.op(conn, m.s, m.op, m.n ?? 1, m.at);
      case 'sget':
        if (m.what === 'value') return this.locks.value(conn, m.s, m.rid);
        return this.syncs.query(conn, m.s, m.rid, m.what);
      case 'shnew':
        return this.shared.create(conn, m.o, m.kind, m.v ?? []);
      case 'sh':
        return this.shared.call(conn, m.o, m.rid, m.m, { key: m.key, i: m.i, name: m.name, v: m.v });
      case 'qrep':
        return this.observed.queue(conn, m.q, m.op, m.maxsize ?? 0, m.at, m.side);
      case 'lrep':
        return this.observed.lock(conn, m.l, m.op, m.at, { timed: m.timed, kind: m.kind, value: m.value, error: m.error });
      case 'srep':
        return this.observed.sync(conn, m.s, m.kind, m.op, m.at, { n: m.n, lock: m.lock, parties: m.parties });
      case 'shrep':
        if (m.op === 'create' && m.kind) return this.observed.sharedCreated(conn, m.o, m.kind, m.at);
        if (m.m !== undefined) this.observed.sharedCall(conn, m.o, m.m, m.at);
        return;
      case 'ops':
        return this.ops(conn, m);
    }
  }

  /**
   * Records whose ids are out of step, or that name an object the connection never named, are
   * skipped (and said); the others are applied.
   */
  private ops(conn: Connection, m: OpsMessage): void {
    const known = conn.opIds.length;
    const inStep = m.base === known;
    // Said once; the records that then name no object are what it explains.
    if (!inStep) this.warn(conn, `ops ids start at ${m.base}, expected ${known}`);
    // Keep the table aligned with the sender's: ids it repeats are known, ids it skipped stay unnamed.
    for (let i = known; i < m.base; i++) conn.opIds.push('');
    for (let i = Math.max(0, known - m.base); i < m.ids.length; i++) conn.opIds.push(m.ids[i]);
    const records = decodeOps(m);
    const bad = namedRecords(records, conn.opIds);
    if (bad && inStep) this.warn(conn, `malformed ops: ${bad.why}`);
    this.observed.records(conn, conn.opIds, bad ? bad.kept : records);
  }

  /** Everything `conn` sent is handled and it is closed: what it held or waited for is settled. */
  disconnect(conn: Connection, now: number): void {
    this.queues.disconnect(conn);
    this.syncs.disconnect(conn);
    if (conn.borrows) {
      // The broker's own objects: its waits end now, what it held is abandoned now.
      this.lockStates.gone(conn);
      this.queueCounts.gone(conn);
      this.syncStates.gone(conn);
      this.locks.disconnect(conn);
    } else {
      // A reporting runtime's: after its reports stamped before now.
      this.observed.disconnect(conn, now);
    }
  }

  /** The run is over (or nobody is left to report): what still waits is applied, the counts written. */
  drain(): void {
    this.stampOrder.drain(true);
    this.sharedCounts.flush();
  }

  dispose(): void {
    this.locks.dispose();
    this.queues.dispose();
    this.syncs.dispose();
    this.sharedCounts.dispose();
    this.stampOrder.dispose();
  }
}
