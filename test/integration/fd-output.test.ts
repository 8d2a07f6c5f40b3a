// Output written below the runtime (os.write, fs.writeSync on descriptor 1) is not lost, even
// without a final newline: the main process's, and a child's, whose descriptors are the main
// process's pipes (they are logged under the main process: see docs/run-log.md).

import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { python } from '../helpers/python.ts';
import { run as runScenario, scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';

const run = leavingNoSurvivors(runScenario);
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const PROGRAMS = {
  python: scenarioFile(
    [
      'import multiprocessing as mp, os, sys',
      '',
      'def child():',
      "    os.write(1, b'child tail')",
      '',
      "if __name__ == '__main__':",
      '    p = mp.Process(target=child)',
      '    p.start()',
      '    p.join()',
      "    print('joined', flush=True)",
      "    os.write(1, b'\\nmain tail')",
      '',
    ].join('\n'),
    'tails.py',
  ),
  typescript: scenarioFile(`
import fs from 'node:fs';
import { Process } from 'procscope';

export function child(): void {
  fs.writeSync(1, 'child tail');
}

export default async function main(): Promise<void> {
  const p = new Process({ target: child });
  p.start();
  await p.join();
  console.log('joined');
  fs.writeSync(1, '\\nmain tail');
}
`),
};

const fdLines = (r: RunResult) => r.logged.filter((e): e is OutputEvent => e.type === 'output' && e.stream === 'stdout').map((e) => e.text);

describe('output below the runtime', () => {
  for (const runtime of ['python', 'typescript'] as const) {
    it(`${runtime}: a child's and the main process's last writes without a newline are logged, before the run's end`, async () => {
      const r = await run(PROGRAMS[runtime], runtime === 'python' ? { python } : {});
      expect(r.summary.end.reason).toBe('finished');
      const lines = fdLines(r);
      expect(lines).toContain('joined');
      // The child's tail waits in the shared pipe for the next newline: the main's.
      expect(lines).toContain('child tail');
      expect(lines).toContain('main tail');
      const end = r.logged.findIndex((e) => e.type === 'end');
      expect(r.logged.findIndex((e) => e.type === 'output' && e.text === 'main tail')).toBeLessThan(end);
    });
  }
});
