import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { python } from '../helpers/python.ts';
import { run, scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';

// A child's output travels on its own connection, its exit code on its parent's: the log must
// still never show a line after the exit of the process that printed it.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Pids that have an output event after their own exit event. */
function linesAfterExit(r: RunResult): string[] {
  const exited = new Set<number>();
  const late: string[] = [];
  for (const e of r.logged) {
    if (e.type === 'exit') exited.add(e.pid);
    else if (e.type === 'output' && exited.has(e.pid)) late.push(`${e.pid}: ${e.text}`);
  }
  return late;
}

describe('exit after output', () => {
  it('Python: children that print up to their last instant have every line logged before their exit', async () => {
    const file = scenarioFile(
      [
        'import multiprocessing as mp',
        '',
        'def talk(i):',
        '    for n in range(200):',
        "        print('child', i, 'line', n)",
        '',
        "if __name__ == '__main__':",
        "    for method in ('fork', 'spawn'):",
        '        ctx = mp.get_context(method)',
        '        ps = [ctx.Process(target=talk, args=(i,)) for i in range(4)]',
        '        for p in ps:',
        '            p.start()',
        '        for p in ps:',
        '            p.join()',
        "        print(method, [p.exitcode for p in ps])",
        '',
      ].join('\n'),
      'talk.py',
    );
    const r = await run(file, { python });
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['fork [0, 0, 0, 0]', 'spawn [0, 0, 0, 0]']);
    const kids = r.processes().filter((p) => p.pid !== r.root);
    expect(kids).toHaveLength(8);
    for (const k of kids) expect(r.stdout(k.pid), `child ${k.pid}`).toHaveLength(200);
    expect(linesAfterExit(r)).toEqual([]);
  });

  it('TypeScript: the same for scenario children', async () => {
    const file = scenarioFile(`
import { Process } from 'procscope';

export function talk(i: number): void {
  for (let n = 0; n < 200; n++) console.log('child', i, 'line', n);
}

export default async function main(): Promise<void> {
  const ps = [0, 1, 2, 3].map((i) => new Process({ target: talk, args: [i] }));
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  console.log(ps.map((p) => p.exitcode).join(' '));
}
`);
    const r = await run(file);
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    expect(r.stdout(r.root)).toEqual(['0 0 0 0']);
    const kids = r.processes().filter((p) => p.pid !== r.root);
    expect(kids, 'the four children').toHaveLength(4);
    for (const k of kids) expect(r.stdout(k.pid), `child ${k.pid}`).toHaveLength(200);
    expect(linesAfterExit(r)).toEqual([]);
  });
});
