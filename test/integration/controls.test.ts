// The window's controls call the real Process members in the real parent: results are Python's.

import { describe, expect, it } from 'vitest';
import type { CreatedEvent, ProcessEvent } from '../../src-main/api.ts';
import { ControlError } from '../../src-main/core/session.ts';
import { run, scenarioFile, waitFor } from '../helpers/run.ts';

const interactiveScenario = scenarioFile(`
import { Process, interactive } from 'procscope';
export async function foo(x: number) {
  console.log('ready', x);
  await new Promise((r) => setTimeout(r, 60_000));
}
export default async function main() {
  console.log('interactive', interactive());
  const p = new Process({ name: 'demo', target: foo, args: [1] });
  await p.waitClosed();
  console.log('closed by the window');
}
`);

describe('controls from the window', () => {
  it('start, close while running, terminate, join and close give the answers Python gives', async () => {
    const answers: string[] = [];
    const r = await run(interactiveScenario, {
      interactive: true,
      during: async (s, events) => {
        const created = await waitFor(s, events, (e): e is CreatedEvent => e.type === 'created');
        expect(created.name).toBe('demo');
        const target = { handle: created.handle };
        const started = await s.control('start', target);
        answers.push(`start ${started.text}`);
        await waitFor(s, events, (e) => e.type === 'output' && e.text === 'ready 1');
        const closeEarly = await s.control('close', target);
        answers.push(`close ${closeEarly.ok} ${closeEarly.text}`);
        answers.push(`terminate ${(await s.control('terminate', target)).text}`);
        const joined = await s.control('join', target);
        answers.push(`join ${joined.text} ${joined.exitcode}`);
        answers.push(`close ${(await s.control('close', target)).text}`);
      },
    });
    expect(answers).toEqual([
      'start None',
      'close false ValueError: Cannot close a process while it is still running. You should first call join() or terminate().',
      'terminate None',
      'join None -15',
      'close None',
    ]);
    expect(r.stdout(r.root)).toEqual(['interactive true', 'closed by the window']);
    const kinds = r.logged.map((e) => e.type);
    expect(kinds).toContain('created');
    expect(kinds).toContain('closed');
    const proc = r.logged.find((e): e is ProcessEvent => e.type === 'process' && e.name === 'demo');
    expect(proc?.handle).toBeDefined();
    expect(r.exits().get(proc!.pid)).toBe(-15);
    expect(r.summary.end.reason).toBe('finished');
  });

  it('kill through the window gives -9; the main process can only be signalled', async () => {
    let killed: number | null = null;
    let mainStart = '';
    let unknown: unknown = null;
    await run(interactiveScenario, {
      interactive: true,
      during: async (s, events) => {
        const created = await waitFor(s, events, (e): e is CreatedEvent => e.type === 'created');
        const target = { handle: created.handle };
        await s.control('start', target);
        await waitFor(s, events, (e) => e.type === 'output' && e.text === 'ready 1');
        await s.control('kill', target);
        killed = (await s.control('join', target)).exitcode ?? null;
        mainStart = (await s.control('start', { pid: s.rootProcessPid })).text;
        try {
          await s.control('kill', { pid: 1 });
        } catch (err) {
          unknown = err;
        }
        await s.control('close', target);
      },
    });
    expect(killed).toBe(-9);
    expect(mainStart).toMatch(/not a Process object/);
    expect(unknown).toBeInstanceOf(ControlError);
  });
});
