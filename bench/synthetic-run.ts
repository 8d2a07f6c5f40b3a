// A synthetic run for the window's benches: N processes sampled at a given rate for some minutes,
// a busy bounded queue, two contended locks (one abandoned near the end), and some output, produced
// in time order up to any time asked for. The same stream feeds the live frame bench in Chromium
// (bench/renderer-frames.ts) and is written as a run log for the bench that opens one from History
// (bench/run.mjs). Deterministic: a seeded PRNG.

import type { LockEvent, Pid, RunEvent } from '../src-main/api.ts';

const MiB = 1024 * 1024;

/** A small deterministic PRNG (mulberry32), so every bench run sees the same stream. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimLock {
  id: string;
  workers: Pid[];
  holder: Pid | null;
  waiters: Pid[];
  holdUntil: number;
  dead: boolean;
}

/** The synthetic run, produced in time order up to any sim time asked for. */
export class SyntheticRun {
  readonly totalMs: number;
  readonly #n: number;
  readonly #tickMs: number;
  readonly #queueStepMs: number;
  readonly #rand = rng(42);
  #t = 0;
  #nextTick = 0;
  #started = 0;
  #depth = 0;
  #burst = 0;
  #nextOutput = 0;
  readonly #locks: SimLock[];
  readonly #abandonedAt: number;
  /** The holder that died holding lock-b (it is sampled no more). */
  #deadPid: Pid = -1;
  #ended = false;
  events = 0;

