// Profile samples and waits as the run log writes them. Each process interns its frames and stacks
// in its own tables (the shim's _profiler.py, runtime/profiler.ts); here they are interned again
// run-wide, so that every Pool worker running the same function names it by the same frame id and
// a merged profile is one sum. A process's message is turned into `frames` and `stacks` lines for
// what the run had not seen, then one `samples` line per thread.

import type { FramesEvent, ProfileFrame, RunEvent, SamplesEvent, StacksEvent, WaitEvent, WaitKind } from '../../api.ts';
import type { ProfMessage, WaitMessage } from '../../protocol.ts';

/** One process's tables: its own frame and stack ids mapped to the run's. */
interface ProcessTables {
  frames: number[];
  stacks: number[];
  threads: Map<number, string>;
}

export class ProfileCollector {
  /**
   * `write` logs an event stamped by the process's clock; `warn` says, in one line, why a message
   * of `pid` was left out.
   */
  constructor(
    private readonly write: (event: RunEvent) => void,
    private readonly warn: (pid: number, why: string) => void,
  ) {}

  /** A `prof` or `wait` message of `pid`, turned into log lines (or a warning). */
  receive(pid: number, m: ProfMessage | WaitMessage): void {
    let events: RunEvent[];
    try {
      events = m.k === 'prof' ? this.samples(pid, m) : [this.wait(pid, m)];
    } catch (err) {
      return this.warn(pid, `profile of pid ${pid} left out: ${(err as Error).message}`);
    }
    for (const e of events) this.write(e);
  }

  private readonly frameIds = new Map<string, number>();
  private readonly stackIds = new Map<string, number>();
  private frameCount = 0;
  private stackCount = 0;
  private readonly tables = new Map<number, ProcessTables>();

  /**
   * The log lines for one `prof` message of `pid`, in the order they must be written (frames and
   * stacks before the samples that use them); `t` of each is the batch's first sample time.
   * Throws (one line) when the message names a frame, stack or thread it never defined.
   */
  samples(pid: number, m: ProfMessage): RunEvent[] {
    const tables = this.tablesOf(pid);
    if (m.fb !== tables.frames.length) throw new Error(`profile frames start at ${m.fb}, expected ${tables.frames.length}`);
    if (m.sb !== tables.stacks.length) throw new Error(`profile stacks start at ${m.sb}, expected ${tables.stacks.length}`);
    for (const [index, name] of m.th) tables.threads.set(index, name);
    const at = m.d.length > 0 ? m.d[0] / 1000 : 0;
    const out: RunEvent[] = [];
    const newFrames: ProfileFrame[] = [];
    const firstFrame = this.frameCount;
    for (const f of m.f) {
      const key = `${f[0]}\0${f[1]}\0${f[2]}\0${f[3]}`;
      let id = this.frameIds.get(key);
      if (id === undefined) {
        id = this.frameCount++;
        this.frameIds.set(key, id);
        newFrames.push([f[0], f[1], f[2], f[3] === 1 ? 1 : 0]);
      }
      tables.frames.push(id);
    }
    const newStacks: [number, number][] = [];
    const firstStack = this.stackCount;
    for (const [parent, frame] of m.s) {
      if (parent >= tables.stacks.length || frame >= tables.frames.length) {
        throw new Error(`profile stack ${tables.stacks.length} names ${parent >= tables.stacks.length ? `stack ${parent}` : `frame ${frame}`}, not defined`);
      }
      const p = parent < 0 ? -1 : tables.stacks[parent];
      const f = tables.frames[frame];
      const key = `${p}:${f}`;
      let id = this.stackIds.get(key);
      if (id === undefined) {
        id = this.stackCount++;
        this.stackIds.set(key, id);
        newStacks.push([p, f]);
      }
      tables.stacks.push(id);
    }
    if (newFrames.length > 0) out.push({ t: at, type: 'frames', first: firstFrame, frames: newFrames } satisfies FramesEvent);
    if (newStacks.length > 0) out.push({ t: at, type: 'stacks', first: firstStack, stacks: newStacks } satisfies StacksEvent);
    // One line per thread, samples in the order taken.
    const byThread = new Map<number, { first: number; last: number; dt: number[]; stacks: number[]; cpu: string[] }>();
    let clock = 0;
    for (let i = 0; i < m.d.length; i++) {
      clock += m.d[i];
      const th = m.ti[i];
      if (!tables.threads.has(th)) throw new Error(`profile sample ${i} names thread ${th}, not defined`);
      const local = m.st[i];
      if (local >= tables.stacks.length) throw new Error(`profile sample ${i} names stack ${local}, not defined`);
      let b = byThread.get(th);
      if (!b) byThread.set(th, (b = { first: clock, last: clock, dt: [], stacks: [], cpu: [] }));
      b.dt.push(clock - b.last);
      b.last = clock;
      b.stacks.push(tables.stacks[local]);
      b.cpu.push(m.c[i]);
    }
    for (const [th, b] of byThread) {
      out.push({
        t: b.first / 1000,
        type: 'samples',
        pid,
        thread: tables.threads.get(th) as string,
        dt: b.dt,
        stacks: b.stacks,
        cpu: b.cpu.join(''),
      } satisfies SamplesEvent);
    }
    return out;
  }

  /** The log line of one wait report of `pid`, `t` its own stamp. */
  wait(pid: number, m: WaitMessage): WaitEvent {
    if (m.op === 'end') return { t: m.at, type: 'wait', op: 'end', pid, wait: m.w, ...(m.timeout ? { timeout: true } : {}) };
    return {
      t: m.at,
      type: 'wait',
      op: 'begin',
      pid,
      wait: m.w,
      kind: m.kind satisfies WaitKind,
      ...(m.obj !== undefined ? { object: m.obj } : {}),
      ...(m.target !== undefined ? { target: m.target } : {}),
      site: { file: m.site[0], line: m.site[1], func: m.site[2] },
    };
  }

  /** The process's connection closed: a pid that comes back is another process, with its own tables. */
  forget(pid: number): void {
    this.tables.delete(pid);
  }

  private tablesOf(pid: number): ProcessTables {
    let t = this.tables.get(pid);
    if (!t) this.tables.set(pid, (t = { frames: [], stacks: [], threads: new Map() }));
    return t;
  }
}
