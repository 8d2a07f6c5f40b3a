// What the details pane says about the selected process or lock, read from the run model: the
// process's life, resources, output, locks and queues; the lock's holders in order, hold and
// wait per process, and its contention figures.

import type { Pid } from '../../../src-main/api.ts';
import type { RunModel } from '../model/run-model.ts';
import type { SyncMark } from '../model/sync-marks.ts';
import type { ConsoleLine, LockLaneView, LockStats, ProcRow, SegmentColumns } from '../model/types.ts';
import type { MarkRef, WaitRef } from '../state/selection.svelte.ts';
import { waitEndedAt } from './lane-rows.ts';

export interface LockUse {
  lock: string;
  index: number;
  holds: number;
  held: number;
  waits: number;
  waited: number;
  longestWait: number;
}

export interface ProcessDetails {
  row: ProcRow;
  parent: ProcRow | null;
  children: number;
  /** ms; null while running (then `now` is used for the lifetime). */
  lifetime: number | null;
  locks: LockUse[];
  /** `waits`: how often it blocked in a get or a put of it, `waited` for how long in all (ms, one going on counted up to now). */
  queues: { queue: string; index: number; put: number; get: number; waits: number; waited: number; longestWait: number }[];
  output: ConsoleLine[];
  outputTotal: number;
  /** The manager's shared objects it read or wrote, over the whole run. */
  shared: { id: string; label: string; reads: number; writes: number }[];
}

/** Sums of one process's segments in a column set: count and total ms (open ones up to now). */
function sumFor(cols: SegmentColumns, pid: Pid, nowMs: number): { n: number; total: number; longest: number } {
  let n = 0;
  let total = 0;
  let longest = 0;
  for (let i = 0; i < cols.length; i++) {
    if (cols.pid[i] !== pid) continue;
    const end = cols.end[i] === cols.end[i] ? cols.end[i] : nowMs;
    const d = end - cols.start[i];
    n++;
    total += d;
    if (d > longest) longest = d;
  }
  return { n, total, longest };
}

export function processDetails(model: RunModel, key: string, maxOutput = 200): ProcessDetails | null {
  const rows = model.processes();
  const row = rows.find((r) => r.key === key);
  if (!row) return null;
  const nowMs = model.end()?.t ?? model.now();
  const parent = rows.find((r) => r.pid !== null && r.pid === row.ppid) ?? null;
  const children = row.pid === null ? 0 : rows.filter((r) => r.ppid === row.pid && r !== row).length;
  const locks: LockUse[] = [];
  const queues: ProcessDetails['queues'] = [];
  if (row.pid !== null) {
    for (const lane of model.lockLanes()) {
      const h = sumFor(lane.holdCols, row.pid, nowMs);
      const w = sumFor(lane.waitCols, row.pid, nowMs);
      if (h.n + w.n > 0) locks.push({ lock: lane.lock, index: lane.index, holds: h.n, held: h.total, waits: w.n, waited: w.total, longestWait: w.longest });
    }
    const ops = model.queueOpsOf(row.pid);
    const waits = model.queueWaitsOf(row.pid);
    for (const q of model.queues()) {
      const c = ops.get(q.queue);
      const w = waits.get(q.queue);
      if (!c && !w) continue;
      const going = w?.since != null ? nowMs - w.since : 0;
      queues.push({
        queue: q.queue,
        index: q.index,
        put: c?.put ?? 0,
        get: c?.get ?? 0,
        waits: w?.waits ?? 0,
        waited: (w?.waited ?? 0) + going,
        longestWait: Math.max(w?.longest ?? 0, going),
      });
    }
  }
  const all = row.pid === null ? [] : model.console(new Set([row.pid]));
  return {
    row,
    parent,
    children,
    lifetime: row.startedAt === null ? null : (row.endedAt ?? nowMs) - row.startedAt,
    locks,
    queues,
    output: all.slice(-maxOutput),
    outputTotal: all.length,
    shared: sharedOf(model, row.pid),
  };
}

function sharedOf(model: RunModel, pid: Pid | null): ProcessDetails['shared'] {
  if (pid === null || model.sharedCount() === 0) return [];
  const m = model.sharedMatrix(-Infinity, Infinity);
  const row = m.rows.find((r) => r.pid === pid);
  if (!row) return [];
  return m.objects.map((o, j) => ({ id: o.id, label: sharedLabel(o.kind, o.index), reads: row.reads[j], writes: row.writes[j] })).filter((o) => o.reads + o.writes > 0);
}

const SHARED_NAMES = { dict: 'dict', list: 'list', namespace: 'Namespace', value: 'Value', array: 'Array' } as const;

/** `dict 1`, `Namespace 2`: Python's names, the same in every language. */
export function sharedLabel(kind: keyof typeof SHARED_NAMES, index: number): string {
  return `${SHARED_NAMES[kind]} ${index}`;
}

export interface LockDetails {
  lane: LockLaneView;
  stats: LockStats;
  /** Holds in order (the newest `max` when there are more). */
  holds: { pid: number; name: string; start: number; duration: number | null }[];
  holdsTotal: number;
  perProcess: { pid: number; name: string; color: string; holds: number; held: number; waits: number; waited: number; longestWait: number }[];
}

