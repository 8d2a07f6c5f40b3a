// The model behind the window's sync views: a semaphore's holder count, the marks of a
// Condition, an Event and a Barrier (and whom each let go), waits whose reports arrive in another
// order than they happened, manager shared-object counts within a range, and what a process was
// blocked in at a moment (the Stacks link).

import { describe, expect, it } from 'vitest';
import type { LockEvent, Pid, RunEvent, SharedEvent, SyncEvent } from '../../../src-main/api.ts';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import { blockedAt, markDetails } from '../../../src-renderer/lib/view/details.ts';
import { exit, proc, run } from './events.ts';

const model = (events: RunEvent[]) => {
  const m = new RunModel();
  m.ingest([run(), ...events]);
  return m;
};
const vals = (a: Float64Array | undefined) => Array.from(a ?? [], (v) => (Number.isNaN(v) ? null : v));
const spans = (cols: { length: number; pid: Float64Array; start: Float64Array; end: Float64Array }) =>
  Array.from({ length: cols.length }, (_, i) => [cols.pid[i], cols.start[i], Number.isNaN(cols.end[i]) ? null : cols.end[i]]);

const sync = (t: number, id: string, kind: SyncEvent['kind'], op: SyncEvent['op'], pid: Pid, waiters: Pid[], more: Partial<SyncEvent> = {}): SyncEvent => ({
  t,
  type: 'sync',
  sync: id,
  kind,
  op,
  pid,
  waiters,
  ...more,
});

const sem = (t: number, op: LockEvent['op'], pid: Pid, holders: Pid[], waiters: Pid[] = []): LockEvent => ({
  t,
  type: 'lock',
  lock: 'S',
  op,
  pid,
  holder: holders[0] ?? null,
  waiters,
  holders,
  value: 2 - holders.length,
  ...(op === 'create' ? { kind: 'semaphore' as const, capacity: 2 } : {}),
});

