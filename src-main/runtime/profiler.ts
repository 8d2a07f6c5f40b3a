// The sampling profiler of a TypeScript process (a run started with profiling on, ENV_PROFILE = Hz):
// V8's own CPU profiler, through node:inspector in this very process, so it needs nothing but
// Node. V8 keeps the samples; about once a second (and at exit) the profile so far is taken, and
// its samples go to the monitor in the same `prof` messages as the Python shim's: frames and
// stacks interned in this process, one int per sample. The profile is taken without stopping the
// profiler: a new one (console.profile) starts before the last ends (console.profileEnd), since
// starting V8's profiler from scratch logs every function it has compiled (~10 ms a time, which
// once a second slowed a CPU-bound program by a few percent, before each Pool result by a third).
//
// V8 names a sample's functions where they start (it samples functions, not lines); its own
// pseudo-frames stay: `(garbage collector)` and `(program)` (native work) are on the CPU,
// `(idle)` is not (Node's idle notifier marks the event loop's waits). procscope's runtime frames
// are left out of every stack.

import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_COMPILED, ENV_PROFILE, ENV_T0, type ProfMessage, type WireFrame } from '../protocol.ts';
import type { BrokerClient } from './connection.ts';

/** How often the profile is taken and sent, ms. */
const BATCH_MS = 1000;
/** A Pool worker sends its samples before each result, but not more often than this, ms. */
const TASK_BATCH_MS = 50;
/** The titles of procscope's profiles (console.profile): the program's own are left alone. */
const TITLE = 'procscope-';
// Taken when the runtime loads: a program that replaces console's methods does not stop ours.
const profileStart = console.profile.bind(console);
const profileEnd = console.profileEnd.bind(console);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The rate ENV_PROFILE asks for, or 0 (off). */
export function profileRate(): number {
  const hz = Number(process.env[ENV_PROFILE] ?? 0);
  return Number.isInteger(hz) && hz >= 1 && hz <= 1000 ? hz : 0;
}

/** This runtime's own files: their frames are procscope's, not the program's. */
const RUNTIME_DIR = new URL('.', import.meta.url).href;

export class Profiler {
  private readonly session = new Session();
  private readonly frames = new Map<string, number>();
  private readonly stacks = new Map<string, number>();
  private newFrames: WireFrame[] = [];
  private newStacks: [number, number][] = [];
  private framesSent = 0;
  private stacksSent = 0;
  private threadNamed = false;
  /** µs of the monotonic clock V8 stamps samples with, at the run's t = 0. */
  private readonly clockAtT0: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private takenAt = performance.now();
  /** The profile recording now (console.profile's title), and how many there were. */
  private title = '';
  private profiles = 0;
  /** The last sample sent, µs of V8's clock: two profiles overlap for an instant. */
  private lastSample = -Infinity;
  /**
   * Whether V8 marks the event loop's waits `(idle)` (Node's idle notifier). Without it (a Node
   * that no longer has it) they fall to `(program)` with no JavaScript under it, taken as waiting.
   */
  private readonly idleMarked: boolean;

  constructor(
    private readonly client: BrokerClient,
    hz: number,
  ) {
    const t0 = Number(process.env[ENV_T0] ?? 0);
    // V8's profile times are the monotonic clock process.hrtime reads.
    const nowUs = Number(process.hrtime.bigint() / 1000n);
    this.clockAtT0 = Math.round(nowUs - (Date.now() - t0) * 1000);
    const internals = process as unknown as { _startProfilerIdleNotifier?: () => void };
    this.idleMarked = typeof internals._startProfilerIdleNotifier === 'function';
    internals._startProfilerIdleNotifier?.();
    this.session.connect();
    // Delivered synchronously, within console.profileEnd (an exit handler's last batch too).
    this.session.on('Profiler.consoleProfileFinished', (m: { params: { title?: string; profile: CpuProfile } }) => {
      if (!m.params.title?.startsWith(TITLE)) return; // the program's own console.profile()
      const msg = this.message(m.params.profile);
      if (msg) this.client.send(msg);
    });
    this.post('Profiler.enable');
    this.post('Profiler.setSamplingInterval', { interval: Math.round(1e6 / hz) });
    this.title = this.nextTitle();
    profileStart(this.title);
    this.timer = setInterval(() => this.take(true), BATCH_MS);
    this.timer.unref();
  }

