// Stop ends every descendant of the run, whatever its group: children that called setsid() or
// were spawned `detached`, and the `sleep`s they started, holding the main process's stdout and
// stderr. `procscope run --timeout` says how each listed one ended (its exit code observed) and
// returns right after its summary: it never waits on pipes a descendant inherited.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ExitEvent, ProcessEvent, RunEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { alive } from '../helpers/leaks.ts';
import { python } from '../helpers/python.ts';
import { scenarioFile } from '../helpers/run.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-stop-descendants-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every pid a test saw: whatever a failing test left is killed after it. */
const seen = new Set<number>();
afterEach(() => {
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  seen.clear();
});

/**
 * Main and its child each write `<own pid> <sleep pid>` to the file named by the first argument:
 * the child left the run's group (setsid, or spawned detached), each sleep did too and holds
 * stdout and stderr.
 */
const PROGRAMS = {
  python: scenarioFile(
    `import multiprocessing as mp, os, subprocess, sys, time

def child(path):
    os.setsid()
    s = subprocess.Popen(['sleep', '1000'])
    with open(path, 'a') as f:
        f.write('%d %d\\n' % (os.getpid(), s.pid))
    time.sleep(1000)

if __name__ == '__main__':
    path = sys.argv[1]
    p = mp.Process(target=child, args=(path,))
    p.start()
    s = subprocess.Popen(['sleep', '1000'], start_new_session=True)
    with open(path, 'a') as f:
        f.write('%d %d\\n' % (os.getpid(), s.pid))
    p.join()
`,
    'leavers.py',
  ),
  typescript: scenarioFile(`
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Process } from 'procscope';

const forever = (): Promise<void> => new Promise(() => setInterval(() => undefined, 1 << 30));

export async function child(file: string): Promise<void> {
  const s = spawn('sleep', ['1000'], { detached: true, stdio: 'inherit' });
  fs.appendFileSync(file, \`\${process.pid} \${s.pid}\\n\`);
  await forever();
}

export default async function main(): Promise<void> {
  const file = process.argv[2];
  new Process({ target: child, args: [file] }).start();
  const s = spawn('sleep', ['1000'], { detached: true, stdio: 'inherit' });
  fs.appendFileSync(file, \`\${process.pid} \${s.pid}\\n\`);
  await forever();
}
`),
};

describe('stop ends every descendant of the run, whatever its group', () => {
  for (const runtime of ['python', 'typescript'] as const) {
    it(`${runtime}: --timeout ends main, a child that left the group and their sleeps; the CLI returns at once`, async () => {
      const pidsFile = path.join(dir, `${runtime}.pids`);
      const log = path.join(dir, `${runtime}.jsonl`);
      const monitor = spawn(
        process.execPath,
        [BIN, 'run', PROGRAMS[runtime], '--timeout', '3', '--log', log, ...(runtime === 'python' ? ['--python', python] : []), '--', pidsFile],
        { env: { ...process.env, PROCSCOPE_HOME: path.join(dir, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      monitor.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      monitor.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      // 'exit', not 'close': the monitor's own pipes to us are not what is tested.
      const code = await new Promise<number | null>((resolve) => monitor.once('exit', (c) => resolve(c)));
      const pids = fs.existsSync(pidsFile) ? fs.readFileSync(pidsFile, 'utf8').trim().split(/\s+/).map(Number) : [];
      for (const p of pids) seen.add(p);

      expect(code, `the CLI says the run timed out (stdout: ${stdout}, stderr: ${stderr})`).toBe(1);
      expect(stderr).toContain('procscope: run timeout: stopped after --timeout 3 s');
      expect(pids, 'main, child and two sleeps wrote their pids').toHaveLength(4);
      expect(pids.filter(alive), 'alive once the CLI returned').toEqual([]);

      const events = parseRunLogText(fs.readFileSync(log, 'utf8')).events;
      const listed = events.filter((e): e is ProcessEvent => e.type === 'process');
      const exits = new Map(events.filter((e): e is ExitEvent => e.type === 'exit').map((e) => [e.pid, e.exitcode]));
      const [mainPid, , childPid] = pids;
      expect(listed.map((p) => p.pid).sort()).toEqual([mainPid, childPid].sort());
      expect(exits.get(childPid), 'the child that left the group: ended by SIGTERM, and seen to').toBe(-15);
      expect(exits.get(mainPid)).toBe(-15);
      expect(events.at(-1)).toMatchObject({ type: 'end', reason: 'timeout' } satisfies Partial<RunEvent>);
    });
  }
});
