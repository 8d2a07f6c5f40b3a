// RunClaims where /proc cannot be read (macOS, Windows): the checks that need it step aside, so a
// genuine run is not refused there, and a control still reaches a live process, and only that.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RunClaims, UNKNOWN_PEER } from '../../src-main/core/run-claims.ts';

const host = { root: () => 1, isSame: () => false, parentOf: () => undefined };

describe('RunClaims without /proc', () => {
  it("believes a hello and a child's announcement it cannot check, and still takes exits only from the listed parent", () => {
    const claims = new RunClaims({ ...host, parentOf: (pid: number) => (pid === 3 ? 2 : undefined) }, false);
    expect(claims.hello(UNKNOWN_PEER, 3, 2)).toBeNull();
    expect(claims.spawned(2, 3)).toBeNull();
    expect(claims.exitedEarly(3)).toBeNull();
    expect(claims.exited(2, 3)).toBeNull();
    expect(claims.exited(4, 3)).toBe('pid 3 is not a child of pid 4');
  });

  it('signals a live process, and nothing once it is gone', async () => {
    const sleep = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = sleep.pid as number;
    const ended = once(sleep, 'exit');
    expect(new RunClaims(host, false).signal(pid, 'SIGTERM')).toBe(true);
    const [, signal] = await ended;
    expect(signal).toBe('SIGTERM');
    expect(new RunClaims(host, false).signal(pid, 'SIGTERM')).toBe(false);
  });

  it('with /proc, a process the run does not list as the same is not signalled', async () => {
    const sleep = spawn('sleep', ['300'], { stdio: 'ignore' });
    const ended = once(sleep, 'exit');
    expect(new RunClaims(host, true).signal(sleep.pid as number, 'SIGKILL')).toBe(false);
    // Ours comes second: a SIGKILL sent before it would be what ended the process.
    sleep.kill('SIGTERM');
    const [, signal] = await ended;
    expect(signal).toBe('SIGTERM');
  });
});
