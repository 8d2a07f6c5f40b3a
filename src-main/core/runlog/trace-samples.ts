// The profile in the Chrome trace: each thread's samples as the V8 CPU profile events Chrome's own
// traces carry (`Profile`, then `ProfileChunk`s with the call tree's new nodes, the samples and
// their time deltas), which Perfetto's JSON importer reads into CPU samples with their stacks.
// Only samples of a thread that ran count (a CPU profile); a node is a stack of the log (parent
// first, ids from 1), declared in the chunk of its first sample.

import type { ProfileFrame, RunEvent } from '../../api.ts';
import type { TraceArg, TraceEvent } from './trace.ts';

/** First tid of a process's threads other than its main one (locks have theirs from 1e9). */
export const SAMPLE_TID_BASE = 1_500_000_000;

interface Session {
  id: string;
  pid: number;
  tid: number;
  declared: Set<number>;
  lastUs: number;
}

const MAIN_THREADS = new Set(['MainThread', 'main']);

export class TraceSamples {
  private readonly frames: ProfileFrame[] = [];
  private readonly parent: number[] = [];
  private readonly frameOf: number[] = [];
  private readonly sessions = new Map<string, Session>();
  private nextTid = SAMPLE_TID_BASE;

  constructor(
    private readonly emit: (e: TraceEvent) => void,
    private readonly meta: (name: string, pid: number, tid: number, args: { name: string }, ts: number) => void,
  ) {}

  add(e: RunEvent): void {
    if (e.type === 'frames') {
      for (let i = 0; i < e.frames.length; i++) this.frames[e.first + i] = e.frames[i];
    } else if (e.type === 'stacks') {
      for (let i = 0; i < e.stacks.length; i++) {
        this.parent[e.first + i] = e.stacks[i][0];
        this.frameOf[e.first + i] = e.stacks[i][1];
      }
    } else if (e.type === 'samples') {
      this.samples(e);
    }
  }

  private samples(e: Extract<RunEvent, { type: 'samples' }>): void {
    const s = this.session(e.pid, e.thread, Math.round(e.t * 1000));
    const nodes: TraceArg[] = [];
    const samples: number[] = [];
    const deltas: number[] = [];
    let at = e.t * 1000;
    for (let i = 0; i < e.dt.length; i++) {
      at += e.dt[i];
      const stack = e.stacks[i];
      if (e.cpu.charCodeAt(i) === 48 || this.frameOf[stack] === undefined) continue;
      this.declare(s, stack, nodes);
      const us = Math.round(at);
      samples.push(stack + 1);
      deltas.push(Math.max(0, us - s.lastUs));
      s.lastUs = Math.max(s.lastUs, us);
    }
    if (samples.length === 0) return;
    this.emit({
      name: 'ProfileChunk',
      ph: 'P',
      id: s.id,
      ts: Math.round(e.t * 1000),
      pid: s.pid,
      tid: s.tid,
      cat: 'disabled-by-default-v8.cpu_profiler',
      args: { data: { cpuProfile: { nodes, samples }, timeDeltas: deltas } },
    });
  }

  /** Declares the stack and its undeclared ancestors, outermost first. */
  private declare(s: Session, stack: number, nodes: TraceArg[]): void {
    const chain: number[] = [];
    for (let x = stack; x >= 0 && !s.declared.has(x); x = this.parent[x] ?? -1) chain.push(x);
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i];
      s.declared.add(x);
      const f = this.frames[this.frameOf[x]];
      const p = this.parent[x];
      nodes.push({
        id: x + 1,
        ...(p >= 0 ? { parent: p + 1 } : {}),
        callFrame: { functionName: f?.[0] ?? '?', url: f?.[1] ?? '', lineNumber: Math.max(0, (f?.[2] ?? 1) - 1), columnNumber: 0, scriptId: 0 },
      });
    }
  }

  private session(pid: number, thread: string, ts: number): Session {
    const key = `${pid}\0${thread}`;
    let s = this.sessions.get(key);
    if (!s) {
      const tid = MAIN_THREADS.has(thread) ? pid : this.nextTid++;
      if (tid !== pid) this.meta('thread_name', pid, tid, { name: thread }, ts);
      s = { id: `0x${(this.sessions.size + 1).toString(16)}`, pid, tid, declared: new Set(), lastUs: ts };
      this.sessions.set(key, s);
      this.emit({ name: 'Profile', ph: 'P', id: s.id, ts, pid, tid, cat: 'disabled-by-default-v8.cpu_profiler', args: { data: { startTime: ts } } });
    }
    return s;
  }
}
