// Queues, locks, semaphores, Conditions, Events, Barriers and manager objects a reporting runtime
// (the Python shim) keeps itself: the real objects live in the program's processes (pipes,
// semaphores, a manager's server), and each process reports what it did, stamped with its own
// clock. Reports go through the sequencer's stamp order (stamp-order.ts) and, in that order,
// drive the same models as the broker's own objects (lock-state.ts, queue-count.ts,
// sync-state.ts, shared-counts.ts).
//
// The shim states each fact as it knows it: a lock taken at once (never a wait), a non-blocking
// attempt refused at once, a request before a blocking wait and what ended it. An `ops`
// message's records name objects by index; they resolve once per connection and index.

import type { LockKind, SharedKind, SyncKind } from '../../api.ts';
import { OpCode, opIndex, opOf, type LockReportOp, type OpRecords, type QueueReportOp, type SyncReportOp } from '../../protocol.ts';
import type { LockState, LockStates } from './lock-state.ts';
import type { Peer } from './peer.ts';
import type { QueueCount, QueueCounts } from './queue-count.ts';
import type { SharedCounts, SharedObject } from './shared-counts.ts';
import { roundStamp } from './stamps.ts';
import type { StampOrder } from './stamp-order.ts';
import type { SyncState, SyncStates } from './sync-state.ts';

/** What a waiting report does (one byte each in the stamp order). */
const R = {
  QueueCreate: 0,
  QueuePut: 1,
  QueueGet: 2,
  /** arg: 0 a getter, 1 a putter. */
  QueueWait: 3,
  QueueWoken: 4,
  QueueTimeout: 5,
  /** arg: the initial value of a semaphore. */
  LockCreate: 10,
  SemaphoreCreate: 11,
  BoundedSemaphoreCreate: 12,
  LockRequest: 13,
  LockRequestTimed: 14,
  LockAcquire: 15,
  LockTakenAtOnce: 16,
  LockRelease: 17,
  LockTimeout: 18,
  LockRefused: 19,
  /** target: { lock, error }. */
  LockError: 20,
  /** arg: a Barrier's parties. */
  SyncCreate: 30,
  SyncWait: 31,
  SyncWoken: 32,
  SyncTimeout: 33,
  /** arg: n (negative: all). */
  SyncNotify: 34,
  EventSet: 35,
  EventClear: 36,
  BarrierAbort: 37,
  BarrierReset: 38,
  SyncBroken: 39,
  SharedCreate: 50,
  /** target: { object, method }. */
  SharedCall: 51,
  /** The process disconnected: applied after everything stamped before it. */
  Gone: 60,
} as const;

/** Record op (OpCode) -> report op. */
const FROM_OPCODE: readonly number[] = (() => {
  const t: number[] = [];
  t[OpCode.LockRequest] = R.LockRequest;
  t[OpCode.LockAcquire] = R.LockAcquire;
  t[OpCode.LockRequestAcquire] = R.LockTakenAtOnce;
  t[OpCode.LockRelease] = R.LockRelease;
  t[OpCode.LockTimeout] = R.LockTimeout;
  t[OpCode.LockRequestTimeout] = R.LockRefused;
  t[OpCode.QueuePut] = R.QueuePut;
  t[OpCode.QueueGet] = R.QueueGet;
  t[OpCode.LockRequestTimed] = R.LockRequestTimed;
  t[OpCode.SyncWait] = R.SyncWait;
  t[OpCode.SyncWoken] = R.SyncWoken;
  t[OpCode.SyncTimeout] = R.SyncTimeout;
  t[OpCode.EventSet] = R.EventSet;
  t[OpCode.EventClear] = R.EventClear;
  t[OpCode.SyncBroken] = R.SyncBroken;
  t[OpCode.SharedCall] = R.SharedCall;
  return t;
})();

const QUEUE_OPS: Record<QueueReportOp, number> = { create: R.QueueCreate, put: R.QueuePut, get: R.QueueGet, wait: R.QueueWait, woken: R.QueueWoken, timeout: R.QueueTimeout };
const LOCK_OPS: Record<Exclude<LockReportOp, 'create' | 'error'>, number> = {
  request: R.LockRequest,
  acquire: R.LockAcquire,
  release: R.LockRelease,
  timeout: R.LockTimeout,
};
const SYNC_OPS: Record<Exclude<SyncReportOp, 'notify'>, number> = {
  create: R.SyncCreate,
  wait: R.SyncWait,
  woken: R.SyncWoken,
  timeout: R.SyncTimeout,
  set: R.EventSet,
  clear: R.EventClear,
  abort: R.BarrierAbort,
  reset: R.BarrierReset,
  broken: R.SyncBroken,
};

