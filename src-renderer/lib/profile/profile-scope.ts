// What a profile view sums: the whole run, a group of processes that do the same work (merged),
// or one process; on the CPU or wall-clock; over the run or the range zoomed on the timeline.

import { buildCallTree, type CallTree } from '../../../src-main/common/profile/call-tree.ts';
import type { ProfileData } from '../../../src-main/common/profile/profile-data.ts';
import { processGroups, type ProcessName } from '../../../src-main/common/profile/process-groups.ts';

export interface ScopeOption {
  /** `all`, `group:<key>` or `pid:<pid>`. */
  key: string;
  kind: 'all' | 'group' | 'process';
  pids: number[] | null;
  /** For a group: its name stem, size and entry function; for a process: its name and pid. */
  stem?: string;
  entry?: string | null;
  pid?: number;
  name?: string;
}

/** The whole run, then every group (biggest first), then every process that has samples. */
export function scopeOptions(processes: readonly ProcessName[], data: ProfileData): ScopeOption[] {
  const sampled = new Set(data.pids());
  const known = processes.filter((p) => sampled.has(p.pid));
  const out: ScopeOption[] = [{ key: 'all', kind: 'all', pids: null }];
  for (const g of processGroups(known, data)) {
    out.push({ key: `group:${g.key}`, kind: 'group', pids: g.pids, stem: g.stem, entry: g.entry });
  }
  for (const p of known) out.push({ key: `pid:${p.pid}`, kind: 'process', pids: [p.pid], pid: p.pid, name: p.name });
  return out;
}

export interface ProfileQuery {
  pids: readonly number[] | null;
  /** ms, or null for the whole run. */
  range: { from: number; to: number } | null;
  onCpu: boolean;
}

export function treeFor(data: ProfileData, q: ProfileQuery): CallTree {
  return buildCallTree(data, { pids: q.pids ? new Set(q.pids) : null, range: q.range, onCpu: q.onCpu });
}
