// Exports a run as Chrome Trace Event Format JSON (the object form), for ui.perfetto.dev and
// chrome://tracing.
//
// Mapping (see docs/run-log.md):
// - each OS process is a trace process (pid = real pid) holding one complete slice ('X') for
//   its lifetime on its main thread (tid = pid), plus `cpu` and `rss` counters;
// - each (process, lock) pair the process waited for or held is a thread of that process, with
//   `wait <lock>` and `<lock>` slices;
// - queue depths, deadlocks and run-wide instants live on a pseudo process, pid 0.
//
// Format facts this relies on (Trace Event Format doc; Perfetto's JSON importer):
// - `ts`/`dur` are microseconds whatever `displayTimeUnit` says (it only picks display units), and
//   Perfetto looks for `displayTimeUnit` at the start of the file only, so it is written first;
// - slices on one thread must nest perfectly, or Perfetto draws them wrong (SliceTrack below);
// - a counter track is named `<name> <arg key>` in Perfetto, so `{name:'cpu', args:{'%':…}}`
//   shows as "cpu %" (chrome://tracing shows track "cpu", series "%");
// - Perfetto resolves `thread_name` by tid alone, so lock threads get tids unique in the whole
//   trace (from LOCK_TID_BASE up), far above any real pid.

import type { Pid, RunEvent } from '../../api.ts';
import { LockSpans } from '../../common/lock-spans.ts';
import { writeExportFile } from './export-file.ts';
import { readRunLog, type TornTail } from './reader.ts';
import { TraceSamples } from './trace-samples.ts';

export type TraceArg = string | number | boolean | null | TraceArg[] | { [key: string]: TraceArg };

export interface TraceEvent {
  name: string;
  /** X: complete slice, C: counter, i: instant, M: metadata, P: V8 CPU profile samples. */
  ph: 'X' | 'C' | 'i' | 'M' | 'P';
  /** Microseconds since the run started. */
  ts: number;
  pid: number;
  tid: number;
  /** Microseconds; complete slices only. */
  dur?: number;
  /** Instant scope: g(lobal), p(rocess), t(hread). */
  s?: 'g' | 'p' | 't';
  cat?: string;
  /** The profile session of `P` events. */
  id?: string;
  args?: { [key: string]: TraceArg };
}

export interface ChromeTrace {
  displayTimeUnit: 'ms';
  traceEvents: TraceEvent[];
}

/** The pseudo process carrying queue depths, deadlocks and run-wide instants. */
export const RUN_PID = 0;
export const RUN_PROCESS_NAME = 'procscope: queues & locks';
/** First tid of lock threads; Linux pids stay below 2^22, macOS and Windows ones far below this. */
export const LOCK_TID_BASE = 1_000_000_000;

const us = (t: number): number => Math.round(t * 1000);

/** The whole trace in memory: for tests and small runs. */
export function toChromeTrace(events: Iterable<RunEvent>): ChromeTrace {
  const traceEvents: TraceEvent[] = [];
  const builder = new TraceBuilder((e) => traceEvents.push(e));
  for (const event of events) builder.add(event);
  builder.finish();
  return { displayTimeUnit: 'ms', traceEvents };
}

/**
 * Streams the trace of the log at `logPath` into `outPath`, writing events as they are known
 * (never one giant string). Like the CSV export, the file appears only when complete.
 */
export async function exportTrace(
  logPath: string,
  outPath: string,
  onProgress?: (fraction: number) => void,
): Promise<{ events: number; torn: TornTail | null }> {
  let count = 0;
  let torn: TornTail | null = null;
  await writeExportFile(outPath, async (write) => {
    let batch: string[] = [];
    let batchChars = 0;
    const builder = new TraceBuilder((e) => {
      const json = JSON.stringify(e);
      batch.push(count === 0 ? json : ',\n' + json);
      batchChars += json.length + 2;
      count++;
    });
    const drain = async (): Promise<void> => {
      const text = batch.join('');
      batch = [];
      batchChars = 0;
      await write(text);
    };
    await write('{"displayTimeUnit":"ms","traceEvents":[\n');
    for await (const event of readRunLog(logPath, { onProgress, onTornTail: (t) => (torn = t) })) {
      builder.add(event);
      if (batchChars >= 1024 * 1024) await drain();
    }
    builder.finish();
    await drain();
    await write('\n]}\n');
  });
  onProgress?.(1);
  return { events: count, torn };
}

