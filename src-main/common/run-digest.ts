// The figures two runs are compared by (the window's Compare and `procscope compare`): wall time,
// processes, total CPU time, exit codes, and per lock and per queue what contention and backlog
// they saw. Fed event by event like the verdicts, in log order, at a constant cost per event.

import type { EndReason, LocalizedText, Pid, RunEvent, Runtime } from '../api.ts';
import { formatDuration } from './duration-text.ts';

export interface LockDigest {
  /** The lock's id in its run. */
  id: string;
  acquisitions: number;
  /** Acquisitions (and timed-out attempts) that had to wait for another holder. */
  waits: number;
  /** Summed time from request to acquire (or to timeout), ms. */
  totalWaitMs: number;
  longestWaitMs: number;
}

export interface QueueDigest {
  /** The queue's id in its run. */
  id: string;
  /** 0: unbounded. */
  maxsize: number;
  maxDepth: number;
  puts: number;
  gets: number;
  /** Items in it when the log ends. */
  left: number;
}

export interface RunDigestResult {
  /** From the log's `run` line; null if the log had none. */
  scenario: string | null;
  runtime: Runtime | null;
  startedAt: string | null;
  /** How the run ended; null when the log has no end (still running, or the monitor was killed). */
  end: { reason: EndReason; exitcode: number | null; error?: string } | null;
  /** From the run's start to its end (or to the last event of a log without one), ms. */
  wallMs: number;
  processes: number;
  /**
   * CPU time of all processes, ms: their own cumulative figure when samples carry one, else cpu%
   * integrated over the sample intervals. Null when the log has no sample at all (a run shorter
   * than one sampling interval): unknown, not zero.
   */
  cpuMs: number | null;
  /** Processes without a single sample (they lived between two readings): their CPU time is not in cpuMs. */
  cpuUnsampled: number;
  /** How many processes ended with each exit code, by code; null: no code was observed. */
  exitCodes: { exitcode: number | null; count: number }[];
  /** In the order the run created them. */
  locks: LockDigest[];
  queues: QueueDigest[];
}

interface CpuTrack {
  sampled: boolean;
  /** When this process's last sample (or its start) was, ms. */
  since: number;
  integratedMs: number;
  /** The latest cumulative CPU seconds a sample carried, if samples carry them. */
  cumulativeS: number | null;
}

interface LockTrack {
  digest: LockDigest;
  /** When each waiting pid asked. */
  asked: Map<Pid, number>;
}