type Family = 'queue' | 'lock' | 'sync' | 'shared';
const familyOf = (op: number): Family => (op < 10 ? 'queue' : op < 30 ? 'lock' : op < 50 ? 'sync' : 'shared');

/** A kind a shim's id names (`event-4242-3`, `dict-mgr-…`): for an object met before its create report. */
function kindFromId<K extends string>(id: string, kinds: readonly K[], fallback: K): K {
  const head = id.slice(0, id.indexOf('-'));
  return (kinds as readonly string[]).includes(head) ? (head as K) : fallback;
}
const SYNC_KIND_NAMES: readonly SyncKind[] = ['condition', 'event', 'barrier'];
const SHARED_KIND_NAMES: readonly SharedKind[] = ['dict', 'list', 'namespace', 'value', 'array'];

interface SharedCallTarget {
  object: SharedObject;
  method: string;
}

export class ObservedReports {
  /** Per connection, what each `ops` index names, resolved on first use. */
  private readonly byPeer = new Map<Peer, (object | undefined)[]>();

  constructor(
    private readonly locks: LockStates,
    private readonly queues: QueueCounts,
    private readonly syncs: SyncStates,
    private readonly shared: SharedCounts,
    private readonly order: StampOrder,
  ) {}

  queue(peer: Peer, id: string, op: QueueReportOp, maxsize: number, at: number, side?: 'get' | 'put'): void {
    const arg = op === 'create' ? (maxsize > 0 ? maxsize : 0) : side === 'put' ? 1 : 0;
    this.push(peer, at, QUEUE_OPS[op], this.queues.ensure(id), arg);
  }

  lock(peer: Peer, id: string, op: LockReportOp, at: number, extra: { timed?: boolean; kind?: LockKind; value?: number; error?: string } = {}): void {
    const l = this.locks.ensure(id);
    if (op === 'create') {
      const code = extra.kind === 'semaphore' ? R.SemaphoreCreate : extra.kind === 'bounded-semaphore' ? R.BoundedSemaphoreCreate : R.LockCreate;
      return this.push(peer, at, code, l, extra.value ?? 1);
    }
    if (op === 'error') return this.push(peer, at, R.LockError, { lock: l, error: extra.error ?? '' }, 0);
    this.push(peer, at, op === 'request' && extra.timed ? R.LockRequestTimed : LOCK_OPS[op], l, 0);
  }

  sync(peer: Peer, id: string, kind: SyncKind, op: SyncReportOp, at: number, extra: { n?: number; lock?: string; parties?: number } = {}): void {
    const s = this.syncs.ensure(id, kind);
    if (op === 'create' && extra.lock !== undefined && s.lock === undefined) s.lock = extra.lock;
    if (op === 'notify') return this.push(peer, at, R.SyncNotify, s, extra.n ?? 1);
    this.push(peer, at, SYNC_OPS[op], s, op === 'create' ? (extra.parties ?? 0) : 0);
  }

  sharedCreated(peer: Peer, id: string, kind: SharedKind, at: number): void {
    this.push(peer, at, R.SharedCreate, this.shared.ensure(id, kind), 0);
  }

  sharedCall(peer: Peer, id: string, method: string, at: number): void {
    this.push(peer, at, R.SharedCall, { object: this.shared.ensure(id, kindFromId(id, SHARED_KIND_NAMES, 'dict')), method }, 0);
  }

  /** The records of one `ops` message, checked (checkOpRecords) against `ids`, the connection's id table. */
  records(peer: Peer, ids: readonly string[], records: OpRecords): void {
    let targets = this.byPeer.get(peer);
    if (!targets) this.byPeer.set(peer, (targets = []));
    const { at, code, count } = records;
    for (let i = 0; i < count; i++) {
      const index = opIndex(code[i]);
      const op = FROM_OPCODE[opOf(code[i])];
      const target = (targets[index] ??= this.resolve(ids[index], familyOf(op)));
      this.order.push(peer, at[i], op, target, 0);
    }
    this.order.schedule();
  }

  /** The object an `ops` index names, for ops of `family`. */
  private resolve(id: string, family: Family): object {
    switch (family) {
      case 'queue':
        return this.queues.ensure(id);
      case 'lock':
        return this.locks.ensure(id);
      case 'sync':
        return this.syncs.ensure(id, kindFromId(id, SYNC_KIND_NAMES, 'event'));
      case 'shared': {
        const cut = id.lastIndexOf('#');
        const object = cut > 0 ? id.slice(0, cut) : id;
        return { object: this.shared.ensure(object, kindFromId(object, SHARED_KIND_NAMES, 'dict')), method: id.slice(cut + 1) } satisfies SharedCallTarget;
      }
    }
  }

