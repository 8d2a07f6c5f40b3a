// `procscope run --profile`: at the end, the top functions of each group of processes that do the
// same work (a Pool's workers merged), then of every other profiled process, on the CPU; and where
// the processes waited.

import path from 'node:path';
import type { RunEvent } from '../api.ts';
import { buildCallTree, topFunctions, type FunctionTotals } from '../common/profile/call-tree.ts';
import { ProfileData } from '../common/profile/profile-data.ts';
import { processGroups, type ProcessName } from '../common/profile/process-groups.ts';
import { WaitTable } from '../common/profile/wait-table.ts';

/** Functions listed per group. */
const TOP = 8;
/** Wait sites listed. */
const TOP_WAITS = 10;

export class ProfileSummary {
  private readonly data = new ProfileData();
  private readonly waits = new WaitTable();
  private readonly names = new Map<number, ProcessName>();
  private end = 0;

  add(e: RunEvent): void {
    if (e.t > this.end) this.end = e.t;
    if (e.type === 'process') this.names.set(e.pid, { pid: e.pid, ppid: e.ppid, name: e.name });
    this.data.ingest(e);
    this.waits.ingest(e);
  }

  /** The lines to print (none when the run was not profiled and never waited). */
  lines(cwd: string): string[] {
    const out: string[] = [];
    const where = (file: string, line: number) => `${file.startsWith(cwd + path.sep) ? path.relative(cwd, file) : file}:${line}`;
    if (this.data.profiled) {
      const profiled = new Set(this.data.pids());
      const processes = [...this.names.values()].filter((p) => profiled.has(p.pid));
      const groups = processGroups(processes, this.data);
      const grouped = new Set(groups.flatMap((g) => g.pids));
      const sections: { title: string; pids: number[] }[] = [
        ...groups.map((g) => ({ title: `${g.stem} × ${g.pids.length}${g.entry ? ` (${g.entry})` : ''}, merged`, pids: g.pids })),
        ...processes.filter((p) => !grouped.has(p.pid)).map((p) => ({ title: `${p.name} (pid ${p.pid})`, pids: [p.pid] })),
      ];
      out.push('', `top functions on the CPU (${this.data.samples} samples at ${Math.round(1000 / this.data.interval)} Hz)`);
      for (const s of sections) {
        const tree = buildCallTree(this.data, { pids: new Set(s.pids), range: null, onCpu: true });
        const top = topFunctions(tree).filter((f) => f.self > 0).slice(0, TOP);
        out.push(`  ${s.title}: ${ms(tree.total[0])} on the CPU`);
        if (top.length === 0) {
          out.push('    (no samples on the CPU)');
          continue;
        }
        out.push(`    ${'SELF'.padStart(9)} ${'TOTAL'.padStart(9)}  FUNCTION`);
        for (const f of top) out.push(`    ${ms(f.self).padStart(9)} ${ms(f.total).padStart(9)}  ${label(f)}  ${where(f.file, f.line)}`);
      }
    }
    const rows = this.waits.table(this.end).slice(0, TOP_WAITS);
    if (rows.length > 0) {
      out.push('', 'where processes waited (blocking waits, by call site)');
      out.push(`  ${'WAITS'.padStart(6)} ${'TOTAL'.padStart(9)} ${'LONGEST'.padStart(9)}  CALL                 SITE`);
      for (const r of rows) {
        const what = r.object ?? (r.target !== null ? `pid ${r.target}` : '');
        const call = `${r.kind} ${what}`.padEnd(20);
        const open = r.open > 0 ? ` (${r.open} not ended)` : '';
        out.push(`  ${String(r.count).padStart(6)} ${ms(r.total).padStart(9)} ${ms(r.longest).padStart(9)}  ${call} ${where(r.site.file, r.site.line)} in ${r.site.func}${open}`);
      }
    }
    return out;
  }
}

function label(f: FunctionTotals): string {
  return f.lib ? `${f.name} [lib]` : f.name;
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`;
}