type Emit = (event: TraceEvent) => void;
type Args = { [key: string]: TraceArg };

interface OpenSlice {
  key: string;
  name: string;
  start: number;
  args: Args;
}

/**
 * One thread's slices, kept perfectly nested whatever order they end in. Normally a thread's
 * slices never overlap (a wait ends when the hold begins), but a process with several async
 * tasks can hold a lock while another of its tasks waits for it; if the earlier slice then ends
 * first, the later one is split at that instant so the two still nest.
 */
class SliceTrack {
  private readonly open: OpenSlice[] = [];

  constructor(
    private readonly pid: Pid,
    readonly tid: number,
  ) {}

  isOpen(key: string): boolean {
    return this.open.some((s) => s.key === key);
  }

  begin(key: string, name: string, start: number, args: Args): void {
    this.open.push({ key, name, start, args });
  }

  end(key: string, at: number, emit: Emit, endArgs: Args = {}): void {
    const i = this.open.findIndex((s) => s.key === key);
    if (i === -1) return;
    // Slices opened after this one end here too (emitted first: they are the inner ones) and
    // carry on from `at`.
    for (let j = this.open.length - 1; j > i; j--) {
      const inner = this.open[j];
      if (inner.start < at) this.emitSlice(inner, at, emit, { continues: true });
      inner.start = at;
    }
    this.emitSlice(this.open[i], at, emit, endArgs);
    this.open.splice(i, 1);
  }

  endAll(at: number, emit: Emit, endArgs: Args): void {
    while (this.open.length > 0) this.end(this.open[this.open.length - 1].key, at, emit, endArgs);
  }

  private emitSlice(slice: OpenSlice, at: number, emit: Emit, endArgs: Args): void {
    emit({
      name: slice.name,
      ph: 'X',
      ts: slice.start,
      dur: Math.max(0, at - slice.start),
      pid: this.pid,
      tid: this.tid,
      args: { ...slice.args, ...endArgs },
    });
  }
}

interface ProcessState {
  name: string;
  ppid: Pid;
  daemon: boolean;
  start: number;
}

/** Turns run events into trace events, in one pass, emitting each as soon as it is complete. */
class TraceBuilder {
  /** Processes whose lifetime slice is still open. */
  private readonly running = new Map<Pid, ProcessState>();
  private readonly exited = new Set<Pid>();
  /** Each lock's holds and waits (common/lock-spans.ts), drawn on its lock threads. */
  private readonly locks = new Map<string, LockSpans>();
  /** Lock threads by `${pid} ${lock}`. */
  private readonly lockTracks = new Map<string, SliceTrack>();
  private readonly lockThreadsOf = new Map<Pid, number>();
  private nextLockTid = LOCK_TID_BASE + 1;
  private processesSeen = 0;
  private lastTs = 0;
  /** Blocking waits, one thread per process. */
  private readonly waitTracks = new Map<Pid, SliceTrack>();
  private readonly samples: TraceSamples;

  constructor(private readonly emit: Emit) {
    this.samples = new TraceSamples(emit, (name, pid, tid, args, ts) => this.meta(name, pid, tid, args, ts));
    this.meta('process_name', RUN_PID, RUN_PID, { name: RUN_PROCESS_NAME }, 0);
    this.meta('process_sort_index', RUN_PID, RUN_PID, { sort_index: 0 }, 0);
    this.meta('thread_name', RUN_PID, RUN_PID, { name: 'queues & run events' }, 0);
  }

