import fs from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputEvent, RunEvent, SampleEvent } from '../../src-main/api.ts';
import { runPy } from '../helpers/python.ts';
import { run, scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';

// How processes end, and what is known of them at the end: a stopped run logs the exit code each
// process really ended with (-15 for SIGTERM, -9 for those killed after the grace period), and
// every process is sampled as soon as it is listed and once more as it ends.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Stops the run once `count` lines saying "ready" were printed. */
const stopWhenReady =
  (count: number) =>
  async (s: Parameters<NonNullable<Parameters<typeof run>[1]>['during'] & object>[0], events: RunEvent[]) => {
    const ready = () => events.filter((e) => e.type === 'output' && (e as OutputEvent).text.startsWith('ready')).length >= count;
    await waitFor(s, events, () => ready());
    await s.stop();
  };

function exitsByName(r: RunResult): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const exits = r.exits();
  for (const p of r.processes()) out[p.name] = exits.has(p.pid) ? (exits.get(p.pid) as number | null) : 'never' as never;
  return out;
}

describe('Stop: each process is logged with the exit code it really ended with', () => {
  it('TypeScript: -15 for those that SIGTERM ends, -9 for one that ignores it, grandchildren included', async () => {
    const r = await run(
      scenarioFile(`
import { Process } from 'procscope';
export async function sleeper(grand: boolean): Promise<void> {
  if (grand) new Process({ target: sleeper, args: [false], name: 'grandchild' }).start();
  console.log('ready');
  await new Promise((r) => setTimeout(r, 60_000));
}
export async function stubborn(): Promise<void> {
  process.on('SIGTERM', () => console.log('not now'));
  console.log('ready');
  await new Promise((r) => setTimeout(r, 60_000));
}
export default async function main(): Promise<void> {
  new Process({ target: sleeper, args: [true], name: 'child' }).start();
  new Process({ target: stubborn, name: 'stubborn' }).start();
  await new Promise((r) => setTimeout(r, 60_000));
}
`),
      { during: stopWhenReady(3) },
    );
    expect(r.summary.end.reason).toBe('stopped');
    expect(exitsByName(r)).toEqual({ MainProcess: -15, child: -15, grandchild: -15, stubborn: -9 });
    expect(r.summary.end.exitcode).toBe(-15);
  });

  it('Python: the same for a Python program, whose parents never reap their children', async () => {
    const source = `import multiprocessing as mp, signal, time
def sleeper(grand):
    if grand: mp.Process(target=sleeper, args=(False,), name='grandchild').start()
    print('ready', flush=True)
    time.sleep(60)
def stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print('ready', flush=True)
    time.sleep(60)
if __name__ == '__main__':
    mp.Process(target=sleeper, args=(True,), name='child').start()
    mp.Process(target=stubborn, name='stubborn').start()
    time.sleep(60)
`;
    const r = await runPy(scenarioFile(source, 'stop_codes.py'),
      { during: stopWhenReady(3) },
    );
    expect(r.summary.end.reason).toBe('stopped');
    expect(exitsByName(r)).toEqual({ MainProcess: -15, child: -15, grandchild: -15, stubborn: -9 });
  });
});

describe('samples: every process is read when listed and as it ends', () => {
  const SHORT_TS = `
import { Process } from 'procscope';
export function quick(): void {
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i;
  console.log('quick', x > 0);
}
export default async function main(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const p = new Process({ target: quick });
    p.start();
    await p.join();
  }
}
`;
  const SHORT_PY = ['import multiprocessing as mp', 'def quick():', '    print("quick", sum(range(3000000)) > 0)', "if __name__ == '__main__':", '    for _ in range(3):', '        p = mp.Process(target=quick)', '        p.start()', '        p.join()', ''].join('\n');

  /** Each process's samples, with where they sit in the log. */
  const samplesOf = (r: RunResult, pid: number) => r.logged.flatMap((e, i) => (e.type === 'sample' && e.pid === pid ? [{ i, e: e as SampleEvent }] : []));

  function expectHonestSamples(r: RunResult, atLeast: (pid: number) => number): void {
    for (const p of r.processes()) {
      const listed = r.logged.findIndex((e) => e.type === 'process' && e.pid === p.pid);
      const exited = r.logged.findIndex((e) => e.type === 'exit' && e.pid === p.pid);
      const samples = samplesOf(r, p.pid);
      expect(samples.length, `${p.name} ${p.pid}: samples`).toBeGreaterThanOrEqual(atLeast(p.pid));
      expect(samples[0].i, `${p.name}: sampled once listed`).toBeGreaterThan(listed);
      expect(samples.at(-1)!.i, `${p.name}: sampled before its exit`).toBeLessThan(exited);
      const times = samples.map((s) => s.e.cpuTime as number);
      expect(times.every((t) => typeof t === 'number' && t >= 0), `${p.name}: every sample has its CPU time`).toBe(true);
      expect(times, `${p.name}: CPU time only grows`).toEqual([...times].sort((a, b) => a - b));
      expect(samples.every((s) => s.e.rss > 0), `${p.name}: no sample shows a memory it never had`).toBe(true);
      // Readings a moment apart (at listing, at the end) must not turn one kernel tick into
      // thousands of percent: no process uses more than every core of the machine.
      const cores = os.availableParallelism();
      for (const s of samples) expect(s.e.cpu, `${p.name}: CPU % at ${s.e.t} ms`).toBeLessThanOrEqual(100 * cores + 25);
    }
  }

  it('TypeScript: short-lived processes, with a 10 s interval, are read when listed and as they end; their CPU time and peak memory stay', async () => {
    const r = await run(scenarioFile(SHORT_TS), { interval: 10_000 });
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expectHonestSamples(r, () => 2);
    for (const p of r.summary.processes) {
      expect(p.cpuTime, `${p.name}: its CPU time is kept after its exit`).toBeGreaterThan(0);
      expect(p.peakRss, `${p.name}: its peak memory is kept after its exit`).toBeGreaterThan(0);
    }
  });

  it('Python: the same where the program lets it be read (a parent that joins at once reaps its child first)', async () => {
    const r = await runPy(scenarioFile(SHORT_PY, 'short.py'), { interval: 10_000 });
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expectHonestSamples(r, (pid) => (pid === r.root ? 2 : 1));
    for (const p of r.summary.processes) {
      expect(p.cpuTime, `${p.name}: a CPU time`).toBeGreaterThanOrEqual(0);
      expect(p.peakRss, `${p.name}: a peak memory`).toBeGreaterThan(0);
    }
    expect(r.summary.processes.find((p) => p.pid === r.root)?.cpuTime).toBeGreaterThan(0);
  });
});
