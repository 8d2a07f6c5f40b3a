// A child's last reading when its parent reaps it before the monitor reads its `bye`: the kernel
// has nothing left of it, so its own word on what it used (CPU time, peak memory) is its last
// sample. The monitor is frozen (SIGSTOP) while the child burns CPU, exits and is joined.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, SampleEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { python } from '../helpers/python.ts';
import { scenarioFile } from '../helpers/run.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-last-reading-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The child waits for a `go` file, burns 0.5 s of CPU and exits; main joins it and says so in a file. */
const PROGRAMS = {
  python: scenarioFile(
    `import multiprocessing as mp, os, sys, time

def burn(flag):
    while not os.path.exists(flag):
        time.sleep(0.01)
    t = time.process_time()
    while time.process_time() - t < 0.5:
        pass

if __name__ == '__main__':
    d = sys.argv[1]
    p = mp.Process(target=burn, args=(os.path.join(d, 'go'),))
    p.start()
    print('started', flush=True)
    p.join()
    open(os.path.join(d, 'joined'), 'w').close()
`,
    'burn.py',
  ),
  typescript: scenarioFile(`
import fs from 'node:fs';
import path from 'node:path';
import { Process } from 'procscope';

export async function burn(flag: string): Promise<void> {
  while (!fs.existsSync(flag)) await new Promise((r) => setTimeout(r, 10));
  const t = process.cpuUsage();
  for (;;) {
    const u = process.cpuUsage(t);
    if (u.user + u.system >= 500_000) break;
  }
}

export default async function main(): Promise<void> {
  const d = process.argv[2];
  const p = new Process({ target: burn, args: [path.join(d, 'go')] });
  p.start();
  console.log('started');
  await p.join();
  fs.writeFileSync(path.join(d, 'joined'), '');
}
`),
};

describe("a child reaped before the monitor reads its bye keeps its last reading", () => {
  for (const runtime of ['python', 'typescript'] as const) {
    it(`${runtime}: its last sample has the CPU time it used`, async () => {
      const work = fs.mkdtempSync(path.join(dir, `${runtime}-`));
      const log = path.join(work, 'run.jsonl');
      const monitor = spawn(process.execPath, [BIN, 'run', PROGRAMS[runtime], '--json', '--log', log, ...(runtime === 'python' ? ['--python', python] : []), '--', work], {
        env: { ...process.env, PROCSCOPE_HOME: path.join(dir, 'home'), PROCSCOPE_STALL_SECONDS: '60' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => monitor.once('exit', (code) => resolve(code)));
      let stderr = '';
      monitor.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      // Listed, and main has started it: from here the child runs on its own.
      const child = await new Promise<number>((resolve, reject) => {
        let buffered = '';
        let listed = 0;
        let started = false;
        monitor.stdout.setEncoding('utf8').on('data', (s: string) => {
          buffered += s;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            const e = JSON.parse(line) as RunEvent;
            if (e.type === 'process' && e.name !== 'MainProcess') listed = e.pid;
            if (e.type === 'output' && e.text === 'started') started = true;
          }
          if (listed && started) resolve(listed);
        });
        monitor.once('exit', () => reject(new Error(`the monitor ended first: ${stderr}`)));
      });
      monitor.kill('SIGSTOP');
      try {
        fs.writeFileSync(path.join(work, 'go'), '');
        // Polled: the program says it joined the child in a file (the monitor is frozen).
        for (const deadline = performance.now() + 30_000; !fs.existsSync(path.join(work, 'joined')) && performance.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(fs.existsSync(path.join(work, 'joined')), 'main joined the child while the monitor was frozen').toBe(true);
      } finally {
        monitor.kill('SIGCONT');
      }
      expect(await exited, stderr).toBe(0);
      const events = parseRunLogText(fs.readFileSync(log, 'utf8')).events;
      const samples = events.filter((e): e is SampleEvent => e.type === 'sample' && e.pid === child);
      const last = samples[samples.length - 1];
      expect(last?.cpuTime, `the child's samples: ${JSON.stringify(samples)}`).toBeGreaterThanOrEqual(0.45);
      const exit = events.findIndex((e) => e.type === 'exit' && e.pid === child);
      expect(events.indexOf(last), 'its last sample comes before its exit').toBeLessThan(exit);
    });
  }
});
