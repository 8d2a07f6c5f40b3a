import { afterEach, describe, expect, it } from 'vitest';
import type { DeadlockEvent, LockEvent, QueueEvent, RunEvent, UnstampedEvent } from '../../src-main/api.ts';
import { LockStates } from '../../src-main/core/broker/lock-state.ts';
import { ObservedReports } from '../../src-main/core/broker/observed.ts';
import type { Peer } from '../../src-main/core/broker/peer.ts';
import { QueueCounts } from '../../src-main/core/broker/queue-count.ts';
import { StampOrder } from '../../src-main/core/broker/stamp-order.ts';
import { ObjectEvents, Stamps } from '../../src-main/core/broker/stamps.ts';
import { OP_BITS, OpCode, type OpRecords } from '../../src-main/protocol.ts';
import { SharedCounts } from '../../src-main/core/broker/shared-counts.ts';
import { SyncStates } from '../../src-main/core/broker/sync-state.ts';

// What a reporting runtime (the Python shim) says it did, stamped by its own clock: JSON reports
// and packed records alike wait out the stamp window and are applied in stamp order, to the same
// lock state and queue count as the broker's own objects.

const peer = (pid: number): Peer => ({ pid, send() {} });
const A = peer(100);
const B = peer(200);

/** Records as decodeOps returns them: [at ms, object index, op]. */
function recs(...list: [number, number, OpCode][]): OpRecords {
  return {
    count: list.length,
    at: Float64Array.from(list.map(([at]) => at)),
    code: Int32Array.from(list.map(([, index, op]) => (index << OP_BITS) | op)),
  };
}

let clock = 0;
const orders: StampOrder[] = [];
afterEach(() => orders.splice(0).forEach((o) => o.dispose()));

/** The reports' path through the broker, as server.ts wires it, with a clock the test moves. */
function table() {
  const events: (RunEvent | UnstampedEvent)[] = [];
  clock = 0;
  const out = new ObjectEvents((e) => events.push(e), (e) => events.push(e), new Stamps(() => Infinity));
  const locks = new LockStates(out);
  const queues = new QueueCounts(out);
  let reports: ObservedReports | null = null;
  const order = new StampOrder((...a) => reports?.apply(...a), () => locks.checkDeadlocks(), () => clock, 100);
  orders.push(order);
  reports = new ObservedReports(locks, queues, new SyncStates(out), new SharedCounts(out, 100), order);
  const r = reports;
  const t = {
    queue: r.queue.bind(r),
    records: r.records.bind(r),
    drain: (all: boolean) => order.drain(all),
    disconnect: (p: Peer) => r.disconnect(p, clock),
    lock: r.lock.bind(r),
    queueFigures: () => queues.figures(),
    lockFigures: () => locks.figures(),
  };
  return { t, events };
}

const locks = (events: (RunEvent | UnstampedEvent)[]) => events.filter((e): e is LockEvent => e.type === 'lock');
const queues = (events: (RunEvent | UnstampedEvent)[]) => events.filter((e): e is QueueEvent => e.type === 'queue');