export function lockDetails(model: RunModel, lock: string, max = 200): LockDetails | null {
  const lane = model.lockLanes().find((l) => l.lock === lock);
  if (!lane) return null;
  const nowMs = model.end()?.t ?? model.now();
  const c = lane.holdCols;
  const nameOf = (proc: number, pid: number) => model.procAt(proc)?.name ?? String(pid);
  const holds: LockDetails['holds'] = [];
  for (let i = Math.max(0, c.length - max); i < c.length; i++) {
    const end = c.end[i];
    holds.push({ pid: c.pid[i], name: nameOf(c.proc[i], c.pid[i]), start: c.start[i], duration: end === end ? end - c.start[i] : null });
  }
  const per = new Map<number, LockDetails['perProcess'][number]>();
  const entry = (cols: SegmentColumns, i: number) => {
    const pid = cols.pid[i];
    let e = per.get(pid);
    if (!e) per.set(pid, (e = { pid, name: nameOf(cols.proc[i], pid), color: lane.colorOf(cols.proc[i]), holds: 0, held: 0, waits: 0, waited: 0, longestWait: 0 }));
    return e;
  };
  for (let i = 0; i < c.length; i++) {
    const e = entry(c, i);
    e.holds++;
    e.held += (c.end[i] === c.end[i] ? c.end[i] : nowMs) - c.start[i];
  }
  const w = lane.waitCols;
  for (let i = 0; i < w.length; i++) {
    const e = entry(w, i);
    const d = (w.end[i] === w.end[i] ? w.end[i] : nowMs) - w.start[i];
    e.waits++;
    e.waited += d;
    if (d > e.longestWait) e.longestWait = d;
  }
  return { lane, stats: lane.stats, holds, holdsTotal: c.length, perProcess: [...per.values()] };
}

export interface MarkDetails {
  lock: string;
  mark: SyncMark;
  /** How long each waiter it let go had waited (ms), by pid, when its wait is on the lane. */
  waited: Map<Pid, number>;
}

export function markDetails(model: RunModel, ref: MarkRef): MarkDetails | null {
  const sm = model.syncMarks(ref.lock);
  const mark = sm?.marks.find((m) => m.t === ref.t && m.op === ref.op && m.pid === ref.pid);
  if (!mark) return null;
  const waited = new Map<Pid, number>();
  const lane = model.lockLanes().find((l) => l.lock === ref.lock);
  if (lane) {
    for (const pid of mark.released) {
      const i = waitEndedAt(lane.waitCols, pid, mark.t);
      if (i >= 0 && lane.waitCols.end[i] === lane.waitCols.end[i]) waited.set(pid, lane.waitCols.end[i] - lane.waitCols.start[i]);
    }
  }
  return { lock: ref.lock, mark, waited };
}

export interface WaitDetails {
  on: 'lock' | 'queue';
  id: string;
  /** The queue's or lane's number (Queue 2). */
  index: number;
  pid: Pid;
  /** What it is blocked in: get(), put(), acquire(), wait(). */
  call: string;
  start: number;
  end: number | null;
  duration: number;
}

/** The wait `ref` names, as the log has it now (it may have ended since it was picked). */
export function waitDetails(model: RunModel, ref: WaitRef): WaitDetails | null {
  const nowMs = model.end()?.t ?? model.now();
  if (ref.on === 'queue') {
    const q = model.queues().find((x) => x.queue === ref.id);
    const last = model.queueWaitsOf(ref.pid).get(ref.id)?.last;
    const end = last && last.start === ref.start ? last.end : null;
    return { on: 'queue', id: ref.id, index: q?.index ?? 0, pid: ref.pid, call: `${ref.side ?? last?.side ?? 'get'}()`, start: ref.start, end, duration: (end ?? nowMs) - ref.start };
  }
  const lane = model.lockLanes().find((l) => l.lock === ref.id);
  if (!lane) return null;
  const c = lane.waitCols;
  let end: number | null = null;
  for (let i = c.lowerBound(ref.start + 1e-6) - 1; i >= 0; i--) {
    if (c.pid[i] === ref.pid && Math.abs(c.start[i] - ref.start) < 1e-3) {
      end = c.end[i] === c.end[i] ? c.end[i] : null;
      break;
    }
    if (c.start[i] < ref.start - c.maxSpan) break;
  }
  const call = lane.kind === 'lock' || lane.kind === 'semaphore' || lane.kind === 'bounded-semaphore' ? 'acquire()' : 'wait()';
  return { on: 'lock', id: ref.id, index: lane.index, pid: ref.pid, call, start: ref.start, end, duration: (end ?? nowMs) - ref.start };
}

/**
 * What a process is blocked in at time `t` (a Stacks capture's), as the log says: an open wait on
 * a lane, or a blocked get or put of a queue. The newest one when there are several (a thread
 * blocks in one call at a time; other threads' waits come after).
 */
export function blockedAt(model: RunModel, pid: Pid, t: number): WaitRef | null {
  let best: WaitRef | null = null;
  for (const lane of model.lockLanes()) {
    const c = lane.waitCols;
    for (const i of c.openIndices()) {
      if (c.pid[i] === pid && c.start[i] <= t + 1 && (!best || c.start[i] > best.start)) best = { on: 'lock', id: lane.lock, pid, start: c.start[i] };
    }
    // Ended after the capture: it was still going on then.
    for (let i = c.lowerBound(t + 1) - 1; i >= 0 && c.start[i] >= t - c.maxSpan; i--) {
      if (c.pid[i] === pid && c.end[i] > t && (!best || c.start[i] > best.start)) best = { on: 'lock', id: lane.lock, pid, start: c.start[i] };
    }
  }
  for (const [queue, w] of model.queueWaitsOf(pid)) {
    const last = w.last;
    if (last && last.start <= t + 1 && (last.end === null || last.end > t) && (!best || last.start > best.start)) best = { on: 'queue', id: queue, pid, start: last.start, side: last.side };
  }
  return best;
}
