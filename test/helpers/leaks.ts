// Proves a run left nothing behind: no process the run log names is still alive once it ended.

import fs from 'node:fs';
import { afterEach, expect } from 'vitest';
import type { RunResult } from './run.ts';

/** Alive means: the pid exists and is not a zombie (a zombie has exited; only its entry remains). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Pids of the run's processes that outlived it (the run has ended, so this must be empty). */
export function survivors(r: RunResult): number[] {
  return r.processes()
    .map((p) => p.pid)
    .filter(alive);
}

/**
 * Wraps `start` (usually helpers/run.ts's `run`) so that after each test every run it ended is
 * checked for survivors. Call it at a test file's top level: it registers the afterEach hook.
 */
export function leavingNoSurvivors<A extends unknown[]>(
  start: (...args: A) => Promise<RunResult>,
): (...args: A) => Promise<RunResult> {
  const ended: RunResult[] = [];
  afterEach(() => {
    for (const r of ended.splice(0)) expect(survivors(r), 'processes still alive after the run ended').toEqual([]);
  });
  return async (...args) => {
    const r = await start(...args);
    ended.push(r);
    return r;
  };
}
