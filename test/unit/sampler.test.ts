import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Sampler, validateInterval, type ProcessSample, type SampleSource } from '../../src-main/core/sampler.ts';

// Real processes, real pidusage, real /proc: the sampler's job is reading the kernel, so nothing is mocked.

const children: ChildProcess[] = [];
const samplers: Sampler[] = [];

afterEach(async () => {
  for (const s of samplers.splice(0)) s.stop();
  await Promise.all(
    children.splice(0).map(async (c) => {
      if (!hasExited(c)) c.kill('SIGKILL');
      await exited(c);
    }),
  );
});

const hasExited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

async function exited(c: ChildProcess): Promise<void> {
  if (!hasExited(c)) await once(c, 'exit');
}

async function startChild(cmd: string, args: string[]): Promise<ChildProcess & { pid: number }> {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  await once(c, 'spawn'); // emitted once exec succeeded: /proc already shows the new program
  return c as ChildProcess & { pid: number };
}

/** Hands out the sampler's ticks one by one, in order, as promises; an onError fails the wait at once. */
class Ticks {
  #ready: ProcessSample[][] = [];
  #waiting: { resolve: (s: ProcessSample[]) => void; reject: (e: Error) => void }[] = [];
  #error: Error | undefined;

  readonly push = (s: ProcessSample[]): void => {
    const w = this.#waiting.shift();
    if (w) w.resolve(s);
    else this.#ready.push(s);
  };

