// The words of every tooltip the charts show, built from the model's data: what a mark is, who
// made it, when and for how long. Pure: the charts hand in `t` (the page's translator), tests the
// English dictionary.

import type { MessageKey } from '../../i18n/en.ts';
import type { Params } from '../../i18n/translate.ts';
import { formatBytes, formatDuration, signalOfExitcode } from '../format.ts';
import type { SyncMark } from '../model/sync-marks.ts';
import type { ProcRow, TimelineRow } from '../model/types.ts';

export type Translate = (key: MessageKey, params?: Params) => string;

export interface Tip {
  title: string;
  /** The swatch beside the title (a process or queue color). */
  color?: string;
  rows: [label: string, value: string][];
  /** A line under the rows, e.g. what a click does. */
  note?: string;
}

/** `name (pid)`, or just the name while it has no pid. */
export function who(name: string, pid: number | null): string {
  return pid === null ? name : `${name} (${pid})`;
}

/** An exit code in words: `0`, `-9 (SIGKILL)`, or why there is none. */
export function exitText(t: Translate, exitcode: number | null, ended: boolean): string {
  if (!ended) return t('tip.notEnded');
  if (exitcode === null) return t('exitcode.unknown');
  const sig = signalOfExitcode(exitcode);
  return sig ? `${exitcode} (${sig})` : String(exitcode);
}

