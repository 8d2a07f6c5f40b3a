// How the monitor names itself to the processes of a run (protocol.ts ENV_MONITOR): its pid and
// start time, so that a process of the run never takes an unrelated process that was given the
// monitor's recycled pid for the monitor.

import { readProcStat } from './process-group.ts';

export function monitorIdentity(): string {
  return `${process.pid}:${readProcStat(process.pid)?.starttime ?? 0}`;
}
