// What the process table lists: the tree (folded as the person chose), or, once a column is
// sorted or a filter typed, a flat list like htop's: every matching process, ordered by that
// column. Plus the totals line over every process of the run.

import type { ProcRow } from '../model/types.ts';
import { buildTree, visibleLines, type TreeLine } from './process-tree.ts';

export type SortKey = 'name' | 'pid' | 'state' | 'exitcode' | 'cpu' | 'cpuSeconds' | 'rss' | 'peakRss' | 'startedAt';

export interface TableOptions {
  /** null: the tree, in the order processes appeared. */
  sort: SortKey | null;
  /** Highest first when true. */
  descending: boolean;
  filter: string;
  folds: ReadonlyMap<string, boolean>;
  /** The state as the page's language names it, so a filter can say "运行中" as well as "running". */
  stateName?: (state: ProcRow['state']) => string;
}

const STATE_ORDER: Record<ProcRow['state'], number> = { running: 0, created: 1, exited: 2, closed: 3 };

function value(row: ProcRow, key: SortKey): number | string | null {
  switch (key) {
    case 'name':
      return row.name.toLowerCase();
    case 'state':
      return STATE_ORDER[row.state];
    default:
      return row[key];
  }
}

/** Compares two rows on `key`; missing values (—) sort last in both directions. */
export function compareRows(a: ProcRow, b: ProcRow, key: SortKey, descending: boolean): number {
  const va = value(a, key);
  const vb = value(b, key);
  if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
  const c = typeof va === 'string' ? va.localeCompare(vb as string) : va - (vb as number);
  return (descending ? -c : c) || (a.pid ?? 0) - (b.pid ?? 0);
}

/** Whether a row matches what was typed: part of its name, the start of its pid, or its state. */
export function matches(row: ProcRow, filter: string, stateName?: (s: ProcRow['state']) => string): boolean {
  const q = filter.trim().toLowerCase();
  if (!q) return true;
  return q.split(/\s+/).every(
    (w) =>
      row.name.toLowerCase().includes(w) ||
      (row.pid !== null && String(row.pid).startsWith(w)) ||
      row.state === w ||
      (stateName !== undefined && stateName(row.state).toLowerCase() === w),
  );
}

/** The lines the table shows (see the header). */
export function tableLines(rows: readonly ProcRow[], o: TableOptions): TreeLine[] {
  if (o.sort === null && !o.filter.trim()) return visibleLines(buildTree(rows), o.folds);
  const shown = rows.filter((r) => matches(r, o.filter, o.stateName));
  if (o.sort !== null) {
    const key = o.sort;
    shown.sort((a, b) => compareRows(a, b, key, o.descending));
  }
  return shown.map((row) => ({ node: { kind: 'process', key: row.key, row, children: [] }, depth: 0, descendants: 0, folded: false }));
}

export interface Totals {
  processes: number;
  running: number;
  exited: number;
  /** Sum of the running processes' latest CPU %, in % of one core. */
  cpu: number;
  /** Sum of the running processes' latest RSS, bytes. */
  rss: number;
  /** CPU time of every process, seconds. */
  cpuSeconds: number;
}

export function totalsOf(rows: readonly ProcRow[]): Totals {
  const t: Totals = { processes: 0, running: 0, exited: 0, cpu: 0, rss: 0, cpuSeconds: 0 };
  for (const r of rows) {
    if (r.pid === null) continue;
    t.processes++;
    if (r.state === 'running') {
      t.running++;
      t.cpu += r.cpu ?? 0;
      t.rss += r.rss ?? 0;
    } else if (r.state === 'exited' || r.state === 'closed') t.exited++;
    t.cpuSeconds += r.cpuSeconds ?? 0;
  }
  return t;
}

/** CPU % of one core as a share of the whole machine: 200% on 4 cores is 50%. */
export function machineShare(cpuPercent: number, cores: number): number {
  return cores > 0 ? cpuPercent / cores : cpuPercent;
}