describe('sync views: the model', () => {
  it("a semaphore's holder count over time, against its capacity", () => {
    const m = model([sem(1, 'create', 1, []), sem(10, 'acquire', 2, [2]), sem(12, 'acquire', 3, [2, 3]), sem(14, 'request', 4, [2, 3], [4]), sem(20, 'release', 2, [3], [4]), sem(21, 'acquire', 4, [3, 4]), sem(30, 'release', 3, [4]), sem(31, 'release', 4, [])]);
    const held = m.lockHolding().get('S');
    expect(held?.maxsize, 'its capacity').toBe(2);
    expect(vals(held?.depth)).toEqual([0, 1, 2, 2, 1, 2, 1, 0]);
    expect(m.lockHolding().size, 'a Lock has no count row').toBe(1);
  });

  it("a Condition's notify is linked to the waiters it woke (by its waker, whatever order the reports came in)", () => {
    const C = 'C';
    const m = model([
      sync(1, C, 'condition', 'create', 1, []),
      sync(10, C, 'condition', 'wait', 2, [2]),
      sync(11, C, 'condition', 'wait', 3, [2, 3]),
      // The woken waiters' reports come before the notifier's.
      sync(20.2, C, 'condition', 'woken', 2, [3], { by: 1 }),
      sync(20.3, C, 'condition', 'woken', 3, []),
      sync(20, C, 'condition', 'notify', 1, [2, 3], { n: 2 }),
      sync(40, C, 'condition', 'wait', 2, [2]),
      sync(50, C, 'condition', 'notify', 1, [2], { n: 1 }),
      sync(50.1, C, 'condition', 'woken', 2, [], { by: 1 }),
    ]);
    const marks = m.syncMarks(C)?.marks ?? [];
    expect(marks.map((x) => [x.op, x.t, x.n, x.released])).toEqual([
      ['notify', 20, 2, [2, 3]],
      ['notify', 50, 1, [2]],
    ]);
    const d = markDetails(m, { lock: C, t: 20, op: 'notify', pid: 1 });
    expect([...(d?.waited ?? [])]).toEqual([
      [2, 10.2],
      [3, 9.3],
    ]);
  });

  it("an Event's set() ends the waits it released even when a waiter's wait, or its exit, was reported before the set()", () => {
    const E = 'E';
    const m = model([
      proc(0, 2, 1, 'a'),
      proc(0, 3, 1, 'b'),
      proc(0, 4, 1, 'c'),
      sync(1, E, 'event', 'create', 1, [], { set: false }),
      sync(10, E, 'event', 'wait', 2, [2], { set: false }),
      // b's exit arrives before main's set(): its wait was first ended by the exit.
      sync(11, E, 'event', 'wait', 3, [2, 3], { set: false }),
      exit(40, 3),
      sync(20, E, 'event', 'set', 1, [], { set: true, released: [2, 3, 4] }),
      // c's wait arrives after the set() that released it.
      sync(12, E, 'event', 'wait', 4, [4], { set: false }),
      // A wait on an Event already set returns at once: nothing to draw.
      sync(25, E, 'event', 'wait', 2, [], { set: true }),
      sync(30, E, 'event', 'clear', 1, [], { set: false }),
    ]);
    const lane = m.lockLanes().find((l) => l.lock === E);
    expect(spans(lane?.waitCols ?? { length: 0, pid: new Float64Array(), start: new Float64Array(), end: new Float64Array() })).toEqual([
      [2, 10, 20],
      [3, 11, 20],
      [4, 12, 20],
    ]);
    expect(m.syncMarks(E)?.marks.map((x) => x.op)).toEqual(['set', 'clear']);
  });

  it("a Barrier's generations, abort and broken parties are marks; its parties are the lane's capacity", () => {
    const B = 'B';
    const m = model([
      sync(1, B, 'barrier', 'create', 1, [], { parties: 2, generation: 0, broken: false }),
      sync(10, B, 'barrier', 'wait', 2, [2], { parties: 2, generation: 0 }),
      sync(12, B, 'barrier', 'wait', 3, [2, 3], { parties: 2, generation: 0 }),
      sync(12, B, 'barrier', 'release', 3, [], { parties: 2, generation: 1, released: [2, 3] }),
      sync(20, B, 'barrier', 'wait', 2, [2], { parties: 2, generation: 1 }),
      sync(25, B, 'barrier', 'abort', 1, [], { parties: 2, generation: 1, broken: true, released: [2] }),
      sync(26, B, 'barrier', 'broken', 3, [], { parties: 2, generation: 1, broken: true }),
    ]);
    const lane = m.lockLanes().find((l) => l.lock === B);
    expect(lane?.capacity).toBe(2);
    expect(m.syncMarks(B)?.marks.map((x) => [x.op, x.generation, x.released])).toEqual([
      ['release', 1, [2, 3]],
      ['abort', 1, [2]],
      ['broken', 1, []],
    ]);
    expect(spans(lane?.waitCols ?? { length: 0, pid: new Float64Array(), start: new Float64Array(), end: new Float64Array() })).toEqual([
      [2, 10, 12],
      [3, 12, 12],
      [2, 20, 25],
    ]);
  });

  it('shared objects: reads and writes per process within a range, busiest first', () => {
    const sh = (t: number, id: string, kind: SharedEvent['kind'], op: SharedEvent['op'], pid: Pid, reads?: number, writes?: number): SharedEvent => ({
      t,
      type: 'shared',
      shared: id,
      kind,
      op,
      pid,
      ...(reads !== undefined ? { reads, writes } : {}),
    });
    const m = model([
      sh(1, 'd', 'dict', 'create', 1),
      sh(2, 'l', 'list', 'create', 1),
      sh(3, 'd2', 'dict', 'create', 1),
      sh(100, 'd', 'dict', 'use', 2, 3, 1),
      sh(100, 'l', 'list', 'use', 3, 0, 5),
      sh(200, 'd', 'dict', 'use', 2, 4, 0),
      sh(200, 'd', 'dict', 'use', 3, 1, 0),
      { t: 250, type: 'shared', shared: 'd2', kind: 'dict', op: 'call', pid: 4, method: '__setitem__', write: true },
    ]);
    const all = m.sharedMatrix(-Infinity, Infinity);
    expect(all.objects.map((o) => [o.id, o.kind, o.index])).toEqual([
      ['d', 'dict', 1],
      ['l', 'list', 1],
      ['d2', 'dict', 2],
    ]);
    expect(all.rows.map((r) => [r.pid, r.reads, r.writes])).toEqual([
      [2, [7, 0, 0], [1, 0, 0]],
      [3, [1, 0, 0], [0, 5, 0]],
      [4, [0, 0, 0], [0, 0, 1]],
    ]);
    expect(all.most).toBe(8);
    const late = m.sharedMatrix(150, 260);
    expect(late.rows.map((r) => [r.pid, r.total])).toEqual([
      [2, 4],
      [3, 1],
      [4, 1],
    ]);
    expect(m.sharedMatrix(300, 400).rows).toEqual([]);
  });

  it('what a process was blocked in at a moment: a queue get, or a wait on a lane', () => {
    const m = model([
      proc(0, 2, 1, 'consumer'),
      { t: 10, type: 'queue', queue: 'q', op: 'create', pid: 1, depth: 0, maxsize: 0 },
      { t: 20, type: 'queue', queue: 'q', op: 'wait', pid: 2, depth: 0, maxsize: 0, side: 'get', getters: [2], putters: [] },
      sync(1, 'E', 'event', 'create', 1, [], { set: false }),
      sync(30, 'E', 'event', 'wait', 3, [3], { set: false }),
      sync(50, 'E', 'event', 'set', 1, [], { set: true, released: [3] }),
    ]);
    expect(blockedAt(m, 2, 25)).toEqual({ on: 'queue', id: 'q', pid: 2, start: 20, side: 'get' });
    expect(blockedAt(m, 2, 15), 'not yet blocked').toBeNull();
    expect(blockedAt(m, 3, 40), 'its wait ended after the moment').toEqual({ on: 'lock', id: 'E', pid: 3, start: 30 });
    expect(blockedAt(m, 3, 60), 'released by then').toBeNull();
  });
});
