// Output written below the runtime (os.write, fs.writeSync on descriptor 1, a program a process
// runs) is its writer's, and is not lost, even without a final newline: every process shares
// the main's descriptors, and the kernel names the writer of each read (SO_PASSCRED). Two
// processes' half-lines written at once never mix.

import fs from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputEvent, ProcessEvent } from '../../src-main/api.ts';
import { leavingNoSurvivors } from '../helpers/leaks.ts';
import { python } from '../helpers/python.ts';
import { run as runScenario, scenarioFile, tmpRoot, waitFor, type RunResult } from '../helpers/run.ts';
import { goPath } from '../helpers/sync-log.ts';

const run = leavingNoSurvivors(runScenario);
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

// The child starts a line, the main starts one, the child has a shell write a whole line of
// its own, and each ends its own line: with one shared pipe this read "child main from sh...".
const PROGRAMS = {
  python: scenarioFile(
    [
      'import multiprocessing as mp, os, subprocess',
      '',
      'def child(first, second):',
      "    os.write(1, b'child ')",
      '    first.set()',
      '    second.wait()',
      "    subprocess.run(['sh', '-c', 'printf \"from sh\\\\n\"'])",
      "    os.write(1, b'tail')",
      '',
      "if __name__ == '__main__':",
      '    first, second = mp.Event(), mp.Event()',
      "    p = mp.Process(target=child, args=(first, second), name='writer')",
      '    p.start()',
      '    first.wait()',
      "    os.write(1, b'main ')",
      '    second.set()',
      '    p.join()',
      "    print('joined', flush=True)",
      "    os.write(1, b'line\\nmain tail')",
      '',
    ].join('\n'),
    'tails.py',
  ),
  typescript: scenarioFile(`
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Event, Process } from 'procscope';

export async function child(first: Event, second: Event): Promise<void> {
  fs.writeSync(1, 'child ');
  first.set();
  await second.wait();
  spawnSync('sh', ['-c', 'printf "from sh\\n"'], { stdio: 'inherit' });
  fs.writeSync(1, 'tail');
}

export default async function main(): Promise<void> {
  const first = new Event();
  const second = new Event();
  const p = new Process({ target: child, args: [first, second], name: 'writer' });
  p.start();
  await first.wait();
  fs.writeSync(1, 'main ');
  second.set();
  await p.join();
  console.log('joined');
  fs.writeSync(1, 'line\\nmain tail');
}
`),
};

const stdout = (r: RunResult) => r.logged.filter((e): e is OutputEvent => e.type === 'output' && e.stream === 'stdout');

describe('output below the runtime', () => {
  for (const runtime of ['python', 'typescript'] as const) {
    it(`${runtime}: each line is its writer's (a program a process runs writes for it), none mixed, none lost`, async () => {
      const r = await run(PROGRAMS[runtime], runtime === 'python' ? { python } : {});
      expect(r.summary.end.reason).toBe('finished');
      const processes = r.logged.filter((e): e is ProcessEvent => e.type === 'process');
      const main = processes.find((e) => e.name === 'MainProcess')?.pid;
      const writer = processes.find((e) => e.name === 'writer')?.pid;
      expect(main).toBeDefined();
      expect(writer).toBeDefined();
      const lines = stdout(r).map((e) => [e.pid === main ? 'main' : e.pid === writer ? 'writer' : String(e.pid), e.text]);
      expect(lines).toEqual(
        expect.arrayContaining([['main', 'joined'], ['main', 'main line'], ['main', 'main tail'], ['writer', 'from sh'], ['writer', 'child tail']]),
      );
      expect(lines).toHaveLength(5);
      // A process's last words come before its exit; the main's before the run's end.
      const at = (pid: number | undefined, text: string) => r.logged.findIndex((e) => e.type === 'output' && e.pid === pid && e.text === text);
      expect(at(writer, 'child tail')).toBeLessThan(r.logged.findIndex((e) => e.type === 'exit' && e.pid === writer));
      expect(at(main, 'main tail')).toBeLessThan(r.logged.findIndex((e) => e.type === 'end'));
    });
  }

  it("python: a pipe the program gives its own child stays the program's (what it captures is not taken)", async () => {
    const file = scenarioFile(
      [
        'import subprocess, sys',
        '',
        "if __name__ == '__main__':",
        "    out = subprocess.run([sys.executable, '-c', 'import os; os.write(1, b\"captured\")'], capture_output=True).stdout",
        "    print('got', out.decode(), flush=True)",
        '',
      ].join('\n'),
      'captures.py',
    );
    const r = await run(file, { python });
    expect(r.summary.end.reason).toBe('finished');
    expect(stdout(r).map((e) => e.text)).toEqual(['got captured']);
  });

  it("python: a process not of the run cannot write the run's output (its connection is closed unanswered)", async () => {
    const go = goPath();
    const file = scenarioFile(
      ['import os, time', '', `while not os.path.exists(${JSON.stringify(go)}):`, '    time.sleep(0.01)', "print('done', flush=True)", ''].join('\n'),
      'waits.py',
    );
    let answer: Buffer | null = null;
    const r = await run(file, {
      python,
      refusals: 'expected',
      during: async (s, events) => {
        await waitFor(s, events, (e) => e.type === 'process');
        const main = events.find((e): e is ProcessEvent => e.type === 'process')?.pid as number;
        // Listed as spawned, it may not have exec'd yet: its environ is then still its parent's.
        let where: string | undefined;
        while (where === undefined) {
          const env = fs.readFileSync(`/proc/${main}/environ`, 'utf8').split('\0');
          where = env.find((v) => v.startsWith('PROCSCOPE_OUTPUT='))?.slice('PROCSCOPE_OUTPUT='.length);
          if (where === undefined) await new Promise((resolve) => setImmediate(resolve));
        }
        // This test's own process is the monitor's, not a process of the run.
        answer = await new Promise<Buffer>((resolve) => {
          const chunks: Buffer[] = [];
          const c = net.connect(where, () => c.write('1forged line\n'));
          c.on('data', (b: Buffer) => chunks.push(b));
          c.on('error', () => {});
          c.on('close', () => resolve(Buffer.concat(chunks)));
        });
        fs.writeFileSync(go, '');
      },
    });
    expect(answer).toEqual(Buffer.alloc(0));
    expect(r.logged.some((e) => e.type === 'output' && e.text.includes('forged'))).toBe(false);
    expect(r.logged.some((e) => e.type === 'warning' && e.message.startsWith(`refused an output connection from pid ${process.pid}`))).toBe(true);
    expect(stdout(r).map((e) => e.text)).toEqual(['done']);
  });
});
