// The monitor stops reading (stopped with SIGSTOP, as Ctrl-Z on `procscope run` would): what does
// the program see? It goes on (after a short wait: a slow monitor still slows it down), its memory
// stays bounded, and once the monitor reads again the log says what was dropped meanwhile.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WarningEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { python } from '../helpers/python.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-monitor-stopped-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PAIRS = 1_500_000;
const PROGRAM = `
import multiprocessing as mp, os, resource, sys, time
ready, go, done, resumed = sys.argv[1:5]
lock = mp.Lock()
open(ready, 'w').close()
while not os.path.exists(go):
    time.sleep(0.01)
# ${PAIRS} acquire/release pairs: two records each, three times what the shim keeps unsent.
for _ in range(${PAIRS}):
    with lock:
        pass
for _ in range(20000):
    print('x' * 1000)  # 20 MB of output
with open(done, 'w') as f:
    f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))  # KiB on Linux
while not os.path.exists(resumed):
    time.sleep(0.01)
with lock:
    print('after')
`;

async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('python mode: the monitor stops reading', () => {
  it('the program goes on with bounded memory, and the log says what was dropped', async () => {
    const file = path.join(dir, 'busy.py');
    fs.writeFileSync(file, PROGRAM);
    const [ready, go, done, resumed, log] = ['ready', 'go', 'done', 'resumed', 'run.jsonl'].map((n) => path.join(dir, n));
    const monitor = spawn(process.execPath, [BIN, 'run', file, '--python', python, '--log', log, '--', ready, go, done, resumed], {
      env: { ...process.env, PROCSCOPE_HOME: path.join(dir, 'home'), PROCSCOPE_STALL_SECONDS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    monitor.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => monitor.once('exit', (code) => resolve(code)));
    try {
      await until('the program to start', 30_000, () => fs.existsSync(ready));
      monitor.kill('SIGSTOP');
      fs.writeFileSync(go, '');
      // With the monitor stopped the whole time, the program must finish its work.
      await until('the program to finish while the monitor is stopped', 60_000, () => fs.existsSync(done) && fs.statSync(done).size > 0);
      const maxRssMiB = Number(fs.readFileSync(done, 'utf8')) / 1024;
      // Kept unsent, the 3M records alone would take ~120 MiB and the output 20 MB more.
      expect(maxRssMiB, 'the program\'s peak memory, MiB').toBeLessThan(100);
      monitor.kill('SIGCONT');
      // The program sees the monitor read again on its own, and says what it dropped first.
      await until('the warning to reach the log', 30_000, () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('the monitor did not read from pid'));
    } catch (err) {
      // Killing the monitor ends its run (see monitor-killed.test.ts): nothing is left behind.
      monitor.kill('SIGCONT');
      monitor.kill('SIGKILL');
      throw err;
    }
    fs.writeFileSync(resumed, '');
    expect(await exited, stderr).toBe(0);
    const events = parseRunLogText(fs.readFileSync(log, 'utf8')).events;
    const root = events.find((e) => e.type === 'process')?.pid;
    // Told at once on the program's own stderr, which reached the log once the monitor read again.
    const told = events.filter((e) => e.type === 'output' && e.stream === 'stderr' && e.pid === root).map((e) => (e.type === 'output' ? e.text : ''));
    expect(told.filter((t) => /^procscope: the monitor has not read from pid \d+ for \d+ s: it goes on unreported until the monitor reads again$/.test(t)), told.join('\n')).toHaveLength(1);
    expect(events.some((e) => e.type === 'output' && e.text === 'after'), 'reports go out again once it reads').toBe(true);
    const warnings = events.filter((e): e is WarningEvent => e.type === 'warning');
    const said = warnings.find((w) => /the monitor did not read from pid \d+ for [\d.]+ s/.test(w.message));
    expect(said?.message, warnings.map((w) => w.message).join('\n')).toMatch(/the program went on, and [1-9]\d* lock and queue operations and \d+ other reports it made meanwhile were dropped/);
  });
});
