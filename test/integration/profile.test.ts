// The profiler and the wait sites on real programs, in both runtimes: a function that burns the CPU
// tops its process's on-CPU profile and the merged profile of the Pool that runs it; a stuck
// consumer's wait names the line of its get(); two processes contending for a lock are each named
// at their own acquire line. Read back from the run log, as every reader of it does. Programs do a
// fixed amount of work and wait on file gates the test opens once the log shows what it waits
// for: no fixed sleeps, no timing asserts.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, WaitEvent } from '../../src-main/api.ts';
import { ROOT, buildCallTree, topFunctions } from '../../src-main/common/profile/call-tree.ts';
import { ProfileData } from '../../src-main/common/profile/profile-data.ts';
import { processGroups } from '../../src-main/common/profile/process-groups.ts';
import { WaitTable } from '../../src-main/common/profile/wait-table.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { exportSpeedscope } from '../../src-main/core/runlog/speedscope.ts';
import type { Session } from '../../src-main/core/session.ts';
import { python, runPy } from '../helpers/python.ts';
import { run, scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const execFileAsync = promisify(execFile);

/** A faster rate than the default: more samples of the same work on a loaded machine. */
const HZ = 250;

function profileOf(r: RunResult): ProfileData {
  const data = new ProfileData();
  for (const e of r.logged) data.ingest(e);
  return data;
}

/** The function with the most self time on the CPU among `pids` (null: every process). */
function hottest(data: ProfileData, pids: number[] | null): string | undefined {
  const tree = buildCallTree(data, { pids: pids ? new Set(pids) : null, range: null, onCpu: true });
  expect(tree.total[ROOT], 'the processes were sampled on the CPU').toBeGreaterThan(0);
  return topFunctions(tree)[0]?.name;
}

function waitRows(r: RunResult) {
  const table = new WaitTable();
  for (const e of r.logged) table.ingest(e);
  const end = r.logged[r.logged.length - 1].t;
  return table.table(end);
}

/** The 1-based line of the first line of `source` that contains `text`. */
function lineOf(source: string, text: string): number {
  const i = source.split('\n').findIndex((l) => l.includes(text));
  expect(i, `the program has a line with ${text}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

/** Resolves once `count` blocking waits have begun in `pids` (or in any process, for an empty list). */
async function waitsBegun(s: Session, events: RunEvent[], count: number, kind: string): Promise<WaitEvent[]> {
  const seen = (): WaitEvent[] => events.filter((e): e is WaitEvent => e.type === 'wait' && e.op === 'begin' && e.kind === kind);
  while (seen().length < count) await waitFor(s, events.slice(events.length), (e) => e.type === 'wait' && e.op === 'begin' && e.kind === kind);
  return seen();
}

/**
 * Runs a program whose main holds a lock while two children block acquiring it, until both waits
 * have begun; then opens the gate (the file `release` beside it) for main to release the lock.
 * Returns the acquire waits' [function, line], sorted.
 */
async function contendedLines(
  file: string,
  start: (during: (s: Session, events: RunEvent[]) => Promise<void>) => Promise<RunResult>,
): Promise<[string, number][]> {
  const r = await start(async (s, events) => {
    await waitsBegun(s, events, 2, 'acquire');
    fs.writeFileSync(path.join(path.dirname(file), 'release'), '');
  });
  expect(r.summary.end.exitcode).toBe(0);
  return waitRows(r)
    .filter((w) => w.kind === 'acquire')
    .map((w): [string, number] => [w.site.func, w.site.line])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

// ---- Python ---------------------------------------------------------------------------------------

/** A Python function `name(n)` that burns the CPU for n rounds: what each program's profile must find. */
const pyBurn = (name: string): string => `def ${name}(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x
`;

const PY_BURN = `import multiprocessing as mp

${pyBurn('burn_cpu')}
def task(i):
    return burn_cpu(400000)

if __name__ == '__main__':
    with mp.Pool(3) as pool:
        print(sum(pool.map(task, range(12), chunksize=1)))
    print(burn_cpu(2000000))
`;

const PY_STUCK = `import multiprocessing as mp
import os

def consumer(q):
    item = q.get()
    print('never', item)

if __name__ == '__main__':
    q = mp.Queue()
    p = mp.Process(target=consumer, args=(q,))
    p.start()
    p.join()
`;

const PY_LOCKS = `import multiprocessing as mp
import os
import time

def first(lock):
    lock.acquire()
    lock.release()

def second(lock):
    with lock:
        pass

if __name__ == '__main__':
    lock = mp.Lock()
    lock.acquire()
    a = mp.Process(target=first, args=(lock,))
    b = mp.Process(target=second, args=(lock,))
    a.start()
    b.start()
    while not os.path.exists('release'):
        time.sleep(0.01)
    lock.release()
    a.join()
    b.join()
`;

// The main thread waits while another thread computes: its SIGPROF handler cannot run, so
// procscope's thread samples.
const PY_THREAD_BURN = `import threading

${pyBurn('burn_in_thread')}
if __name__ == '__main__':
    t = threading.Thread(target=burn_in_thread, args=(3000000,))
    t.start()
    t.join()
`;

// A program with a profiler of its own: SIGPROF and ITIMER_PROF are its, as without procscope.
const PY_OWN_SIGPROF = `import signal

count = 0

def mine(signum, frame):
    global count
    count += 1

${pyBurn('burn_cpu')}
if __name__ == '__main__':
    # SIGPROF's default kills the process: only safe if no timer of procscope's runs any more.
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    burn_cpu(300000)
    signal.signal(signal.SIGPROF, mine)
    signal.setitimer(signal.ITIMER_PROF, 0.005, 0.005)
    burn_cpu(3000000)
    signal.setitimer(signal.ITIMER_PROF, 0)
    print('own handler ran', count > 0, signal.getsignal(signal.SIGPROF) is mine)
`;

// An exec keeps interval timers: the program it runs must not inherit procscope's.
const PY_EXEC = `import os
import sys

${pyBurn('burn')}
if __name__ == '__main__':
    print(burn(1500000))
    sys.stdout.flush()
    os.execv('/bin/sh', ['/bin/sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo exec ran'])
`;

// An exec that fails leaves the process as it was: sampling on SIGPROF again.
const PY_EXEC_FAILS = `import os
import signal

armed = lambda: signal.getitimer(signal.ITIMER_PROF)[0] > 0
before = armed()
try:
    os.execv('/nonexistent/procscope-test', ['nothing'])
except OSError:
    pass
print('timer before', before, 'after', armed())
`;

describe(`profiler and wait sites, Python (${python})`, () => {
  it('a function that burns the CPU tops its process and the merged Pool profile', async () => {
    const file = scenarioFile(PY_BURN, 'burn.py');
    const r = await runPy(file, { profile: { hz: HZ } });
    expect(r.summary.end.exitcode).toBe(0);
    expect(r.logged[0]).toMatchObject({ type: 'run', profile: { hz: HZ } });
    const data = profileOf(r);
    expect(hottest(data, [r.root]), 'the main process burns in burn_cpu').toBe('burn_cpu');
    const workers = r.processes().filter((p) => p.pid !== r.root && p.name.startsWith('ForkPoolWorker'));
    expect(workers.length).toBe(3);
    const groups = processGroups(r.processes(), data);
    const pool = groups.find((g) => g.pids.some((pid) => workers.some((w) => w.pid === pid)));
    expect(pool, 'the Pool workers are one group').toBeDefined();
    expect(pool?.pids.length).toBe(3);
    expect(pool?.entry).toBe('task');
    expect(hottest(data, pool?.pids ?? []), 'the merged Pool burns in burn_cpu').toBe('burn_cpu');
    // procscope's own frames never appear.
    expect(data.frames.filter((f) => f[1].includes('procscope_shim') || f[1].endsWith('sitecustomize.py'))).toEqual([]);
    // Its speedscope export opens in speedscope: valid by the published schema.
    const out = path.join(path.dirname(file), 'burn.speedscope.json');
    await exportSpeedscope(r.session.info.logPath, out, undefined, 'procscope@test');
    const validate = new Ajv().compile(JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/speedscope/file-format-schema.json'), 'utf8')) as object);
    expect(validate(JSON.parse(fs.readFileSync(out, 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('a thread that computes while the main thread waits is sampled', async () => {
    const r = await runPy(scenarioFile(PY_THREAD_BURN, 'thread_burn.py'), { profile: { hz: HZ } });
    expect(r.summary.end.exitcode).toBe(0);
    expect(hottest(profileOf(r), [r.root])).toBe('burn_in_thread');
  });

  it("a program's own SIGPROF handler and timer are its own, and the profile is still taken", async () => {
    const r = await runPy(scenarioFile(PY_OWN_SIGPROF, 'own_sigprof.py'), { profile: { hz: HZ } });
    expect(r.summary.end.exitcode).toBe(0);
    expect(r.stdout(r.root)).toContain('own handler ran True True');
    expect(hottest(profileOf(r), [r.root])).toBe('burn_cpu');
  });

  it('a process that execs another program: the program runs to its end, and the samples before the exec are kept', async () => {
    const r = await runPy(scenarioFile(PY_EXEC, 'exec_sh.py'), { profile: { hz: HZ } });
    expect(r.summary.end.exitcode, 'the shell did not die of SIGPROF').toBe(0);
    expect(r.stdout(r.root)).toContain('exec ran');
    expect(hottest(profileOf(r), [r.root])).toBe('burn');
  });

  it('an exec that fails: the main thread samples on SIGPROF again', async () => {
    const r = await runPy(scenarioFile(PY_EXEC_FAILS, 'exec_fails.py'), { profile: { hz: HZ } });
    expect(r.summary.end.exitcode).toBe(0);
    expect(r.stdout(r.root)).toContain('timer before True after True');
  });

  it("a stuck consumer's wait names the line of its q.get()", async () => {
    const file = scenarioFile(PY_STUCK, 'stuck.py');
    const r = await runPy(file, {
      during: async (s, events) => {
        await waitsBegun(s, events, 1, 'get');
        await s.stop();
      },
    });
    const get = waitRows(r).find((w) => w.kind === 'get');
    expect(get?.site).toMatchObject({ file: fs.realpathSync(file), line: lineOf(PY_STUCK, 'q.get()'), func: 'consumer' });
    expect(get?.open, 'it never ended').toBe(1);
    const join = waitRows(r).find((w) => w.kind === 'join');
    expect(join?.site.line).toBe(lineOf(PY_STUCK, 'p.join()'));
  });

  it('a lock contention names both acquiring lines', async () => {
    const file = scenarioFile(PY_LOCKS, 'locks.py');
    const lines = await contendedLines(file, (during) => runPy(file, { during }));
    expect(lines).toEqual([
      ['first', lineOf(PY_LOCKS, 'lock.acquire()')],
      ['second', lineOf(PY_LOCKS, 'with lock:')],
    ]);
  });
});

describe('procscope run --profile (the CLI)', () => {
  it('prints the top functions per group, then where processes waited; export --format speedscope writes the file', async () => {
    const file = scenarioFile(PY_BURN, 'burn.py');
    const log = path.join(path.dirname(file), 'burn.jsonl');
    const bin = path.join(packageRoot(), 'bin', 'procscope.mjs');
    const run = await execFileAsync(process.execPath, [bin, 'run', file, '--python', python, '--profile', '--hz', String(HZ), '--log', log], { cwd: path.dirname(file) });
    const out = run.stdout;
    expect(out).toMatch(/top functions on the CPU \(\d+ samples at 250 Hz\)/);
    expect(out, 'the Pool, merged').toMatch(/ForkPoolWorker × 3 \(task\), merged/);
    // Each section's first function: burn_cpu, named with its file and line.
    for (const section of out.split(/\n  (?=\S)/).filter((s) => /on the CPU$/m.test(s.split('\n')[0]))) {
      expect(section.split('\n')[2], section).toMatch(/burn_cpu\s+burn\.py:\d+/);
    }
    const exported = await execFileAsync(process.execPath, [bin, 'export', log, '--format', 'speedscope']);
    expect(exported.stdout).toMatch(/wrote .*burn\.speedscope\.json \(\d+ profiles\)/);
    const refused = await execFileAsync(process.execPath, [bin, 'run', file, '--hz', '50']).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr.trim()).toBe('procscope: --hz sets the rate of --profile: add --profile (see procscope --help)');
  });
});

// ---- TypeScript -----------------------------------------------------------------------------------

const TS_BURN = `import { Pool } from 'procscope';

export function burnCpu(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i * i) % 1000003;
  return x;
}

export function task(i: number): number {
  return burnCpu(6_000_000) + i;
}

export default async function main() {
  const pool = new Pool(3);
  console.log((await pool.map(task, Array.from({ length: 12 }, (_, i) => i), 1)).length);
  await pool.close();
  await pool.join();
  console.log(burnCpu(30_000_000));
}
`;

const TS_STUCK = `import { Process, Queue } from 'procscope';

export async function consumer(q: Queue<number>) {
  const item = await q.get();
  console.log('never', item);
}

export default async function main() {
  const q = new Queue<number>();
  const p = new Process({ target: consumer, args: [q] });
  p.start();
  await p.join();
}
`;

const TS_LOCKS = `import fs from 'node:fs';
import { Lock, Process } from 'procscope';

export async function first(lock: Lock) {
  await lock.acquire();
  lock.release();
}

export async function second(lock: Lock) {
  await lock.with(async () => {});
}

export default async function main() {
  const lock = new Lock();
  await lock.acquire();
  const a = new Process({ target: first, args: [lock] });
  const b = new Process({ target: second, args: [lock] });
  a.start();
  b.start();
  while (!fs.existsSync('release')) await new Promise((r) => setTimeout(r, 10));
  lock.release();
  await a.join();
  await b.join();
}
`;

describe('profiler and wait sites, TypeScript', () => {
  it('a function that burns the CPU tops its process and the merged Pool profile', async () => {
    const file = scenarioFile(TS_BURN, 'burn.ts');
    const r = await run(file, { profile: { hz: HZ } });
    expect(r.summary.end.exitcode).toBe(0);
    const data = profileOf(r);
    expect(hottest(data, [r.root])).toBe('burnCpu');
    const groups = processGroups(r.processes(), data);
    const pool = groups.find((g) => g.stem === 'SpawnPoolWorker');
    expect(pool?.pids.length).toBe(3);
    expect(hottest(data, pool?.pids ?? [])).toBe('burnCpu');
    // Frames name the file the program wrote, and none is procscope's runtime.
    const burn = data.frames.find((f) => f[0] === 'burnCpu');
    expect(burn?.[1]).toBe(fs.realpathSync(file));
    expect(burn?.[2]).toBe(lineOf(TS_BURN, 'export function burnCpu'));
    expect(data.frames.filter((f) => /out\/runtime\//.test(f[1]))).toEqual([]);
  });

  it("a stuck consumer's wait names the line of its q.get()", async () => {
    const file = scenarioFile(TS_STUCK, 'stuck.ts');
    const r = await run(file, {
      during: async (s, events) => {
        await waitsBegun(s, events, 1, 'get');
        await s.stop();
      },
    });
    const get = waitRows(r).find((w) => w.kind === 'get');
    expect(get?.site).toMatchObject({ file: fs.realpathSync(file), line: lineOf(TS_STUCK, 'q.get()'), func: 'consumer' });
    expect(get?.open).toBe(1);
  });

  it('a lock contention names both acquiring lines', async () => {
    const file = scenarioFile(TS_LOCKS, 'locks.ts');
    const lines = await contendedLines(file, (during) => run(file, { during }));
    expect(lines).toEqual([
      ['first', lineOf(TS_LOCKS, 'await lock.acquire();')],
      ['second', lineOf(TS_LOCKS, 'lock.with(')],
    ]);
  });
});
