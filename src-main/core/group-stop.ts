// Stopping a run: every process of its group ends, and how each ended is observed, not guessed.
//
// Signalling the whole group at once (killGroup) ends everyone, but nobody sees how: a parent
// dies with its children and cannot report them, and their zombies go to init, which reaps them
// at once. So the group is first frozen (SIGSTOP: nobody runs, nobody reaps), then ended from
// the leaves up, one generation at a time: each gets SIGTERM and SIGCONT, and while its parent is
// still frozen its zombie keeps the exit status, read from /proc (-15, or what a handler exited
// with). Whoever outlives the grace period gets SIGKILL the same way (-9); once the grace is
// spent, each later generation still gets SIGTERM and a moment. The main process is ended last;
// the monitor is its parent and sees its exit itself.
//
// Where /proc cannot say (other systems), the group is ended as one, and the exit codes are the
// ones parents report, or "could not be read" (null), never a guess.

import { groupMembers, isDeadState, killGroup, readProcStat, signalGroup, signalPid, zombieExitcode } from './process-group.ts';

export interface StopOptions {
  /** How long the processes may take to exit after SIGTERM, all together. */
  graceMs: number;
  /** How a member ended, read from its zombie. */
  onExit(pid: number, exitcode: number): void;
}

/** Polling kernel state, not a test sleep: exit has no event for processes we did not spawn. */
const POLL_MS = 5;
/** How long freezing the group may take (a process in the kernel stops when it comes out). */
const FREEZE_WAIT_MS = 500;
/** Once the grace is spent, how long a generation still has to end by SIGTERM. */
const LAST_TERM_WAIT_MS = 200;
/** After SIGKILL only a process stuck in the kernel (state D) can survive this long. */
const KILL_WAIT_MS = 5000;

export async function stopGroup(pgid: number, opts: StopOptions): Promise<void> {
  if (process.platform !== 'linux') return killGroup(pgid, { graceMs: opts.graceMs });
  if (!signalGroup(pgid, 'SIGSTOP')) return;
  const deadline = performance.now() + opts.graceMs;
  await until(() => groupMembers(pgid).alive.every(stoppedOrGone), FREEZE_WAIT_MS);
  const members = groupMembers(pgid);
  // Ended already, not reaped by their (now frozen) parents: their status is there to read.
  for (const pid of members.zombies) {
    const code = zombieExitcode(pid);
    if (code !== null) opts.onExit(pid, code);
  }
  let signal: NodeJS.Signals = 'SIGTERM';
  for (const generation of leavesFirst(members.alive)) {
    let left = generation;
    for (;;) {
      for (const pid of left) {
        signalPid(pid, signal);
        signalPid(pid, 'SIGCONT');
      }
      left = await watchEnds(left, opts.onExit, signal === 'SIGTERM' ? Math.max(deadline - performance.now(), LAST_TERM_WAIT_MS) : KILL_WAIT_MS);
      if (left.length === 0 || signal === 'SIGKILL') break;
      // The grace is over for those that did not go: killed. The generations above still get
      // SIGTERM first, and a moment to end by it.
      signal = 'SIGKILL';
    }
    signal = 'SIGTERM';
  }
  // Whatever the last ones started meanwhile.
  await killGroup(pgid, { graceMs: 0 });
}

/** Generations of the group's processes, children before their parents. */
function leavesFirst(pids: readonly number[]): number[][] {
  const members = new Set(pids);
  const parentOf = new Map<number, number>();
  for (const pid of pids) parentOf.set(pid, readProcStat(pid)?.ppid ?? 0);
  const depth = (pid: number): number => {
    let d = 0;
    for (let p = parentOf.get(pid) ?? 0; members.has(p) && d < pids.length; p = parentOf.get(p) ?? 0) d++;
    return d;
  };
  const byDepth: number[][] = [];
  for (const pid of pids) (byDepth[depth(pid)] ??= []).push(pid);
  return byDepth.filter((g) => g !== undefined).reverse();
}

/**
 * Waits until each of `pids` has ended (its zombie read and reported) or is gone, for `ms` at
 * most; returns those still running.
 */
async function watchEnds(pids: readonly number[], onExit: (pid: number, exitcode: number) => void, ms: number): Promise<number[]> {
  const left = new Set(pids);
  const look = (): boolean => {
    for (const pid of left) {
      const stat = readProcStat(pid);
      if (stat !== null && !isDeadState(stat.state)) continue;
      left.delete(pid);
      const code = stat === null ? null : zombieExitcode(pid);
      if (code !== null) onExit(pid, code);
    }
    return left.size === 0;
  };
  await until(look, ms);
  return [...left];
}

function stoppedOrGone(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat === null || stat.state === 'T' || stat.state === 't' || isDeadState(stat.state);
}

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + Math.max(0, ms);
  for (;;) {
    if (done()) return true;
    if (performance.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
