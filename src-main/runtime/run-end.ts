// When the monitor dies (kill -9, a crash), the run ends: nothing of it is left behind.
//
// Node has no parent-death signal, and none would reach a grandchild anyway, so the connection
// is the signal: a process of the run that sees its connection to the broker close while the
// monitor itself is gone kills every process of the run: the run's process group and every
// descendant of its members, found by parent pid (a child spawned `detached`, one that called
// setsid(), a `sleep` from child_process.spawn), deepest first so that no parent dies before its
// children are found, then itself. A connection closed while the monitor lives (it refused a
// message, or the run is over) ends nothing here. The Python shim's _run_end.py does the same.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { ENV_MONITOR, ENV_RUN_GROUP } from '../protocol.ts';

const HAS_PROC = process.platform === 'linux';
/** PF_EXITING: the kernel sets it as a process starts to exit, before it closes its files. */
const PF_EXITING = 0x4;
/** Passes over the process table: a process forked while the first pass killed is found by the next. */
const PASSES = 5;

interface Stat {
  state: string;
  ppid: number;
  pgrp: number;
  flags: number;
  starttime: number;
}

function readStat(pid: number | 'self'): Stat | null {
  let line: string;
  try {
    line = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The name before the last ')' may hold anything; fields[0] is field 3 (state).
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  if (f.length < 20) return null;
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), flags: Number(f[6]), starttime: Number(f[19]) };
}

const dead = (state: string): boolean => state === 'Z' || state === 'X' || state === 'x';

/** The main process names the run's group for every process after it (they inherit it). */
export function rememberRun(): void {
  process.env[ENV_RUN_GROUP] = String((HAS_PROC ? readStat('self')?.pgrp : undefined) ?? process.pid);
}

/** Whether the monitor that runs this run has exited (or is exiting). */
export function monitorGone(): boolean {
  const m = /^(\d+):(\d+)$/.exec(process.env[ENV_MONITOR] ?? '');
  if (!m) return false; // not started by a monitor we know: not ours to decide
  const pid = Number(m[1]);
  const start = Number(m[2]);
  if (pid <= 1) return false;
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  const st = readStat(pid);
  return st === null || dead(st.state) || (st.flags & PF_EXITING) !== 0 || (start !== 0 && st.starttime !== start);
}

/** Every live process: pid -> [ppid, pgrp]. */
function table(): Map<number, [number, number]> {
  const t = new Map<number, [number, number]>();
  if (!HAS_PROC) {
    const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const [pid, ppid, pgid, stat] = line.trim().split(/\s+/);
      if (pid && stat && !stat.startsWith('Z')) t.set(Number(pid), [Number(ppid), Number(pgid)]);
    }
    return t;
  }
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && !dead(st.state)) t.set(Number(name), [st.ppid, st.pgrp]);
  }
  return t;
}

/** The run's processes but this one, deepest first: the members of `group` and all their descendants (and ours). */
function targets(group: number): number[] {
  const all = table();
  const children = new Map<number, number[]>();
  for (const [pid, [ppid]] of all) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const depth = new Map<number, number>();
  const stack: [number, number][] = [...all].filter(([, [, pgrp]]) => pgrp === group).map(([pid]) => [pid, 0]);
  stack.push([process.pid, 0]);
  while (stack.length > 0) {
    const [pid, d] = stack.pop() as [number, number];
    if ((depth.get(pid) ?? -1) >= d) continue;
    depth.set(pid, d);
    for (const c of children.get(pid) ?? []) stack.push([c, d + 1]);
  }
  for (const never of [process.pid, 0, 1]) depth.delete(never);
  return [...depth.keys()].sort((a, b) => (depth.get(b) as number) - (depth.get(a) as number));
}

function kill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // gone already, or not ours to signal
  }
}

/** Kills every process of the run, deepest first, then the run's group, then this process. */
export function endRun(): never {
  const named = Number(process.env[ENV_RUN_GROUP]);
  const group = Number.isInteger(named) && named > 1 ? named : ((HAS_PROC ? readStat('self')?.pgrp : undefined) ?? 0);
  try {
    for (let pass = 0; pass < PASSES; pass++) {
      const found = targets(group);
      if (found.length === 0) break;
      for (const pid of found) kill(pid);
    }
    if (group > 1) kill(-group);
  } finally {
    kill(process.pid);
  }
  // SIGKILL of ourselves does not return; should it be refused, exit all the same.
  process.exit(1);
}