/** A run time in ms as the axes write it: seconds with ms ("0.253 s"). */
export function at(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

export function timelineTip(t: Translate, r: TimelineRow, nowMs: number): Tip {
  const rows: Tip['rows'] = [];
  if (r.start === null) {
    rows.push([t('tip.state'), t('state.created')]);
  } else {
    rows.push([t('tip.started'), at(r.start)]);
    rows.push([t('tip.ended'), r.end === null ? t('tip.stillRunning') : at(r.end)]);
    rows.push([t('tip.lifetime'), formatDuration((r.end ?? nowMs) - r.start)]);
    rows.push([t('col.exitcode'), exitText(t, r.exitcode, r.end !== null)]);
  }
  return { title: who(r.name, r.pid), color: r.color, rows, note: t('tip.clickSelects') };
}

export interface SpanInfo {
  kind: 'hold' | 'wait';
  lockLabel: string;
  name: string;
  pid: number;
  color: string;
  start: number;
  /** null while it lasts. */
  end: number | null;
  /** For a wait: how it ended (0 acquired, 1 timeout, 2 exited). */
  outcome?: number;
}

export function lockSpanTip(t: Translate, s: SpanInfo, nowMs: number): Tip {
  const dur = formatDuration((s.end ?? nowMs) - s.start);
  const rows: Tip['rows'] = [
    [t(s.kind === 'hold' ? 'tip.heldFrom' : 'tip.waitedFrom'), at(s.start)],
    [t('tip.until'), s.end === null ? t(s.kind === 'hold' ? 'tip.stillHeld' : 'tip.stillWaiting') : at(s.end)],
    [t(s.kind === 'hold' ? 'tip.held' : 'tip.waited'), dur],
  ];
  if (s.kind === 'wait' && s.end !== null) {
    rows.push([t('tip.outcome'), t(s.outcome === 1 ? 'tip.timedOut' : s.outcome === 2 ? 'tip.exitedWaiting' : 'tip.acquired')]);
  }
  return {
    title: t(s.kind === 'hold' ? 'tip.holdTitle' : 'tip.waitTitle', { who: who(s.name, s.pid), lock: s.lockLabel }),
    color: s.color,
    rows,
    note: t('tip.clickSelects'),
  };
}

export interface QueueStepInfo {
  queueLabel: string;
  color: string;
  /** Bucket start, ms, and its width. */
  start: number;
  bucketMs: number;
  op: number;
  who: string;
  depth: number;
  peak: number;
  count: number;
  maxsize: number;
}

export function queueStepTip(t: Translate, q: QueueStepInfo): Tip {
  const opName = q.op > 0 ? 'put' : q.op < 0 ? 'get' : t('tip.created');
  const rows: Tip['rows'] = [
    [t('tip.at'), q.bucketMs > 1 ? `${at(q.start)} – ${at(q.start + q.bucketMs)}` : at(q.start)],
    [t('tip.op'), q.count > 1 ? t('tip.lastOf', { op: `${opName}()`, who: q.who, n: q.count }) : `${opName}() · ${q.who}`],
    [t('tip.depthAfter'), q.maxsize > 0 ? `${q.depth} / ${q.maxsize}` : String(q.depth)],
  ];
  if (q.peak > q.depth) rows.push([t('tip.peak'), String(q.peak)]);
  return { title: q.queueLabel, color: q.color, rows };
}

export interface PointInfo {
  kind: 'cpu' | 'rss';
  /** Seconds. */
  x: number;
  total: number;
  /** Lines under the pointer, with their value (NaN: no reading then). */
  lines: { label: string; color: string; value: number }[];
  others: number;
  othersCount: number;
}

/** CPU % of one core, or MiB. */
export function pointValue(kind: 'cpu' | 'rss', v: number): string {
  if (!(v === v)) return '—';
  return kind === 'cpu' ? `${v.toFixed(1)} %` : formatBytes(v * 1024 * 1024);
}

export function pointTip(t: Translate, p: PointInfo): Tip {
  const rows: Tip['rows'] = [[t('tip.total'), pointValue(p.kind, p.total)]];
  for (const l of p.lines) rows.push([l.label, pointValue(p.kind, l.value)]);
  if (p.othersCount > 0) rows.push([t('charts.others', { n: p.othersCount }), pointValue(p.kind, p.others)]);
  return { title: at(p.x * 1000), rows, note: p.kind === 'cpu' ? t('charts.cpuNote') : undefined };
}

export function taskTip(t: Translate, row: Pick<ProcRow, 'name' | 'pid' | 'color'>, n: number, start: number, end: number, failed: boolean): Tip {
  const rows: Tip['rows'] = [];
  if (start === start) rows.push([t('tip.started'), at(start)], [t('tip.took'), formatDuration(end - start)]);
  rows.push([t('tip.finished'), at(end)]);
  if (failed) rows.push([t('tip.outcome'), t('tip.raised')]);
  return { title: t('tip.taskTitle', { n, who: who(row.name, row.pid) }), color: row.color, rows };
}

/** What a mark on a Condition's, Event's or Barrier's lane did (see sync-marks.ts). */
export function markTip(t: Translate, m: SyncMark, lockLabel: string, nameOf: (pid: number) => string, color: string): Tip {
  const rows: Tip['rows'] = [
    [t('tip.at'), at(m.t)],
    [t(m.op === 'broken' ? 'mark.foundBy' : 'mark.by'), nameOf(m.pid)],
  ];
  if (m.op === 'notify' && m.n !== undefined) rows.push([t('mark.n'), String(m.n)]);
  if (m.op === 'release' || m.op === 'abort' || m.op === 'reset' || m.op === 'broken') {
    if (m.parties !== undefined) rows.push([t('mark.parties'), String(m.parties)]);
    if (m.generation !== undefined) rows.push([t('mark.generation'), String(m.generation)]);
  }
  if (m.op !== 'broken' && m.op !== 'clear') {
    const names = m.released.slice(0, 8).map(nameOf).join(', ') + (m.released.length > 8 ? ' …' : '');
    rows.push([t(m.op === 'abort' || m.op === 'reset' ? 'mark.broke' : m.op === 'notify' ? 'mark.woke' : 'mark.released', { n: m.released.length }), names || '—']);
  }
  return { title: t(`mark.${m.op}`, { lock: lockLabel }), color, rows, note: t('tip.clickSelects') };
}