/** A sample's cumulative CPU seconds, if the engine that wrote the log records them. */
function cumulativeCpu(e: RunEvent): number | null {
  const v = (e as { cpuTime?: unknown }).cpuTime;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

export class RunDigest {
  private scenario: string | null = null;
  private runtime: Runtime | null = null;
  private startedAt: string | null = null;
  private end: RunDigestResult['end'] = null;
  private endT: number | null = null;
  private lastT = 0;
  private sampled = false;
  private readonly exits = new Map<Pid, number | null>();
  private readonly cpu = new Map<Pid, CpuTrack>();
  private readonly locks = new Map<string, LockTrack>();
  private readonly queues = new Map<string, QueueDigest>();

  add(e: RunEvent): void {
    this.lastT = Math.max(this.lastT, e.t);
    switch (e.type) {
      case 'run':
        this.scenario = e.scenario;
        this.runtime = e.runtime ?? 'typescript';
        this.startedAt = e.startedAt;
        break;
      case 'process':
        if (!this.exits.has(e.pid)) this.exits.set(e.pid, null);
        if (!this.cpu.has(e.pid)) this.cpu.set(e.pid, { sampled: false, since: e.t, integratedMs: 0, cumulativeS: null });
        break;
      case 'exit':
        this.exits.set(e.pid, e.exitcode);
        break;
      case 'sample': {
        this.sampled = true;
        const track = this.cpu.get(e.pid) ?? { sampled: false, since: e.t, integratedMs: 0, cumulativeS: null };
        track.sampled = true;
        const cumulative = cumulativeCpu(e);
        if (cumulative !== null) track.cumulativeS = Math.max(track.cumulativeS ?? 0, cumulative);
        // cpu is percent of one core since the previous sample (the first: since the start).
        track.integratedMs += (e.cpu / 100) * Math.max(0, e.t - track.since);
        track.since = e.t;
        this.cpu.set(e.pid, track);
        break;
      }
      case 'lock': {
        let track = this.locks.get(e.lock);
        if (!track) {
          track = { digest: { id: e.lock, acquisitions: 0, waits: 0, totalWaitMs: 0, longestWaitMs: 0 }, asked: new Map() };
          this.locks.set(e.lock, track);
        }
        if (e.op === 'request') track.asked.set(e.pid, e.t);
        else if (e.op === 'acquire' || e.op === 'timeout') {
          if (e.op === 'acquire') track.digest.acquisitions += 1;
          const asked = track.asked.get(e.pid);
          track.asked.delete(e.pid);
          if (asked !== undefined) {
            const wait = Math.max(0, e.t - asked);
            if (wait > 0) track.digest.waits += 1;
            track.digest.totalWaitMs += wait;
            track.digest.longestWaitMs = Math.max(track.digest.longestWaitMs, wait);
          }
        }
        break;
      }
      case 'queue': {
        let q = this.queues.get(e.queue);
        if (!q) {
          q = { id: e.queue, maxsize: e.maxsize, maxDepth: 0, puts: 0, gets: 0, left: 0 };
          this.queues.set(e.queue, q);
        }
        if (e.op === 'put') q.puts += 1;
        else if (e.op === 'get') q.gets += 1;
        q.left = e.depth;
        q.maxDepth = Math.max(q.maxDepth, e.depth);
        break;
      }
      case 'end':
        this.end = { reason: e.reason, exitcode: e.exitcode, ...(e.error !== undefined ? { error: e.error } : {}) };
        this.endT = e.t;
        break;
      default:
        break;
    }
  }

  result(): RunDigestResult {
    const byCode = new Map<number | null, number>();
    for (const code of this.exits.values()) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    let cpuMs: number | null = null;
    if (this.sampled) {
      cpuMs = 0;
      for (const t of this.cpu.values()) cpuMs += t.cumulativeS !== null ? t.cumulativeS * 1000 : t.integratedMs;
    }
    return {
      scenario: this.scenario,
      runtime: this.runtime,
      startedAt: this.startedAt,
      end: this.end,
      wallMs: this.endT ?? this.lastT,
      processes: this.exits.size,
      cpuMs,
      cpuUnsampled: [...this.cpu.values()].filter((t) => !t.sampled).length,
      exitCodes: [...byCode]
        .map(([exitcode, count]) => ({ exitcode, count }))
        // Codes in order, the unknown last.
        .sort((a, b) => (a.exitcode ?? Infinity) - (b.exitcode ?? Infinity)),
      locks: [...this.locks.values()].map((t) => ({ ...t.digest })),
      queues: [...this.queues.values()].map((q) => ({ ...q })),
    };
  }
}

export interface CompareRow {
  /** Stable id of the row: `wall`, `lock.1.acquisitions`, … */
  key: string;
  label: LocalizedText;
  /** The figure in run A and in run B; `—` where that run has no such thing (a lock it never made). */
  a: string;
  b: string;
  differs: boolean;
  section: 'run' | 'process' | 'lock' | 'queue';
}

const NONE = '—';

function runtimeWord(r: Runtime | null): string {
  return r === 'python' ? 'Python' : r === 'typescript' ? 'TypeScript' : '?';
}

function endText(d: RunDigestResult): string {
  if (!d.end) return 'no end (log cut short)';
  return `${d.end.reason} (${d.end.exitcode ?? '?'})`;
}

function cpuText(d: RunDigestResult): string {
  if (d.cpuMs === null) return 'not sampled';
  // A figure that leaves processes out says so: it is a floor, not the total.
  return d.cpuUnsampled > 0 ? `${formatDuration(d.cpuMs)} + ${d.cpuUnsampled} unsampled` : formatDuration(d.cpuMs);
}

function exitsText(d: RunDigestResult): string {
  if (d.exitCodes.length === 0) return NONE;
  return d.exitCodes.map((c) => `${c.exitcode ?? '?'} ×${c.count}`).join(', ');
}

/**
 * What differs between two runs, row by row. Two runs' locks and queues have ids of their own,
 * so they are matched by the order the runs created them: Lock 1 with Lock 1.
 */
export function compareRuns(a: RunDigestResult, b: RunDigestResult): CompareRow[] {
  const rows: CompareRow[] = [];
  const row = (section: CompareRow['section'], key: string, label: LocalizedText, va: string, vb: string) =>
    rows.push({ key, label, a: va, b: vb, differs: va !== vb, section });

  row('run', 'program', { en: 'Program', zh: '程序' }, `${a.scenario ?? '?'} (${runtimeWord(a.runtime)})`, `${b.scenario ?? '?'} (${runtimeWord(b.runtime)})`);
  row('run', 'end', { en: "How it ended (main's exit code)", zh: '结束方式（主进程退出码）' }, endText(a), endText(b));
  row('run', 'wall', { en: 'Wall time', zh: '总耗时' }, formatDuration(a.wallMs), formatDuration(b.wallMs));
  row('process', 'processes', { en: 'Processes', zh: '进程数' }, String(a.processes), String(b.processes));
  row('process', 'cpu', { en: 'Total CPU time', zh: 'CPU 总时间' }, cpuText(a), cpuText(b));
  row('process', 'exit-codes', { en: 'Exit codes (× processes)', zh: '退出码（× 进程数）' }, exitsText(a), exitsText(b));

  for (let i = 0; i < Math.max(a.locks.length, b.locks.length); i++) {
    const la = a.locks[i];
    const lb = b.locks[i];
    const n = i + 1;
    const name = { en: `Lock ${n} (by creation order)`, zh: `锁 ${n}（按创建顺序）` };
    const fig = (l: LockDigest | undefined, f: (l: LockDigest) => string) => (l ? f(l) : NONE);
    row('lock', `lock.${n}.acquisitions`, { en: `${name.en}: acquisitions`, zh: `${name.zh}：获取次数` }, fig(la, (l) => String(l.acquisitions)), fig(lb, (l) => String(l.acquisitions)));
    row('lock', `lock.${n}.wait`, { en: `${name.en}: total wait`, zh: `${name.zh}：总等待时间` }, fig(la, (l) => formatDuration(l.totalWaitMs)), fig(lb, (l) => formatDuration(l.totalWaitMs)));
    row('lock', `lock.${n}.longest-wait`, { en: `${name.en}: longest wait`, zh: `${name.zh}：最长一次等待` }, fig(la, (l) => formatDuration(l.longestWaitMs)), fig(lb, (l) => formatDuration(l.longestWaitMs)));
  }
  for (let i = 0; i < Math.max(a.queues.length, b.queues.length); i++) {
    const qa = a.queues[i];
    const qb = b.queues[i];
    const n = i + 1;
    const name = { en: `Queue ${n} (by creation order)`, zh: `队列 ${n}（按创建顺序）` };
    const fig = (q: QueueDigest | undefined, f: (q: QueueDigest) => string) => (q ? f(q) : NONE);
    row('queue', `queue.${n}.max-depth`, { en: `${name.en}: maximum depth`, zh: `${name.zh}：最大深度` }, fig(qa, (q) => String(q.maxDepth)), fig(qb, (q) => String(q.maxDepth)));
    row('queue', `queue.${n}.left`, { en: `${name.en}: items left at the end`, zh: `${name.zh}：结束时剩余元素` }, fig(qa, (q) => String(q.left)), fig(qb, (q) => String(q.left)));
  }
  return rows;
}
