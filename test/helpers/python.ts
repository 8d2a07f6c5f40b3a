// What the Python-mode tests share: the interpreter they run, a run that kills its whole process
// group after the test (a failing test may leave Python processes behind), and log lookups.

import { afterEach, expect } from 'vitest';
import type { DeadlockEdge, DeadlockEvent, ProcessEvent, RunEvent } from '../../src-main/api.ts';
import { killGroupSync } from '../../src-main/core/process-group.ts';
import { run, waitFor, type RunResult } from './run.ts';

/** The interpreter under test: PROCSCOPE_TEST_PYTHON, else python3 on PATH. */
export const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';

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

/** Runs a Python file under a real session; its process group is killed after the test. */
export function runPy(file: string, opts: Parameters<typeof run>[1] = {}): Promise<RunResult> {
  return run(file, {
    python,
    ...opts,
    during: async (s, events) => {
      roots.push(s.rootProcessPid);
      await opts.during?.(s, events);
    },
  });
}

/** Every process but the main one. */
export const children = (r: RunResult): ProcessEvent[] => r.processes().filter((p) => p.pid !== r.root);

/** The logged events of one type. */
export const ofType = <T extends RunEvent['type']>(r: RunResult, type: T) => r.logged.filter((e) => e.type === type) as Extract<RunEvent, { type: T }>[];

/**
 * Each hold of `lock` in the log, from its acquire to its release (Infinity if never released),
 * in the order taken. Throws at a release by a process that holds nothing: a lost acquire.
 */
export function holdsOf(r: RunResult, lock: string): { pid: number; from: number; to: number }[] {
  const holds: { pid: number; from: number; to: number }[] = [];
  for (const e of ofType(r, 'lock')) {
    if (e.lock !== lock) continue;
    if (e.op === 'acquire') holds.push({ pid: e.pid, from: e.t, to: Infinity });
    if (e.op === 'release') {
      const h = holds.findLast((x) => x.pid === e.pid && x.to === Infinity);
      if (!h) throw new Error(`pid ${e.pid} released ${lock}, which it did not hold`);
      h.to = e.t;
    }
  }
  return holds.sort((a, b) => a.from - b.from);
}

/** Fails the test if two holds of one lock overlap in the log. */
export function expectOneHolderAtATime(holds: readonly { from: number; to: number }[]): void {
  for (let i = 1; i < holds.length; i++) expect(holds[i].from, 'holds never overlap').toBeGreaterThanOrEqual(holds[i - 1].to);
}

/** Runs `file` until procscope reports a deadlock, then stops it: the run and that cycle. */
export async function runUntilDeadlock(file: string): Promise<{ r: RunResult; cycle: DeadlockEdge[] }> {
  let cycle: DeadlockEdge[] = [];
  const r = await runPy(file, {
    during: async (s, events) => {
      cycle = (await waitFor(s, events, (e): e is DeadlockEvent => e.type === 'deadlock')).cycle;
      await s.stop();
    },
  });
  return { r, cycle };
}

/** Two processes, each holding one of two locks and waiting for the other's. */
export function expectTwoWayDeadlock(cycle: readonly DeadlockEdge[], pids: readonly number[]): void {
  const sorted = [...pids].sort();
  expect(sorted).toHaveLength(2);
  expect(cycle).toHaveLength(2);
  expect(cycle.map((e) => e.pid).sort()).toEqual(sorted);
  expect(cycle.map((e) => e.holder).sort()).toEqual(sorted);
  expect(new Set(cycle.map((e) => e.lock)).size).toBe(2);
}
