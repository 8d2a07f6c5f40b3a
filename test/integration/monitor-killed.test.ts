// The monitor (the CLI, in its own Node process) killed with SIGKILL: the run ends, and nothing of
// it is left behind, neither the processes of the runtime nor those it did not start itself (a
// `sleep` from child_process / subprocess), in the run's process group or in a session of their
// own. And a connection the monitor drops while it lives ends nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src-main/core/paths.ts';
import { FAMILY_TREE_PY, FAMILY_TREE_TS } from '../helpers/fixtures.ts';
import { alive } from '../helpers/leaks.ts';
import { python, runPy } from '../helpers/python.ts';
import { scenarioFile, waitFor } from '../helpers/run.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-monitor-killed-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every pid a test saw: whatever a failing test left is killed after it. */
const seen = new Set<number>();
const monitors = new Set<ChildProcess>();
afterEach(() => {
  for (const m of monitors) m.kill('SIGKILL');
  monitors.clear();
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  seen.clear();
});

/** Polls `cond` (kernel state: there is no event for processes we did not start) until `ms` pass. */
async function within(ms: number, cond: () => boolean): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (performance.now() > deadline) return cond();
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The pids the family wrote: main's line, then one line per child (child, its sleep, its grandchild). */
function family(file: string): number[][] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^\d+( \d+ \d+)?$/.test(l))
    .map((l) => l.split(' ').map(Number));
}

async function killMonitorOf(program: string, extra: string[]): Promise<{ pids: number[]; survivors: number[] }> {
  const pidsFile = path.join(dir, `${path.basename(program)}-${Date.now()}.pids`);
  const monitor = spawn(process.execPath, [BIN, 'run', program, ...extra, '--log', `${pidsFile}.jsonl`, '--', pidsFile], {
    cwd: dir,
    env: { ...process.env, PROCSCOPE_HOME: path.join(dir, 'home') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  monitors.add(monitor);
  let stderr = '';
  monitor.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const ready = await within(30_000, () => {
    const lines = family(pidsFile);
    for (const l of lines) for (const p of l) seen.add(p);
    return lines.length === 3;
  });
  expect(ready, `the family wrote its pids (monitor stderr: ${stderr})`).toBe(true);
  const pids = family(pidsFile).flat();
  expect(pids, 'main, two children, two sleeps, two grandchildren').toHaveLength(7);
  expect(pids.filter(alive), 'all alive before the monitor is killed').toEqual(pids);

  monitor.kill('SIGKILL');
  const gone = await within(3_000, () => pids.every((p) => !alive(p)));
  return { pids, survivors: gone ? [] : pids.filter(alive) };
}

describe('the monitor killed with SIGKILL ends the whole run', () => {
  it('a Python run: main, children (one in its own session), grandchildren and their subprocess sleeps', async () => {
    const { survivors } = await killMonitorOf(FAMILY_TREE_PY, ['--python', python]);
    expect(survivors, 'alive 3 s after the monitor was killed').toEqual([]);
  });

  it('a TypeScript run: main, children, grandchildren and spawned sleeps (one detached)', async () => {
    const { survivors } = await killMonitorOf(FAMILY_TREE_TS, []);
    expect(survivors, 'alive 3 s after the monitor was killed').toEqual([]);
  });
});

describe('a connection the monitor drops while it lives ends nothing', () => {
  it('Python: the process it dropped goes on unreported, and so does the rest of the run', async () => {
    const program = scenarioFile(
      [
        'import multiprocessing as mp, os, time',
        'from procscope_shim._client import client',
        '',
        'def sibling():',
        '    time.sleep(60)',
        '',
        "if __name__ == '__main__':",
        '    s = mp.Process(target=sibling)',
        '    s.start()',
        '    # A frame the broker cannot read (a length past any frame): it drops this connection.',
        '    with client.send_lock:',
        "        client.sock.sendall(b'\\xff\\xff\\xff\\xff\\x01')",
        '    # Once the shim has seen the connection close and decided, it forgets the monitor.',
        '    while client.path is not None:',
        '        time.sleep(0.01)',
        "    os.write(1, b'still here\\n')  # below the shim: the root's own stdout",
        '    time.sleep(60)',
        '',
      ].join('\n'),
      'dropped.py',
    );
    let pids: number[] = [];
    const r = await runPy(program, {
      during: async (session, events) => {
        const first = await waitFor(session, events, (e) => (e.type === 'output' && e.text === 'still here') || e.type === 'end');
        expect(first.type, 'the run went on after the drop').toBe('output');
        // The sibling introduces itself over its own connection, which may come after the main's
        // line (a forked child's first report is a few ms behind its parent).
        await waitFor(session, events, (e) => e.type === 'process' && e.pid !== session.rootProcessPid);
        pids = session.processes().map((p) => p.pid).filter((p): p is number => p !== null);
        expect(events.some((e) => e.type === 'warning' && e.message.includes('unreadable message: bad frame length')), 'the broker dropped it').toBe(true);
        expect(pids.filter(alive), 'main and its sibling both still run').toEqual(pids);
        await session.stop();
      },
    });
    expect(pids).toHaveLength(2);
    expect(r.summary.end.reason).toBe('stopped');
  });
});
