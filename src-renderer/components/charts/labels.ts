// Every word the charts draw. The parent passes translated text; these English defaults fill in
// whatever it leaves out. A `{name}` in a template is replaced by a value (numbers already
// formatted), so a translation can put it anywhere in the sentence.

import type { LaneKind } from '../../lib/model/types.ts';

export interface ChartLabels {
  // Titles (ChartsPanel)
  cpu: string;
  memory: string;
  queues: string;
  locks: string;
  timeline: string;
  /** Shown while zoomed, next to the reset button. */
  zoomHint: string;
  resetZoom: string;
  // Units
  percent: string;
  mib: string;
  /** Milliseconds: written once after the lock wait and hold figures. */
  ms: string;
  // Queues: {n} = 1, 2…
  queue: string;
  /** {n} = the queue's maxsize */
  maxsize: string;
  unbounded: string;
  /** Legend entry of the light band above the line: the highest depth inside a bucket. */
  peak: string;
  /** Under the zero line: processes blocked in a get (empty queue) or a put (full queue). */
  blocked: string;
  /** {n} processes blocked now */
  blockedCount: string;
  // Locks: {n} = 1, 2…
  lock: string;
  /** {n} = 1, 2…; {capacity}: how many may hold it at once */
  semaphore: string;
  boundedSemaphore: string;
  /** {n} = 1, 2… (these lanes show waits only) */
  condition: string;
  event: string;
  barrier: string;
  /** What a Condition's, Event's or Barrier's lane shows. */
  syncTitle: string;
  /** {n} acquisitions */
  acquisitions: string;
  /** {n} acquisitions that had to wait */
  waited: string;
  /** {avg} {max}: wait times in ms (numbers; `ms` follows the filled template) */
  wait: string;
  /** {avg} {max}: hold times in ms (`ms` follows) */
  hold: string;
  /** {cycle}: the edges, joined by '; ' */
  deadlock: string;
  /** {pid} {lock} {holder} */
  deadlockEdge: string;
  /** {pid}: the holder that exited */
  abandoned: string;
  // Timeline: {code}
  exitcode: string;
  running: string;
  // Empty states
  noSamples: string;
  noQueues: string;
  noLocks: string;
  noProcesses: string;
}

export const defaultChartLabels: ChartLabels = {
  cpu: 'CPU %',
  memory: 'Memory (RSS)',
  queues: 'Queue depth',
  locks: 'Locks',
  timeline: 'Process lifetimes',
  zoomHint: 'Drag across a chart to zoom, double-click to see the whole run',
  resetZoom: 'Whole run',
  percent: '%',
  mib: 'MiB',
  ms: 'ms',
  queue: 'Queue {n}',
  maxsize: 'maxsize {n}',
  unbounded: 'unbounded',
  peak: 'peak',
  blocked: 'blocked in get / put',
  blockedCount: '{n} blocked',
  lock: 'Lock {n}',
  semaphore: 'Semaphore {n} ({capacity} at once)',
  boundedSemaphore: 'BoundedSemaphore {n} ({capacity} at once)',
  condition: 'Condition {n}',
  event: 'Event {n}',
  barrier: 'Barrier {n}',
  syncTitle: 'who waited, and when a notify, set() or the last party let them go',
  acquisitions: '{n} acquired',
  waited: '{n} waited',
  wait: 'wait avg {avg} · max {max}',
  hold: 'hold avg {avg} · max {max}',
  deadlock: 'Deadlock: {cycle}',
  deadlockEdge: '{pid} waits for {lock} held by {holder}',
  abandoned: 'held by {pid}, which exited',
  exitcode: '{code}',
  running: 'running',
  noSamples: 'No samples yet',
  noQueues: 'No queues in this run',
  noLocks: 'No locks in this run',
  noProcesses: 'No processes yet',
};

/** What names a lane: Lock 1, Semaphore 2 (3 at once), Event 3… */
export interface NamedLane {
  kind: LaneKind;
  index: number;
  capacity: number;
}

export function laneName(L: ChartLabels, lane: NamedLane): string {
  switch (lane.kind) {
    case 'lock':
      return fill(L.lock, { n: lane.index });
    case 'semaphore':
    case 'bounded-semaphore':
      return fill(lane.kind === 'semaphore' ? L.semaphore : L.boundedSemaphore, { n: lane.index, capacity: lane.capacity });
    default:
      return fill(L[lane.kind], { n: lane.index });
  }
}

/** The defaults with the parent's translations on top. */
export function withDefaults(labels: Partial<ChartLabels> | undefined): ChartLabels {
  if (!labels) return defaultChartLabels;
  const out = { ...defaultChartLabels };
  for (const k of Object.keys(defaultChartLabels) as (keyof ChartLabels)[]) {
    const v = labels[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

/** Replaces each `{name}` in a template with its value. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