  /** The last samples, from an exit handler: the inspector answers synchronously in-thread. */
  finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.take(false);
    this.session.disconnect();
  }

  private post(method: string, params?: object, then?: (result: unknown) => void): void {
    this.session.post(method, params, (err, result) => {
      if (!err) then?.(result);
    });
  }

  /** Sends the samples so far, unless they went out less than TASK_BATCH_MS ago. */
  soon(): void {
    if (!this.stopped && performance.now() - this.takenAt >= TASK_BATCH_MS) this.take(true);
  }

  private nextTitle(): string {
    this.profiles += 1;
    return `${TITLE}${process.pid}-${this.profiles}`;
  }

  /** Ends the profile recording now (its samples are sent as it ends); `goOn` starts the next first. */
  private take(goOn: boolean): void {
    this.takenAt = performance.now();
    const ending = this.title;
    if (goOn) {
      this.title = this.nextTitle();
      profileStart(this.title);
    }
    profileEnd(ending);
  }

  private message(p: CpuProfile): ProfMessage | null {
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    if (samples.length === 0) return null;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const stackOf = new Map<number, number>();
    const resolve = (id: number): number => {
      const known = stackOf.get(id);
      if (known !== undefined) return known;
      const node = byId.get(id);
      const up = parent.get(id);
      const base = up === undefined ? -1 : resolve(up);
      const frame = node ? this.frame(node.callFrame) : -1;
      const sid = frame < 0 ? base : this.stack(base, frame);
      stackOf.set(id, sid);
      return sid;
    };
    const d: number[] = [];
    const st: number[] = [];
    const ti: number[] = [];
    let c = '';
    let clock = p.startTime;
    let last = this.clockAtT0;
    for (let i = 0; i < samples.length; i++) {
      clock += deltas[i] ?? 0;
      if (clock <= this.lastSample) continue; // also in the profile before (they overlap)
      this.lastSample = clock;
      const sid = resolve(samples[i]);
      if (sid < 0) continue;
      const at = Math.max(last, Math.round(clock));
      d.push(at - last);
      last = at;
      st.push(sid);
      ti.push(0);
      // V8 samples a thread when it runs: all of its time is on the CPU, but the event loop's waits.
      const leaf = byId.get(samples[i])?.callFrame.functionName;
      c += leaf === '(idle)' || (!this.idleMarked && leaf === '(program)') ? '0' : '9';
    }
    if (st.length === 0) return null;
    const msg: ProfMessage = {
      k: 'prof',
      fb: this.framesSent,
      f: this.newFrames,
      sb: this.stacksSent,
      s: this.newStacks,
      th: this.threadNamed ? [] : [[0, 'main']],
      d,
      ti,
      st,
      c,
    };
    this.threadNamed = true;
    this.framesSent += this.newFrames.length;
    this.stacksSent += this.newStacks.length;
    this.newFrames = [];
    this.newStacks = [];
    return msg;
  }

  /** This process's id of a V8 call frame, or -1 for one that is left out. */
  private frame(cf: CallFrame): number {
    const url = cf.url;
    if (cf.functionName === '(root)' || (url !== '' && url.startsWith(RUNTIME_DIR))) return -1;
    const file = fileOf(url);
    const line = cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0;
    const name = cf.functionName || (url ? '(anonymous)' : '(native)');
    const key = `${name}\0${file}\0${line}`;
    let id = this.frames.get(key);
    if (id === undefined) {
      id = this.framesSent + this.newFrames.length;
      this.frames.set(key, id);
      const lib = url === '' || url.startsWith('node:') || url.includes('/node_modules/') ? 1 : 0;
      this.newFrames.push([name.slice(0, 256), file.slice(0, 1024), line, lib]);
    }
    return id;
  }

  private stack(parent: number, frame: number): number {
    const key = `${parent}:${frame}`;
    let id = this.stacks.get(key);
    if (id === undefined) {
      id = this.stacksSent + this.newStacks.length;
      this.stacks.set(key, id);
      this.newStacks.push([parent, frame]);
    }
    return id;
  }
}

/** The monitor's compiled copy of the scenario (core/scenario-compiler.ts): its folder. */
const COMPILED_DIR = process.env[ENV_COMPILED] ? path.dirname(process.env[ENV_COMPILED]) + path.sep : null;
const sourceUrls = new Map<string, string>();

/**
 * A script's file as the program names it: a compiled copy by the file it was compiled from (its
 * sourceURL comment; V8's profiles name the copy), a URL as a path (as Python names files).
 */
export function fileOf(url: string): string {
  if (!url.startsWith('file://')) return url;
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    return url;
  }
  if (COMPILED_DIR === null || !file.startsWith(COMPILED_DIR)) return file;
  let original = sourceUrls.get(file);
  if (original === undefined) {
    original = file;
    try {
      const text = fs.readFileSync(file, 'utf8');
      const m = /\n\/\/# sourceURL=(\S+)\s*$/.exec(text);
      if (m) original = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    } catch {
      // gone already: the copy's name it is
    }
    sourceUrls.set(file, original);
  }
  return original;
}

let profiler: Profiler | null = null;

/** A Pool worker is about to hand back a result: its samples go first (see Profiler.soon). */
export function takeSamples(): void {
  profiler?.soon();
}

/**
 * Starts profiling this process if the run asks for it. Called before the process's own exit
 * handler is registered, so that the last samples go out before its `bye`.
 */
export function startProfiler(client: BrokerClient): void {
  const hz = profileRate();
  if (hz === 0 || profiler) return;
  try {
    profiler = new Profiler(client, hz);
  } catch (err) {
    client.send({ k: 'warn', message: `procscope could not profile pid ${process.pid}: ${(err as Error).message}` });
    return;
  }
  process.on('exit', () => profiler?.finish());
}
