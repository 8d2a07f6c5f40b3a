// Queues and locks a reporting runtime (the Python shim) keeps itself: the real objects live in
// the program's processes (pipes and semaphores), and each process reports what it did, stamped
// with its own clock. Reports go through the sequencer's stamp order (stamp-order.ts) and, in
// that order, drive the same lock state and queue count as the broker's own objects.
//
// The shim states each fact as it knows it: a lock taken at once (never a wait), a non-blocking
// attempt refused at once, a request before a blocking wait and what ended it. An `ops`
// message's records name objects by index; they resolve once per connection and index.

import { OpCode, type LockReportOp, type OpRecords, type QueueReportOp } from '../../protocol.ts';
import type { LockState, LockStates } from './lock-state.ts';
import type { Peer } from './peer.ts';
import type { QueueCount, QueueCounts } from './queue-count.ts';
import { roundStamp } from './stamps.ts';
import type { StampOrder } from './stamp-order.ts';

/** What a waiting report does (one byte each in the stamp order). */
const R = {
  QueueCreate: 0,
  QueuePut: 1,
  QueueGet: 2,
  LockCreate: 3,
  LockRequest: 4,
  LockAcquire: 5,
  LockTakenAtOnce: 6,
  LockRelease: 7,
  LockTimeout: 8,
  LockRefused: 9,
  /** The process disconnected: applied after everything stamped before it. */
  Gone: 10,
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
  return t;
})();

const QUEUE_OPS: Record<QueueReportOp, number> = { create: R.QueueCreate, put: R.QueuePut, get: R.QueueGet };
const LOCK_OPS: Record<LockReportOp, number> = {
  create: R.LockCreate,
  request: R.LockRequest,
  acquire: R.LockAcquire,
  release: R.LockRelease,
  timeout: R.LockTimeout,
};

const isQueueOp = (op: number): boolean => op <= R.QueueGet;

/** One connection's `ops` indices, resolved to objects on first use. */
interface PeerObjects {
  queues: (QueueCount | undefined)[];
  locks: (LockState | undefined)[];
}

export class ObservedReports {
  private readonly byPeer = new Map<Peer, PeerObjects>();

  constructor(
    private readonly locks: LockStates,
    private readonly queues: QueueCounts,
    private readonly order: StampOrder,
  ) {}

  queue(peer: Peer, id: string, op: QueueReportOp, maxsize: number, at: number): void {
    this.order.push(peer, at, QUEUE_OPS[op], this.queues.ensure(id), maxsize > 0 ? maxsize : 0);
    this.order.schedule();
  }

  lock(peer: Peer, id: string, op: LockReportOp, at: number): void {
    this.order.push(peer, at, LOCK_OPS[op], this.locks.ensure(id), 0);
    this.order.schedule();
  }

  /** The records of one `ops` message, checked (checkOpRecords) against `ids`, the connection's id table. */
  records(peer: Peer, ids: readonly string[], records: OpRecords): void {
    let objects = this.byPeer.get(peer);
    if (!objects) this.byPeer.set(peer, (objects = { queues: [], locks: [] }));
    const { at, code, count } = records;
    for (let i = 0; i < count; i++) {
      const index = code[i] >>> 3;
      const op = FROM_OPCODE[code[i] & 7];
      const target = isQueueOp(op) ? (objects.queues[index] ??= this.queues.ensure(ids[index])) : (objects.locks[index] ??= this.locks.ensure(ids[index]));
      this.order.push(peer, at[i], op, target, 0);
    }
    this.order.schedule();
  }

  /**
   * A process is gone: its reports are all in, but others' reports stamped earlier may still be
   * on their way, so its end takes its place in stamp order too.
   */
  disconnect(peer: Peer, at: number): void {
    this.byPeer.delete(peer);
    this.order.push(peer, at, R.Gone, null, 0);
    this.order.schedule();
  }

  /** Applies one report, in stamp order (the stamp order's callback). */
  readonly apply = (peer: Peer, at: number, op: number, target: object | null, arg: number): void => {
    if (op === R.Gone) this.locks.gone(peer);
    else if (isQueueOp(op)) this.applyQueue(peer, target as QueueCount, op, arg, at);
    else this.applyLock(peer, target as LockState, op, at);
  };

  private applyQueue(peer: Peer, q: QueueCount, op: number, maxsize: number, at: number): void {
    if (!q.announced) {
      // A put or get before its create (a late report): the queue is listed anyway.
      this.queues.created(peer, q, op === R.QueueCreate ? maxsize : 0, at);
    } else if (op === R.QueueCreate && roundStamp(at) >= q.lastT) {
      // A second create of a known id, after everything seen of it: a manager reuses the name
      // of a freed queue (it names objects by address) for a new, empty one. A create stamped
      // before what was applied is only a late report, and changes nothing.
      this.queues.created(peer, q, maxsize, at);
    }
    if (op === R.QueuePut) this.queues.put(peer, q, at);
    else if (op === R.QueueGet) this.queues.got(peer, q, at);
  }

  private applyLock(peer: Peer, l: LockState, op: number, at: number): void {
    const s = this.locks;
    s.created(peer, l, at);
    switch (op) {
      case R.LockRequest:
        s.requested(peer, l, true, at);
        // Judged once the whole drain is applied: a request and its outcome that arrive
        // together never count as a deadlock.
        return s.blocks(peer, l);
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
}
