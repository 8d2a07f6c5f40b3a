// Hand-made run events for the renderer's model tests.

import type { LockEvent, LockOp, Pid, RunEvent } from '../../../src-main/api.ts';

export const run = (t = 0, interval = 100): RunEvent => ({
  t,
  type: 'run',
  version: 1,
  scenario: 'test',
  startedAt: '2025-01-01T00:00:00.000Z',
  interval,
  cwd: '/tmp',
});

export const proc = (t: number, pid: Pid, ppid: Pid, name: string, handle?: string): RunEvent =>
  handle === undefined
    ? { t, type: 'process', pid, ppid, name, daemon: false }
    : { t, type: 'process', pid, ppid, name, daemon: false, handle };

export const created = (t: number, handle: string, owner: Pid, name: string): RunEvent => ({
  t,
  type: 'created',
  handle,
  owner,
  name,
  daemon: false,
});

export const exit = (t: number, pid: Pid, exitcode: number | null = 0): RunEvent => ({ t, type: 'exit', pid, exitcode });

export const closed = (t: number, handle: string, pid: Pid | null): RunEvent => ({ t, type: 'closed', handle, pid });

export const sample = (t: number, pid: Pid, cpu: number, rss = 10 * 1024 * 1024): RunEvent => ({ t, type: 'sample', pid, cpu, rss });

export const out = (t: number, pid: Pid, text: string): RunEvent => ({ t, type: 'output', pid, stream: 'stdout', text });

export const queue = (t: number, id: string, op: 'create' | 'put' | 'get', depth: number, maxsize = 0, pid: Pid = 1): RunEvent => ({
  t,
  type: 'queue',
  queue: id,
  op,
  pid,
  depth,
  maxsize,
});

/**
 * A lock event as the broker writes it: `holder` and `waiters` are the state after the op. (The
 * broker logs `request` before queueing the requester, so a request's waiters exclude it.)
 */
export const lock = (t: number, id: string, op: LockOp, pid: Pid, holder: Pid | null, waiters: Pid[] = []): LockEvent => ({
  t,
  type: 'lock',
  lock: id,
  op,
  pid,
  holder,
  waiters,
});
