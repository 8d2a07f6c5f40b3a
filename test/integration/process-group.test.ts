import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  groupMembers,
  isAlive,
  killGroup,
  killGroupSync,
  parseProcStat,
  pidsInGroup,
  readProcStat,
  signalPid,
} from '../../src-main/core/process-group.ts';

const linux = process.platform === 'linux';

// Real process groups: every leader is spawned detached (setsid), so its pgid is its pid.

const children: ChildProcess[] = [];
const groups: number[] = [];

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      killGroupSync(pgid);
    } catch {
      // already gone
    }
  }
  await Promise.all(
    children.splice(0).map(async (c) => {
      if (!hasExited(c)) c.kill('SIGKILL');
      await exited(c);
    }),
  );
});

const hasExited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

async function exited(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!hasExited(c)) await once(c, 'exit');
  return { code: c.exitCode, signal: c.signalCode };
}

type Started = ChildProcess & { pid: number };

async function start(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<Started> {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  children.push(c);
  await once(c, 'spawn');
  if (opts.detached) groups.push(c.pid!);
  return c as Started;
}

/** Starts a detached group leader and resolves once it printed `ready`. */
async function startGroup(cmd: string, args: string[]): Promise<Started> {
  const leader = await start(cmd, args, { detached: true });
  let out = '';
  leader.stdout!.setEncoding('utf8');
  for await (const chunk of leader.stdout!) {
    out += chunk;
    if (out.includes('ready')) break;
  }
  expect(out, 'leader printed ready').toContain('ready');
  return leader;
}

/** Polls kernel state (no event exists for it); fails with `what` after 10 s. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('parseProcStat', () => {
  const tail = '1 4242 4240 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123456 1000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';

  it('reads the fields after a comm with spaces and parentheses', () => {
    const stat = parseProcStat(`4242 (my (weird) name)) S ${tail}`);
    expect(stat).toEqual({
      pid: 4242,
      comm: 'my (weird) name)',
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      session: 4240,
      utime: 7,
      stime: 3,
      starttime: 123456,
      rssPages: 250,
      flags: 4194560,
    });
  });

  it('is not fooled by a comm that imitates the fields', () => {
    const stat = parseProcStat(`77 (x) R 9 9 (y) Z ${tail}`);
    expect(stat?.comm).toBe('x) R 9 9 (y');
    expect(stat?.state).toBe('Z');
    expect(stat?.pgrp).toBe(4242);
  });

  it('returns null for what is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (cut short) S 1 2')).toBeNull();
    expect(parseProcStat(`no pid (x) S ${tail}`)).toBeNull();
  });

  it.runIf(linux)('reads a real process whose name has spaces and parentheses', async () => {
    // The kernel takes comm from the executable's file name: run `sleep` under a hostile one.
    const dir = mkdtempSync(join(tmpdir(), 'procscope-comm-'));
    try {
      const exe = join(dir, 'x) S 1 (y');
      copyFileSync('/bin/sleep', exe);
      chmodSync(exe, 0o755);
      const child = await start(exe, ['30'], { detached: true });
      const stat = readProcStat(child.pid);
      expect(stat?.comm).toBe('x) S 1 (y');
      expect(stat?.state).toMatch(/^[RS]$/);
      expect(stat?.ppid).toBe(process.pid);
      expect(stat?.pgrp).toBe(child.pid);
      expect(pidsInGroup(child.pid)).toEqual([child.pid]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(linux)('parses this process', () => {
    const stat = readProcStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.rssPages).toBeGreaterThan(0);
  });
});

describe('isAlive and signalPid', () => {
  it('sees a running process as alive and a reaped one as dead', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = await start('sleep', ['30']);
    expect(isAlive(child.pid)).toBe(true);
    expect(signalPid(child.pid, 'SIGTERM'), 'signal delivered').toBe(true);
    expect((await exited(child)).signal).toBe('SIGTERM');
    expect(isAlive(child.pid)).toBe(false);
    expect(signalPid(child.pid, 'SIGTERM'), 'ESRCH means already gone').toBe(false);
  });

  it('refuses pids that kill(2) would read as a whole group', () => {
    for (const bad of [0, -1, -process.pid, 1.5]) {
      expect(() => signalPid(bad, 0), `signalPid(${bad})`).toThrow('pid must be an integer > 0');
      expect(() => isAlive(bad), `isAlive(${bad})`).toThrow('pid must be an integer > 0');
    }
  });

  it.runIf(linux)('counts a zombie as dead, and reports it apart from the live members', async () => {
    // `sleep 0` exits, and its parent, now exec'd into `sleep 60`, never reaps it.
    const leader = await start('sh', ['-c', 'sleep 0 & exec sleep 60'], { detached: true });
    await until('the group has a zombie', () => groupMembers(leader.pid).zombies.length === 1);
    const { alive, zombies } = groupMembers(leader.pid);
    expect(alive).toEqual([leader.pid]);
    expect(isAlive(zombies[0]!), 'a zombie is not alive').toBe(false);
    expect(pidsInGroup(leader.pid)).toEqual([leader.pid]);
  });
});

describe('killGroup', () => {
  it('leaves none of a group of 20 sleeps alive', async () => {
    const leader = await startGroup('sh', ['-c', 'for i in $(seq 20); do sleep 60 & done; echo ready; wait']);
    const members = pidsInGroup(leader.pid);
    expect(members, 'the shell and its 20 sleeps').toHaveLength(21);
    expect(members).toContain(leader.pid);

    await killGroup(leader.pid);

    expect(pidsInGroup(leader.pid), 'no live member left').toEqual([]);
    for (const pid of members) expect(isAlive(pid), `pid ${pid} alive`).toBe(false);
    expect((await exited(leader)).signal).toBe('SIGTERM');
  });

  it('SIGKILLs a process that ignores SIGTERM once the grace period is over', async () => {
    const stubborn = await startGroup(process.execPath, [
      '-e',
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)",
    ]);

    await killGroup(stubborn.pid, { graceMs: 200 });

    expect(isAlive(stubborn.pid)).toBe(false);
    expect((await exited(stubborn)).signal, 'it survived SIGTERM, not SIGKILL').toBe('SIGKILL');
  });

  it('wakes a stopped member so SIGTERM ends it, without waiting for SIGKILL', async () => {
    const stopped = await start('sleep', ['60'], { detached: true });
    expect(signalPid(stopped.pid, 'SIGSTOP')).toBe(true);
    if (linux) await until('the process is stopped', () => readProcStat(stopped.pid)?.state === 'T');

    // A grace period longer than the test timeout: only SIGTERM can end it in time.
    await killGroup(stopped.pid, { graceMs: 120_000 });

    expect((await exited(stopped)).signal).toBe('SIGTERM');
  });

  it('resolves at once for a group that no longer exists', async () => {
    const gone = await start('sleep', ['30'], { detached: true });
    gone.kill('SIGKILL');
    await exited(gone);
    await expect(killGroup(gone.pid)).resolves.toBeUndefined();
  });

  it('refuses pgids that would signal the monitor or everyone', async () => {
    for (const bad of [0, 1, -5, 2.5, Number.NaN]) {
      await expect(killGroup(bad), `pgid ${bad}`).rejects.toThrow('pgid must be an integer > 1');
    }
    expect(() => killGroupSync(1)).toThrow('pgid must be an integer > 1');
    if (linux) {
      const own = readProcStat(process.pid)!.pgrp;
      await expect(killGroup(own)).rejects.toThrow("it is the monitor's own group");
      expect(() => killGroupSync(own)).toThrow("it is the monitor's own group");
    }
  });
});

describe('killGroupSync', () => {
  it('SIGKILLs every member synchronously', async () => {
    const leader = await startGroup('sh', ['-c', 'sleep 60 & sleep 60 & echo ready; wait']);
    const members = pidsInGroup(leader.pid);
    expect(members).toHaveLength(3);

    expect(killGroupSync(leader.pid), 'the group existed').toBe(true);

    expect((await exited(leader)).signal).toBe('SIGKILL');
    // SIGKILL is delivered at once, but the kernel tears processes down asynchronously.
    await until('no member is alive', () => members.every((pid) => !isAlive(pid)));
    expect(pidsInGroup(leader.pid)).toEqual([]);
  });
});