  add(e: RunEvent): void {
    const ts = us(e.t);
    if (ts > this.lastTs) this.lastTs = ts;
    switch (e.type) {
      case 'run':
        this.meta('process_labels', RUN_PID, RUN_PID, { labels: e.scenario }, ts);
        return;
      case 'process': {
        // A `process` event for a pid still open means the pid was recycled: end the old one.
        if (this.running.has(e.pid)) this.endProcess(e.pid, ts, null);
        this.exited.delete(e.pid);
        this.running.set(e.pid, { name: e.name, ppid: e.ppid, daemon: e.daemon, start: ts });
        this.processesSeen++;
        this.meta('process_name', e.pid, e.pid, { name: `${e.name} (${e.pid})` }, ts);
        this.meta('process_sort_index', e.pid, e.pid, { sort_index: this.processesSeen }, ts);
        this.meta('thread_name', e.pid, e.pid, { name: e.name }, ts);
        for (const spans of this.locks.values()) spans.started(e.pid);
        return;
      }
      case 'exit':
        this.endProcess(e.pid, ts, e.exitcode);
        this.exited.add(e.pid);
        this.waitTracks.get(e.pid)?.endAll(ts, this.emit, { outcome: 'exited' });
        // A dead process waits for nothing; a lock it held stays held until `abandoned` says so.
        for (const spans of this.locks.values()) spans.exited(e.pid, e.t);
        return;
      case 'sample':
        this.emit({ name: 'cpu', ph: 'C', ts, pid: e.pid, tid: e.pid, args: { '%': e.cpu } });
        this.emit({ name: 'rss', ph: 'C', ts, pid: e.pid, tid: e.pid, args: { MiB: Math.round((e.rss / 1048576) * 100) / 100 } });
        return;
      case 'queue':
        this.emit({ name: `queue ${e.queue}`, ph: 'C', ts, pid: RUN_PID, tid: RUN_PID, args: { depth: e.depth } });
        return;
      case 'task':
        // A counter track per worker: how its finished tasks grew is how the pool shared the work.
        this.emit({ name: 'tasks', ph: 'C', ts, pid: e.pid, tid: e.pid, args: { done: e.done, failed: e.failed } });
        return;
      case 'lock':
        this.lockEvent(e, ts);
        return;
      case 'deadlock':
        this.emit({
          name: 'deadlock',
          ph: 'i',
          s: 'g',
          ts,
          pid: RUN_PID,
          tid: RUN_PID,
          args: {
            cycle: e.cycle.map((edge) => `${edge.pid} waits for ${edge.lock} held by ${edge.holder}`).join(' → '),
            edges: e.cycle.map((edge) => ({ pid: edge.pid, lock: edge.lock, holder: edge.holder })),
          },
        });
        return;
      case 'control': {
        const args: Args = { ok: e.ok };
        if (e.result !== undefined) args.result = e.result;
        if (e.pid !== undefined) args.pid = e.pid;
        this.instant(e.action, e.pid, ts, args);
        return;
      }
      case 'warning':
        this.instant('warning', e.pid, ts, { message: e.message });
        return;
      case 'end': {
        const args: Args = { exitcode: e.exitcode };
        if (e.error !== undefined) args.error = e.error;
        this.instant(`run ${e.reason}`, undefined, ts, args);
        return;
      }
      case 'output':
        // One instant per output line would bury everything else; the log keeps them.
        return;
      case 'frames':
      case 'stacks':
      case 'samples':
        this.samples.add(e);
        return;
      case 'wait':
        this.waitEvent(e, ts);
        return;
    }
  }

  /** A blocking wait: a slice on the process's `waits` thread, named by what and where. */
  private waitEvent(e: Extract<RunEvent, { type: 'wait' }>, ts: number): void {
    const track = this.waitTrack(e.pid, ts);
    const key = `w${e.wait}`;
    if (e.op === 'begin') {
      if (this.exited.has(e.pid)) return;
      const what = e.object ?? (e.target !== undefined ? `pid ${e.target}` : '');
      const site = e.site ? `${e.site.file}:${e.site.line}` : '';
      track.begin(key, `${e.kind ?? 'wait'} ${what}`.trim(), ts, { site, ...(e.site ? { function: e.site.func } : {}) });
    } else {
      track.end(key, ts, this.emit, e.timeout ? { outcome: 'timeout' } : {});
    }
  }