  /**
   * A process is gone: its reports are all in, but others' reports stamped earlier may still be
   * on their way, so its end takes its place in stamp order too.
   */
  disconnect(peer: Peer, at: number): void {
    this.byPeer.delete(peer);
    this.push(peer, at, R.Gone, null, 0);
  }

  private push(peer: Peer, at: number, op: number, target: object | null, arg: number): void {
    this.order.push(peer, at, op, target, arg);
    this.order.schedule();
  }

  /** Applies one report, in stamp order (the stamp order's callback). */
  readonly apply = (peer: Peer, at: number, op: number, target: object | null, arg: number): void => {
    if (op === R.Gone) {
      this.locks.gone(peer);
      this.queues.gone(peer);
      this.syncs.gone(peer);
      return;
    }
    switch (familyOf(op)) {
      case 'queue':
        return this.applyQueue(peer, target as QueueCount, op, arg, at);
      case 'lock':
        return this.applyLock(peer, target, op, arg, at);
      case 'sync':
        return this.applySync(peer, target as SyncState, op, arg, at);
      case 'shared':
        if (op === R.SharedCreate) return this.shared.created(peer, target as SharedObject, at);
        return this.shared.called(peer, (target as SharedCallTarget).object, (target as SharedCallTarget).method, at);
    }
  };

  private applyQueue(peer: Peer, q: QueueCount, op: number, arg: number, at: number): void {
    if (!q.announced) {
      // A put or get before its create (a late report): the queue is listed anyway.
      this.queues.created(peer, q, op === R.QueueCreate ? arg : 0, at);
    } else if (op === R.QueueCreate && roundStamp(at) >= q.lastT) {
      // A second create of a known id, after everything seen of it: a manager reuses the name
      // of a freed queue (it names objects by address) for a new, empty one. A create stamped
      // before what was applied is only a late report, and changes nothing.
      this.queues.created(peer, q, arg, at);
    }
    const side = arg === 1 ? 'put' : 'get';
    if (op === R.QueuePut) this.queues.put(peer, q, at);
    else if (op === R.QueueGet) this.queues.got(peer, q, at);
    else if (op === R.QueueWait) this.queues.waits(peer, q, side, at);
    else if (op === R.QueueWoken) this.queues.waitEnded(peer, q, side, 'woken', at);
    else if (op === R.QueueTimeout) this.queues.waitEnded(peer, q, side, 'timeout', at);
  }

  private applyLock(peer: Peer, target: object | null, op: number, arg: number, at: number): void {
    const s = this.locks;
    if (op === R.LockError) {
      const { lock, error } = target as { lock: LockState; error: string };
      s.created(peer, lock, at);
      return s.refusedRelease(peer, lock, error, at);
    }
    const l = target as LockState;
    if (op === R.SemaphoreCreate || op === R.BoundedSemaphoreCreate) return s.created(peer, l, at, op === R.SemaphoreCreate ? 'semaphore' : 'bounded-semaphore', arg);
    s.created(peer, l, at);
    switch (op) {
      case R.LockRequest:
        s.requested(peer, l, true, at);
        // Judged once the whole drain is applied: a request and its outcome that arrive
        // together never count as a deadlock.
        return s.blocks(peer, l);
      case R.LockRequestTimed:
        return s.requested(peer, l, true, at, true);
      case R.LockAcquire:
        return s.acquired(peer, l, at);
      case R.LockTakenAtOnce:
        return s.takenAtOnce(peer, l, at);
      case R.LockRelease:
        return s.released(peer, l, at);
      case R.LockTimeout:
        return s.timedOut(peer, l, at);
      case R.LockRefused:
        return s.refused(peer, l, at);
    }
  }

  private applySync(peer: Peer, s: SyncState, op: number, arg: number, at: number): void {
    const m = this.syncs;
    switch (op) {
      case R.SyncCreate:
        return m.created(peer, s, at, arg > 0 ? { parties: arg } : {});
      case R.SyncWait:
        return void m.waited(peer, s, at);
      case R.SyncWoken:
        return m.woken(peer, s, at);
      case R.SyncTimeout:
        return void m.timedOut(peer, s, at);
      case R.SyncNotify:
        return void m.notified(peer, s, arg, false, at);
      case R.EventSet:
        return void m.set(peer, s, at);
      case R.EventClear:
        return m.clear(peer, s, at);
      case R.BarrierAbort:
        return void m.broke(peer, s, 'abort', at);
      case R.BarrierReset:
        return void m.broke(peer, s, 'reset', at);
      case R.SyncBroken:
        return m.brokenWait(peer, s, at);
    }
  }
}