  constructor(processes: number, hz: number, minutes: number, queueOps: number) {
    this.#n = processes;
    this.#tickMs = 1000 / hz;
    this.totalMs = minutes * 60_000;
    this.#queueStepMs = 1000 / queueOps;
    const pid = (k: number) => 1000 + k;
    this.#locks = [
      { id: 'lock-a', workers: [1, 2, 3, 4, 5, 6].map(pid), holder: null, waiters: [], holdUntil: 0, dead: false },
      { id: 'lock-b', workers: [7, 8, 9, 10, 11, 12].map(pid), holder: null, waiters: [], holdUntil: 0, dead: false },
    ];
    // Near the end, lock-b's holder dies holding it: the "abandoned" flag.
    this.#abandonedAt = this.totalMs * 0.93;
  }

  get now(): number {
    return this.#t;
  }

  /** Every event with t < untilMs not produced yet. */
  until(untilMs: number): RunEvent[] {
    const out: RunEvent[] = [];
    const end = Math.min(untilMs, this.totalMs);
    if (this.#t === 0 && end > 0) {
      out.push({ t: 0, type: 'run', version: 1, scenario: 'bench-synthetic', startedAt: new Date(0).toISOString(), interval: this.#tickMs, cwd: '/' });
      out.push({ t: 0.5, type: 'process', pid: 1000, ppid: 1, name: 'MainProcess', daemon: false });
      out.push({ t: 1, type: 'queue', queue: 'q-main', op: 'create', pid: 1000, depth: 0, maxsize: 100 });
      for (const l of this.#locks) out.push(this.#lockEvent(1, l, 'create', 1000));
      this.#started = 1;
    }
    while (this.#t < end) {
      const t = this.#t;
      if (t >= this.#nextTick) {
        this.#tick(out, t);
        this.#nextTick += this.#tickMs;
      }
      this.#queueOp(out, t);
      for (const l of this.#locks) this.#lockStep(out, l, t);
      if (t >= this.#nextOutput) {
        const pid = 1000 + Math.floor(this.#rand() * this.#started);
        out.push({ t, type: 'output', pid, stream: 'stdout', text: `worker ${pid}: processed batch at ${(t / 1000).toFixed(1)} s` });
        this.#nextOutput += 200;
      }
      this.#t += this.#queueStepMs;
    }
    if (end >= this.totalMs && this.#t >= this.totalMs && !this.#ended) {
      this.#ended = true;
      out.push({ t: this.totalMs, type: 'end', reason: 'finished', exitcode: 0 });
    }
    this.events += out.length;
    return out;
  }

  #tick(out: RunEvent[], t: number): void {
    // Start ten processes per tick until all are up (a Process object first, then its start).
    for (let k = 0; k < 10 && this.#started < this.#n; k++, this.#started++) {
      const pid = 1000 + this.#started;
      const handle = `1000.${this.#started}`;
      out.push({ t, type: 'created', handle, owner: 1000, name: `Worker-${this.#started}`, daemon: false });
      out.push({ t: t + 0.2, type: 'process', pid, ppid: 1000, name: `Worker-${this.#started}`, daemon: false, handle });
    }
    const s = t / 1000;
    for (let k = 0; k < this.#started; k++) {
      const pid = 1000 + k;
      if (pid === this.#deadPid) continue;
      const wave = Math.sin(s / (3 + (k % 7) * 0.5) + k * 0.37);
      const hot = k % 37 === 5 ? 60 : 0;
      const cpu = Math.max(0, Math.min(100, 20 + hot + 18 * wave + (this.#rand() - 0.5) * 12));
      const rss = (28 + (k % 40) + s * 0.01 * (k % 5) + this.#rand() * 0.5) * MiB;
      out.push({ t: t + 0.8 + k * 0.004, type: 'sample', pid, cpu, rss });
    }
  }

  #queueOp(out: RunEvent[], t: number): void {
    // A random walk with bursts: producers sometimes flood the queue for a while.
    if (this.#burst <= 0 && this.#rand() < 0.0004) this.#burst = 200 + this.#rand() * 600;
    const put = this.#burst > 0 ? this.#rand() < 0.85 : this.#rand() < 0.5;
    if (this.#burst > 0) this.#burst--;
    const depth = Math.max(0, Math.min(100, this.#depth + (put ? 1 : -1)));
    const op = depth > this.#depth ? 'put' : 'get';
    this.#depth = depth;
    const pid = 1000 + 1 + Math.floor(this.#rand() * Math.max(1, this.#started - 1));
    out.push({ t, type: 'queue', queue: 'q-main', op, pid, depth, maxsize: 100 });
  }

  #lockEvent(t: number, l: SimLock, op: LockEvent['op'], pid: Pid): LockEvent {
    return { t, type: 'lock', lock: l.id, op, pid, holder: l.holder, waiters: l.waiters.slice() };
  }

  #lockStep(out: RunEvent[], l: SimLock, t: number): void {
    if (l.dead) return;
    const live = l.workers.filter((p) => p - 1000 < this.#started);
    if (live.length === 0) return;
    if (l.holder !== null && l === this.#locks[1] && t >= this.#abandonedAt) {
      // The holder exits while holding it; its waiters are stuck for good.
      const dead = l.holder;
      this.#deadPid = dead;
      out.push({ t, type: 'exit', pid: dead, exitcode: -9 });
      out.push(this.#lockEvent(t, l, 'abandoned', dead));
      l.dead = true;
      return;
    }
    if (l.holder !== null && t >= l.holdUntil) {
      const was = l.holder;
      l.holder = null;
      out.push(this.#lockEvent(t, l, 'release', was));
      const next = l.waiters.shift();
      if (next !== undefined) {
        l.holder = next;
        l.holdUntil = t + 2 + this.#rand() * 14;
        out.push(this.#lockEvent(t, l, 'acquire', next));
      }
    }
    if (this.#rand() < this.#queueStepMs / 9) {
      const pid = live[Math.floor(this.#rand() * live.length)];
      if (pid === l.holder || l.waiters.includes(pid)) return;
      out.push(this.#lockEvent(t, l, 'request', pid));
      if (l.holder === null && l.waiters.length === 0) {
        l.holder = pid;
        l.holdUntil = t + 2 + this.#rand() * 14;
        out.push(this.#lockEvent(t, l, 'acquire', pid));
      } else {
        l.waiters.push(pid);
      }
    }
    // Now and then a waiter gives up (acquire with a timeout).
    if (l.waiters.length > 2 && this.#rand() < this.#queueStepMs / 400) {
      const pid = l.waiters.pop() as Pid;
      out.push(this.#lockEvent(t, l, 'timeout', pid));
    }
  }
}
