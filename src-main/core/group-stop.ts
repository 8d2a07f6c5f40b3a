// Stopping a run: every process of it ends, and how each ended is observed, not guessed. The run
// is its process group and every descendant of its members or of its listed processes, whatever
// their group (a child that called setsid() or was spawned `detached` left the group, not the
// run: runMembers in process-group.ts).
//
// Signalling the whole group at once (killGroup) ends everyone, but nobody sees how: a parent
// dies with its children and cannot report them, and their zombies go to init, which reaps them
// at once. So the run is first frozen (SIGSTOP: nobody runs, nobody reaps), then ended from
// the leaves up, one generation at a time: each gets SIGTERM and SIGCONT, and while its parent is
// still frozen its zombie keeps the exit status, read from /proc (-15, or what a handler exited
// with). Whoever outlives the grace period gets SIGKILL the same way (-9); once the grace is
// spent, each later generation still gets SIGTERM and a moment. The main process is ended last;
// the monitor is its parent and sees its exit itself.
//
// Where /proc cannot say (other systems), the group is ended as one and then whatever of the
// run is left, and the exit codes are the ones parents report, or "could not be read" (null),
// never a guess.

import { isDeadState, killGroup, readProcStat, runMembers, signalGroup, signalPid, zombieExitcode, type GroupMembers } from './process-group.ts';

export interface StopOptions {
  /** How long the processes may take to exit after SIGTERM, all together. */
  graceMs: number;
  /** How a member ended, read from its zombie. */
  onExit(pid: number, exitcode: number): void;
  /**
   * Processes known to be the run's (listed, the same processes as when listed): their
   * descendants are the run's too, though their parent died and they left the group.
   */
  roots?(): number[];
}

/** Polling kernel state, not a test sleep: exit has no event for processes we did not spawn. */
const POLL_MS = 5;
/** How long freezing the group may take (a process in the kernel stops when it comes out). */
const FREEZE_WAIT_MS = 500;
/** Once the grace is spent, how long a generation still has to end by SIGTERM. */
const LAST_TERM_WAIT_MS = 200;
/** After SIGKILL only a process stuck in the kernel (state D) can survive this long. */
const KILL_WAIT_MS = 5000;

/** `pgid` 0: the run has no group left to signal (its id may name another group now). */
export async function stopGroup(pgid: number, opts: StopOptions): Promise<void> {
  const roots = opts.roots ?? (() => []);
  if (process.platform !== 'linux') {
    if (pgid > 1) await killGroup(pgid, { graceMs: opts.graceMs });
    return killRest(pgid, roots);
  }
  const deadline = performance.now() + opts.graceMs;
  const members = await freeze(pgid, roots);
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
  return killRest(pgid, roots);
}

/**
 * SIGSTOPs every process of the run, again and again until all are stopped (one may fork while
 * it is being stopped) or FREEZE_WAIT_MS pass; returns who they are.
 */
async function freeze(pgid: number, roots: () => number[]): Promise<GroupMembers> {
  if (pgid > 1) {
    try {
      signalGroup(pgid, 'SIGSTOP');
    } catch {
      // an empty group: its descendants elsewhere may still be there
    }
  }
  let members = runMembers(pgid, roots());
  await until(() => {
    members = runMembers(pgid, roots());
    let all = true;
    for (const pid of members.alive) {
      if (stoppedOrGone(pid)) continue;
      all = false;
      signalPid(pid, 'SIGSTOP');
    }
    return all;
  }, FREEZE_WAIT_MS);
  return members;
}

/** SIGKILLs the group and every process of the run still there, and waits for the group to empty. */
async function killRest(pgid: number, roots: () => number[]): Promise<void> {
  for (const pid of runMembers(pgid, roots()).alive) signalPid(pid, 'SIGKILL');
  if (pgid > 1) await killGroup(pgid, { graceMs: 0 });
}

/** Generations of the run's processes, children before their parents. */
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