describe('observed queues and locks', () => {
  it('a second create of a known queue id starts an empty queue; a late create changes nothing', () => {
    const { t, events } = table();
    // A manager names queues by address: a freed queue's name comes back for a new one.
    t.queue(A, 'mq', 'create', 0, 1);
    t.queue(A, 'mq', 'put', 0, 2);
    t.queue(A, 'mq', 'put', 0, 3);
    t.queue(B, 'mq', 'create', 5, 10);
    t.queue(B, 'mq', 'put', 0, 11);
    clock = 200;
    t.drain(false);
    // A create stamped before what was applied is a late report, not a new queue.
    t.queue(A, 'mq', 'create', 0, 4);
    clock = 400;
    t.drain(false);
    expect(queues(events).map((e) => [e.op, e.depth, e.maxsize])).toEqual([
      ['create', 0, 0],
      ['put', 1, 0],
      ['put', 2, 0],
      ['create', 0, 5],
      ['put', 1, 5],
    ]);
  });

  it('waits out the window, then applies reports of all processes in stamp order', () => {
    const { t, events } = table();
    t.queue(A, 'q', 'create', 0, 1);
    // The consumer's get arrives before the producer's put it took.
    t.records(B, ['q'], recs([12, 0, OpCode.QueueGet]));
    t.records(A, ['q'], recs([10, 0, OpCode.QueuePut], [11, 0, OpCode.QueuePut]));
    clock = 50;
    t.drain(false);
    expect(events).toEqual([]);
    clock = 111;
    t.drain(false);
    expect(queues(events).map((e) => [e.op, e.pid, e.depth, e.t])).toEqual([
      ['create', 100, 0, 1],
      ['put', 100, 1, 10],
      ['put', 100, 2, 11],
    ]);
    clock = 200;
    t.drain(false);
    expect(queues(events).map((e) => [e.op, e.depth])).toEqual([['create', 0], ['put', 1], ['put', 2], ['get', 1]]);
    expect(t.queueFigures()).toEqual([{ queue: 'q', maxsize: 0, puts: 2, gets: 1, depth: 1, peak: 2 }]);
  });

  it('hands a lock over in stamp order, whatever order the batches arrive in', () => {
    const { t, events } = table();
    const ids = ['L'];
    t.records(B, ids, recs([5, 0, OpCode.LockRequest], [20, 0, OpCode.LockAcquire], [21, 0, OpCode.LockRelease]));
    t.records(A, ids, recs([1, 0, OpCode.LockRequestAcquire], [19, 0, OpCode.LockRelease]));
    t.drain(true);
    expect(locks(events).map((e) => [e.op, e.pid, e.holder, e.waiters])).toEqual([
      ['create', 100, null, []],
      // Taken at once: a request that never waited does not list its process.
      ['request', 100, null, []],
      ['acquire', 100, 100, []],
      ['request', 200, 100, [200]],
      ['release', 100, null, [200]],
      ['acquire', 200, 200, []],
      ['release', 200, null, []],
    ]);
    expect(t.lockFigures()).toEqual([{ lock: 'L', acquisitions: 2, contended: 1, holder: null, abandoned: false }]);
  });

  it('a report later than the window is applied at once, and never goes back in time', () => {
    const { t, events } = table();
    t.records(A, ['L'], recs([10, 0, OpCode.LockRequestAcquire]));
    clock = 300;
    t.drain(false);
    t.records(B, ['L'], recs([5, 0, OpCode.LockRequestTimeout]));
    t.drain(false);
    const l = locks(events);
    expect(l.map((e) => [e.op, e.pid, e.t])).toEqual([
      ['create', 100, 10],
      ['request', 100, 10],
      ['acquire', 100, 10],
      ['request', 200, 10],
      ['timeout', 200, 10],
    ]);
    // A refused non-blocking attempt is a request and a timeout, never a wait.
    expect(l[3].waiters).toEqual([]);
    expect(l[4].waiters).toEqual([]);
  });

  it('a semaphore made with value 0 is a signal: its holder waiting for another permit is no deadlock; a Semaphore(1) taken twice by its holder is', () => {
    const { t, events } = table();
    t.records(A, ['ready'], recs([2, 0, OpCode.LockAcquire], [3, 0, OpCode.LockRequest]));
    // B gives one permit of the signal, then takes its mutex twice.
    t.records(B, ['mutex', 'ready'], recs([1.5, 1, OpCode.LockRelease], [4, 0, OpCode.LockRequestAcquire], [5, 0, OpCode.LockRequest]));
    // Made before they are used: a create report carries the kind and the initial value.
    const r = t.lock;
    r(A, 'ready', 'create', 1, { kind: 'semaphore', value: 0 });
    r(B, 'mutex', 'create', 1, { kind: 'semaphore', value: 1 });
    t.drain(true);
    const ready = locks(events).filter((e) => e.lock === 'ready');
    expect(ready.map((e) => [e.op, e.pid, e.holders, e.waiters])).toEqual([
      ['create', 100, [], []],
      ['release', 200, [], []],
      ['acquire', 100, [100], []],
      ['request', 100, [100], [100]],
    ]);
    const cycles = events.filter((e): e is DeadlockEvent => e.type === 'deadlock').map((e) => e.cycle);
    expect(cycles).toEqual([[{ pid: 200, lock: 'mutex', holder: 200 }]]);
  });

  it('finds a deadlock from waits in records, and reports a lock held by a process that left', () => {
    const { t, events } = table();
    t.records(A, ['L1', 'L2'], recs([1, 0, OpCode.LockRequestAcquire], [3, 1, OpCode.LockRequest]));
    t.records(B, ['L2', 'L1'], recs([2, 0, OpCode.LockRequestAcquire], [4, 1, OpCode.LockRequest]));
    t.drain(true);
    const cycle = events.find((e): e is DeadlockEvent => e.type === 'deadlock');
    // Searched once the whole batch is applied, from its first wait.
    expect(cycle?.cycle).toEqual([
      { pid: 100, lock: 'L2', holder: 200 },
      { pid: 200, lock: 'L1', holder: 100 },
    ]);
    expect(events.filter((e) => e.type === 'deadlock')).toHaveLength(1);
    clock = 10;
    t.disconnect(A);
    t.drain(true);
    expect(locks(events).slice(-1)[0]).toMatchObject({ op: 'abandoned', lock: 'L1', pid: 100, holder: 100, waiters: [200] });
  });
});
