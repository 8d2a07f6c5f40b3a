// How the monitor names itself to the processes of a run (protocol.ts ENV_MONITOR) and in the
// run's temporary folder: its pid and start time, so that an unrelated process given the
// monitor's recycled pid is never taken for it.

import { isDeadState, readProcStat } from './process-group.ts';

export function monitorIdentity(): string {
  return `${process.pid}:${readProcStat(process.pid)?.starttime ?? 0}`;
}

/**
 * Whether the monitor an identity names still runs: the same pid with the same start time (where
 * /proc tells start times; elsewhere the pid alone, written with start time 0). `unknown` for
 * text that is not an identity.
 */
export function monitorState(identity: string): 'alive' | 'gone' | 'unknown' {
  const m = /^(\d+):(\d+)$/.exec(identity.trim());
  if (!m) return 'unknown';
  const pid = Number(m[1]);
  const start = Number(m[2]);
  if (!Number.isSafeInteger(pid) || pid <= 1) return 'unknown';
  if (start === 0) {
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'gone';
    }
  }
  const stat = readProcStat(pid);
  return stat !== null && stat.starttime === start && !isDeadState(stat.state) ? 'alive' : 'gone';
}
