import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { OutputEvent, RunEvent } from '../../src-main/api.ts';
import { isAlive, killGroupSync, pidsInGroup } from '../../src-main/core/process-group.ts';
import type { Session } from '../../src-main/core/session.ts';
import { run, scenarioFile, tmpRoot, type RunResult } from '../helpers/run.ts';

// However a run ends (stopped, timed out, or its processes orphaned), no process of it survives.

afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Roots of runs started here: if a test fails half-way, its process group is killed anyway. */
const roots: number[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) {
    try {
      killGroupSync(root);
    } catch {
      // already gone
    }
  }
});

/**
 * Resolves once `count` distinct processes printed `ready`; rejects if the run ends first,
 * so a broken scenario fails with a message instead of hanging until the test timeout.
 */
function readyFrom(session: Session, events: RunEvent[], count: number): Promise<number[]> {
  const ready = new Set<number>();
  const isReady = (e: RunEvent): e is OutputEvent => e.type === 'output' && e.stream === 'stdout' && e.text === 'ready';
  for (const e of events) if (isReady(e)) ready.add(e.pid);
  if (ready.size >= count) return Promise.resolve([...ready]);
  return new Promise((resolve, reject) => {
    const off = session.on((e) => {
      if (isReady(e)) ready.add(e.pid);
      if (ready.size >= count) {
        off();
        resolve([...ready]);
      } else if (e.type === 'end') {
        off();
        reject(new Error(`the run ended (${e.reason}) after only ${ready.size} of ${count} processes printed ready`));
      }
    });
  });
}

/** What is left of a run: its logged pids that can still run, and live members of its group. */
function survivors(r: RunResult): { pids: number[]; group: number[] } {
  return { pids: r.processes().map((p) => p.pid).filter(isAlive), group: pidsInGroup(r.root) };
}

const SLEEPERS = `
import { Process } from 'procscope';

export async function sleeper(): Promise<void> {
  console.log('ready');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

export default async function main(): Promise<void> {
  const ps: Process[] = [];
  for (let i = 0; i < COUNT; i++) {
    const p = new Process({ target: sleeper });
    p.start();
    ps.push(p);
  }
  for (const p of ps) await p.join();
}
`;

describe('stopping a run', () => {
  it('stop() ends main and its 20 sleeping children: none of the 21 is left alive, and the run ends stopped', async () => {
    const r = await run(scenarioFile(SLEEPERS.replace('COUNT', '20')), {
      during: async (session, events) => {
        roots.push(session.rootProcessPid);
        await readyFrom(session, events, 20);
        await session.stop();
      },
    });
    expect(r.processes(), 'main and 20 children were seen').toHaveLength(21);
    expect(survivors(r)).toEqual({ pids: [], group: [] });
    expect(r.summary.end.reason).toBe('stopped');
    const unended = r.processes().filter((p) => !r.exits().has(p.pid)).map((p) => p.pid);
    expect(unended, 'every process has an exit event').toEqual([]);
  });

  it('a run with a timeout ends with reason timeout and leaves nothing alive', async () => {
    // The children never end on their own: only the timeout can end this run.
    const r = await run(scenarioFile(SLEEPERS.replace('COUNT', '2')), {
      timeout: 1.5,
      during: (session) => void roots.push(session.rootProcessPid),
    });
    expect(r.summary.end.reason).toBe('timeout');
    expect(r.processes().length, 'main was seen').toBeGreaterThanOrEqual(1);
    expect(survivors(r)).toEqual({ pids: [], group: [] });
  });
});

describe('orphans', () => {
  it('a grandchild orphaned by a SIGKILLed child is still ended when the run ends', async () => {
    let orphanAliveAtChildExit: boolean | null = null;
    const r = await run(
      scenarioFile(`
import { Process, Queue, currentProcess } from 'procscope';

export async function grandchild(q: Queue<number>): Promise<void> {
  console.log('ready');
  await q.put(currentProcess().pid);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

export async function child(q: Queue<number>): Promise<void> {
  const g = new Process({ target: grandchild, args: [q] });
  g.start();
  await g.join();
}

export default async function main(): Promise<void> {
  const q = new Queue<number>();
  const p = new Process({ target: child, args: [q] });
  p.start();
  console.log('grandchild', await q.get());
  p.kill(); // the grandchild loses its parent
  await p.join();
  console.log('child exitcode', p.exitcode);
}
`),
      {
        during: (session) => {
          roots.push(session.rootProcessPid);
          // At the moment the child's exit is recorded, its orphan must still be running:
          // otherwise this test would not be about orphans at all.
          const pidOf = new Map<string, number>();
          session.on((e) => {
            if (e.type === 'process') pidOf.set(e.name, e.pid);
            if (e.type === 'exit' && e.pid === pidOf.get('Process-1') && orphanAliveAtChildExit === null) {
              const g = pidOf.get('Process-1:1');
              orphanAliveAtChildExit = g !== undefined && isAlive(g);
            }
          });
        },
      },
    );
    expect(r.summary.end.reason, r.stderr().join('\n')).toBe('finished');
    const child = r.processes().find((p) => p.name === 'Process-1');
    const grandchild = r.processes().find((p) => p.name === 'Process-1:1');
    if (!child || !grandchild) throw new Error(`expected Process-1 and Process-1:1, got ${r.processes().map((p) => p.name).join(', ')}`);
    expect(grandchild.ppid, 'Process-1:1 is a child of Process-1').toBe(child.pid);
    expect(r.stdout(r.root)).toEqual([`grandchild ${grandchild.pid}`, 'child exitcode -9']);
    expect(orphanAliveAtChildExit, 'the grandchild was alive, orphaned, when its parent died').toBe(true);
    expect(survivors(r)).toEqual({ pids: [], group: [] });
  });
});
