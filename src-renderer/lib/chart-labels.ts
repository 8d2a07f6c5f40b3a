// The charts panel's words in the current language: one message key per label, so a label the
// charts add is a type error here until it has a translation.
import type { ChartLabels } from '../components/charts/labels.ts';
import type { MessageKey } from '../i18n/en.ts';

const KEYS: Record<keyof ChartLabels, MessageKey> = {
  cpu: 'charts.cpu',
  memory: 'charts.memory',
  queues: 'charts.queues',
  locks: 'charts.locks',
  timeline: 'charts.timeline',
  zoomHint: 'charts.zoomHint',
  resetZoom: 'charts.resetZoom',
  percent: 'charts.percent',
  mib: 'charts.mib',
  ms: 'charts.ms',
  queue: 'charts.queue',
  maxsize: 'charts.maxsize',
  unbounded: 'charts.unbounded',
  peak: 'charts.peak',
  blocked: 'charts.blocked',
  blockedCount: 'charts.blockedCount',
  lock: 'charts.lock',
  semaphore: 'charts.semaphore',
  boundedSemaphore: 'charts.boundedSemaphore',
  condition: 'charts.condition',
  event: 'charts.event',
  barrier: 'charts.barrier',
  syncTitle: 'charts.syncTitle',
  acquisitions: 'charts.acquisitions',
  waited: 'charts.waited',
  wait: 'charts.wait',
  hold: 'charts.hold',
  deadlock: 'charts.deadlock',
  deadlockEdge: 'charts.deadlockEdge',
  abandoned: 'charts.abandoned',
  exitcode: 'charts.exitcode',
  running: 'charts.running',
  noSamples: 'charts.noSamples',
  noQueues: 'charts.noQueues',
  noLocks: 'charts.noLocks',
  noProcesses: 'charts.noProcesses',
};

export function chartLabels(t: (key: MessageKey) => string): ChartLabels {
  const out = {} as ChartLabels;
  for (const k of Object.keys(KEYS) as (keyof ChartLabels)[]) out[k] = t(KEYS[k]);
  return out;
}