  private waitTrack(pid: Pid, ts: number): SliceTrack {
    let track = this.waitTracks.get(pid);
    if (!track) {
      track = new SliceTrack(pid, this.nextLockTid++);
      this.waitTracks.set(pid, track);
      this.meta('thread_name', pid, track.tid, { name: 'waits' }, ts);
    }
    return track;
  }

  /** Ends everything still open at the last timestamp of the run. */
  finish(): void {
    const at = this.lastTs;
    for (const spans of this.locks.values()) spans.settle();
    for (const pid of [...this.running.keys()]) this.endProcess(pid, at, null);
    for (const track of this.lockTracks.values()) track.endAll(at, this.emit, { outcome: 'run ended' });
    for (const track of this.waitTracks.values()) track.endAll(at, this.emit, { outcome: 'run ended' });
  }

  private lockEvent(e: Extract<RunEvent, { type: 'lock' }>, ts: number): void {
    let spans = this.locks.get(e.lock);
    if (!spans) {
      const lock = e.lock;
      const track = (pid: Pid, t: number) => this.lockTrack(pid, lock, us(t));
      spans = new LockSpans({
        waitStarted: (pid, t) => track(pid, t).begin('wait', `wait ${lock}`, us(t), { lock }),
        waitEnded: (pid, t, how) => track(pid, t).end('wait', us(t), this.emit, { outcome: how }),
        holdStarted: (pid, t) => track(pid, t).begin('hold', lock, us(t), { lock }),
        holdEnded: (pid, t, how) => track(pid, t).end('hold', us(t), this.emit, how === 'abandoned' ? { abandoned: true } : {}),
      });
      for (const pid of this.exited) spans.exited(pid, e.t);
      this.locks.set(lock, spans);
    }
    spans.apply(e);
    if (e.op === 'abandoned') this.instant(`abandoned ${e.lock}`, e.pid, ts, { lock: e.lock, waiters: e.waiters });
  }

  private lockTrack(pid: Pid, lock: string, ts: number): SliceTrack {
    const key = `${pid} ${lock}`;
    let track = this.lockTracks.get(key);
    if (!track) {
      track = new SliceTrack(pid, this.nextLockTid++);
      this.lockTracks.set(key, track);
      const index = (this.lockThreadsOf.get(pid) ?? 0) + 1;
      this.lockThreadsOf.set(pid, index);
      this.meta('thread_name', pid, track.tid, { name: `lock ${lock}` }, ts);
      this.meta('thread_sort_index', pid, track.tid, { sort_index: index }, ts);
    }
    return track;
  }

  private endProcess(pid: Pid, at: number, exitcode: number | null): void {
    const p = this.running.get(pid);
    if (!p) return;
    this.running.delete(pid);
    this.emit({
      name: p.name,
      ph: 'X',
      ts: p.start,
      dur: Math.max(0, at - p.start),
      pid,
      tid: pid,
      args: { pid, ppid: p.ppid, daemon: p.daemon, exitcode },
    });
  }

  /** An instant on the process `pid` when it is known, else on the whole trace. */
  private instant(name: string, pid: Pid | undefined, ts: number, args: Args): void {
    if (pid !== undefined && (this.running.has(pid) || this.exited.has(pid))) {
      this.emit({ name, ph: 'i', s: 'p', ts, pid, tid: pid, args });
    } else {
      this.emit({ name, ph: 'i', s: 'g', ts, pid: RUN_PID, tid: RUN_PID, args });
    }
  }

  private meta(name: string, pid: number, tid: number, args: Args, ts: number): void {
    this.emit({ name, ph: 'M', ts, pid, tid, args });
  }
}
