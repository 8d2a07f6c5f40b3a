// ProcReader (/proc, what the Sampler reads on Linux) on processes that have only just exec'd:
// their resident size often reads 0 then (the kernel has not summed its per-CPU counts yet), and
// they must still be read as the live processes they are, not left out as ending ones, with the
// size the kernel finds when it walks their pages (a sample never shows a memory of 0).

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcStat } from '../../src-main/core/process-group.ts';
import { ProcReader } from '../../src-main/core/proc-reader.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe.runIf(process.platform === 'linux')('ProcReader', () => {
  it("reads every process that has just exec'd, whatever its resident size reads", async () => {
    const reader = new ProcReader();
    const missed: number[] = [];
    // About one read in ten found a resident size of 0 here: 90 fresh processes all but surely meet it.
    for (let round = 0; round < 30; round++) {
      const batch = [0, 1, 2].map(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
      children.push(...batch);
      await Promise.all(batch.map((c) => once(c, 'spawn')));
      const pids = batch.map((c) => c.pid as number);
      const samples = reader.read(pids, true).samples;
      expect(samples.every((s) => s.rss > 0), 'no sample shows a memory it never had').toBe(true);
      const read = new Set(samples.map((s) => s.pid));
      missed.push(...pids.filter((pid) => !read.has(pid)));
      for (const c of batch) c.kill('SIGKILL');
      await Promise.all(batch.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : null)));
    }
    expect(missed, 'live processes left out of a reading').toEqual([]);
  });

  it('parses the flags field, where PF_EXITING says a process is ending', () => {
    const line = '42 (a) b) R 1 42 42 0 -1 4194308 45 0 0 0 0 0 0 0 20 0 1 0 3347904 1024 7 18446744073709551615';
    expect(parseProcStat(line)).toMatchObject({ pid: 42, comm: 'a) b', state: 'R', flags: 4194308, rssPages: 7 });
  });
});