  readonly fail = (e: Error): void => {
    this.#error ??= e;
    for (const w of this.#waiting.splice(0)) w.reject(e);
  };

  next(): Promise<ProcessSample[]> {
    if (this.#error) return Promise.reject(this.#error);
    const s = this.#ready.shift();
    return s ? Promise.resolve(s) : new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Skips the ticks already delivered, then waits for one that started after this call. */
  async nextStartedAfterNow(): Promise<ProcessSample[]> {
    this.#ready = [];
    await this.next(); // may have been read before now
    return this.next();
  }
}

function track(s: Sampler): Sampler {
  samplers.push(s);
  return s;
}

const byPid = (samples: ProcessSample[], pid: number): ProcessSample | undefined => samples.find((s) => s.pid === pid);

describe('validateInterval', () => {
  it('accepts integers from 50 to 10000 ms', () => {
    expect(validateInterval(50)).toBe(50);
    expect(validateInterval(500)).toBe(500);
    expect(validateInterval(10_000)).toBe(10_000);
  });

  it.each([
    [49, '49'],
    [10_001, '10001'],
    [100.5, '100.5'],
    [Number.NaN, 'NaN'],
    ['100', '"100"'],
    [undefined, 'undefined'],
    [null, 'null'],
  ])('rejects %s with a one-line message', (bad, shown) => {
    expect(() => validateInterval(bad)).toThrow(`interval must be an integer between 50 and 10000 ms, got ${shown}`);
  });

  it('keeps a string with a newline on one line', () => {
    expect(() => validateInterval('1\n2')).toThrow(/got "1\\n2"$/);
  });
});

describe.each<SampleSource>(['proc', 'pidusage'])('Sampler (source %s)', (source) => {
  it('reports cpu > 0 for a busy loop, about 0 for sleep, and rss > 0 for both', async () => {
    const busy = await startChild(process.execPath, ['-e', 'for(;;){}']);
    const sleeper = await startChild('sleep', ['30']);
    const ticks = new Ticks();
    const sampler = track(new Sampler({ intervalMs: 100, pids: () => [busy.pid, sleeper.pid], onSample: ticks.push, onError: ticks.fail, source }));
    expect(sampler.source).toBe(source);
    sampler.start();

    // The first tick of a pid has no previous reading (pidusage reports 0 for it): judge the next three.
    await ticks.next();
    const later = [await ticks.next(), await ticks.next(), await ticks.next()];
    for (const samples of later) {
      expect(samples.map((s) => s.pid).sort(), 'both pids are sampled every tick').toEqual([busy.pid, sleeper.pid].sort());
      for (const s of samples) expect(s.rss, `rss of ${s.pid}`).toBeGreaterThan(0);
    }
    const busyCpu = Math.max(...later.map((s) => byPid(s, busy.pid)!.cpu));
    const sleepCpu = Math.max(...later.map((s) => byPid(s, sleeper.pid)!.cpu));
    expect(busyCpu, 'a busy loop uses cpu').toBeGreaterThan(10);
    expect(sleepCpu, 'sleep uses no cpu after it started').toBeLessThan(1);
  });

  it('keeps reporting the live pids after one pid in the list died', async () => {
    const [a, b, c] = await Promise.all([startChild('sleep', ['30']), startChild('sleep', ['30']), startChild('sleep', ['30'])]);
    const ticks = new Ticks();
    // The list deliberately still names b after it died: that is the race between listing and reading.
    // onError fails the wait: a pid that exited is not an error.
    track(new Sampler({ intervalMs: 50, pids: () => [a.pid, b.pid, c.pid], onSample: ticks.push, onError: ticks.fail, source })).start();

    expect((await ticks.next()).map((s) => s.pid).sort()).toEqual([a.pid, b.pid, c.pid].sort());
    b.kill('SIGKILL');
    await exited(b);

    const after = await ticks.nextStartedAfterNow();
    expect(after.map((s) => s.pid).sort(), 'live pids still reported, the dead one left out').toEqual([a.pid, c.pid].sort());
  });

  it('gives an empty tick, not an error, when every listed pid has exited', async () => {
    const gone = await startChild('sleep', ['30']);
    gone.kill('SIGKILL');
    await exited(gone);
    const ticks = new Ticks();
    // A one-pid batch is the case where pidusage rejects instead of leaving the entry out.
    track(new Sampler({ intervalMs: 50, pids: () => [gone.pid], onSample: ticks.push, onError: ticks.fail, source })).start();

    expect(await ticks.next()).toEqual([]);
    expect(await ticks.next()).toEqual([]);
  });

  it('fires nothing more once stop() was called inside onSample', async () => {
    const target = await startChild('sleep', ['30']);
    let calls = 0;
    let stopped!: () => void;
    const firstCall = new Promise<void>((resolve) => (stopped = resolve));
    const sampler = track(
      new Sampler({
        intervalMs: 50,
        pids: () => [target.pid],
        onSample: () => {
          calls++;
          sampler.stop();
          stopped();
        },
        source,
      }),
    );
    sampler.start();
    await firstCall;
    expect(sampler.armed, 'no timer armed right after stop').toBe(false);

    // A real event spanning several 50 ms intervals: a stopped sampler would have ticked meanwhile.
    await exited(await startChild('sleep', ['0.4']));
    expect(calls, 'onSample ran only for the tick that stopped it').toBe(1);
    expect(sampler.armed).toBe(false);
  });

  it('discards a tick that was being read when stop() was called', async () => {
    const target = await startChild('sleep', ['30']);
    let listed = 0;
    let sampled = 0;
    const sampler = track(
      new Sampler({
        intervalMs: 50,
        pids: () => {
          listed++;
          sampler.stop(); // the read of this tick is still to come
          return [target.pid];
        },
        onSample: () => sampled++,
        source,
      }),
    );
    sampler.start();
    await exited(await startChild('sleep', ['0.4']));
    expect(listed, 'the tick started').toBe(1);
    expect(sampled, 'its result was dropped').toBe(0);
    expect(sampler.armed).toBe(false);
  });

  it('can be stopped twice and started again', async () => {
    const target = await startChild('sleep', ['30']);
    const ticks = new Ticks();
    const sampler = track(new Sampler({ intervalMs: 50, pids: () => [target.pid], onSample: ticks.push, source }));
    sampler.start();
    await ticks.next();
    sampler.stop();
    sampler.stop();
    expect(sampler.armed).toBe(false);
    sampler.start();
    sampler.start(); // no second loop
    expect((await ticks.nextStartedAfterNow()).map((s) => s.pid)).toEqual([target.pid]);
  });

  it('reports a throwing pids() through onError and keeps sampling', async () => {
    const target = await startChild('sleep', ['30']);
    const ticks = new Ticks();
    const errors: Error[] = [];
    let first = true;
    const pids = (): number[] => {
      if (first) {
        first = false;
        throw new Error('process table not ready');
      }
      return [target.pid];
    };
    track(new Sampler({ intervalMs: 50, pids, onSample: ticks.push, onError: (e) => errors.push(e), source })).start();

    expect((await ticks.next()).map((s) => s.pid)).toEqual([target.pid]);
    expect(errors.map((e) => e.message)).toEqual(['process table not ready']);
  });
});

describe.runIf(process.platform === 'linux')('Sampler on /proc', () => {
  /**
   * Which of `of` have their /proc/<pid>/stat held open by this process, sorted. Only those:
   * pidusage, used by the tests above, keeps fds of its own until its history expires.
   */
  const statFdsOpen = (of: number[]): number[] => {
    const pids: number[] = [];
    for (const fd of readdirSync('/proc/self/fd')) {
      let target = '';
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // the fd readdir itself used, closed by now
      }
      const m = /^\/proc\/(\d+)\/stat$/.exec(target);
      if (m && of.includes(Number(m[1]))) pids.push(Number(m[1]));
    }
    return pids.sort((a, b) => a - b);
  };
  const sorted = (pids: number[]): number[] => [...pids].sort((a, b) => a - b);

  it('keeps one fd per process while running and closes them all on stop()', async () => {
    const procs = await Promise.all([1, 2, 3].map(() => startChild('sleep', ['30'])));
    const pids = procs.map((p) => p.pid);
    const ticks = new Ticks();
    const sampler = track(new Sampler({ intervalMs: 50, pids: () => pids, onSample: ticks.push, onError: ticks.fail, source: 'proc' }));
    sampler.start();
    await ticks.next();
    await ticks.next();
    expect(statFdsOpen(pids), 'one /proc/<pid>/stat fd per process').toEqual(sorted(pids));

    sampler.stop();
    expect(statFdsOpen(pids), 'stop() closed them').toEqual([]);
  });

  it('a reading out of turn right after another never turns one CPU tick into hundreds of percent', async () => {
    // One thread busy all the time: over any window its CPU is at most one core, give or take
    // the kernel's tick (10 ms) over the shortest window a CPU % is worked out on.
    const busy = await startChild('python3', ['-c', 'while True: pass']);
    const ticks = new Ticks();
    const sampler = track(new Sampler({ intervalMs: 100, pids: () => [busy.pid], onSample: ticks.push, onError: ticks.fail, source: 'proc' }));
    sampler.start();
    const readings: number[] = [];
    for (let round = 0; round < 5; round++) {
      await ticks.next();
      // Listing and exit readings come a moment after a tick or after each other: read again and
      // again across a few of the kernel's ticks, so some reading straddles one.
      const until = performance.now() + 40;
      while (performance.now() < until) readings.push(sampler.readSync(busy.pid)?.cpu ?? 0);
    }
    const next = byPid(await ticks.next(), busy.pid);
    expect(Math.max(...readings), 'quick readings stay within one core and a tick').toBeLessThanOrEqual(125);
    expect(next?.cpu, 'the tick after them still counts over its whole interval').toBeGreaterThan(30);
  });

  it('closes the fd of a process once it leaves the list', async () => {
    const [a, b] = await Promise.all([startChild('sleep', ['30']), startChild('sleep', ['30'])]);
    let listed = [a.pid, b.pid];
    const ticks = new Ticks();
    track(new Sampler({ intervalMs: 50, pids: () => listed, onSample: ticks.push, onError: ticks.fail, source: 'proc' })).start();
    await ticks.next();
    expect(statFdsOpen([a.pid, b.pid])).toEqual(sorted([a.pid, b.pid]));

    b.kill('SIGKILL');
    await exited(b);
    listed = [a.pid];
    expect((await ticks.nextStartedAfterNow()).map((s) => s.pid)).toEqual([a.pid]);
    expect(statFdsOpen([a.pid, b.pid]), 'only a is still watched').toEqual([a.pid]);
  });
});

describe('Sampler options', () => {
  it('validates the interval in the constructor and in setInterval', () => {
    const opts = { pids: () => [], onSample: () => {} };
    expect(() => new Sampler({ ...opts, intervalMs: 10 })).toThrow('interval must be an integer between 50 and 10000 ms, got 10');
    const sampler = new Sampler({ ...opts, intervalMs: 500 });
    expect(() => sampler.setInterval(20_000)).toThrow('got 20000');
    expect(sampler.intervalMs, 'a rejected interval leaves the old one').toBe(500);
    sampler.setInterval(250);
    expect(sampler.intervalMs).toBe(250);
  });

  it('re-arms a waiting timer when the interval changes, and stays disarmed when stopped', async () => {
    const ticks = new Ticks();
    const sampler = track(new Sampler({ intervalMs: 10_000, pids: () => [process.pid], onSample: ticks.push }));
    sampler.start();
    await ticks.next(); // the first tick runs at once; the next one is 10 s away…
    expect(sampler.armed).toBe(true);
    sampler.setInterval(50); // …until the interval shrinks
    expect(sampler.armed).toBe(true);
    expect((await ticks.next()).map((s) => s.pid)).toEqual([process.pid]);
    sampler.stop();
    sampler.setInterval(100);
    expect(sampler.armed, 'setInterval does not restart a stopped sampler').toBe(false);
  });

  it('picks /proc on Linux and pidusage elsewhere', () => {
    const sampler = new Sampler({ intervalMs: 500, pids: () => [], onSample: () => {} });
    expect(sampler.source).toBe(process.platform === 'linux' ? 'proc' : 'pidusage');
  });
});
