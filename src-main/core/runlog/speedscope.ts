// Exports a profiled run in speedscope's file format (https://www.speedscope.app/file-format-schema.json,
// checked against that schema in test/unit/speedscope-export.test.ts): one "sampled" profile per
// group of processes that do the same work (a Pool's workers, merged) and per thread of each
// process on the CPU, then per thread in wall-clock time. speedscope lists them in its profile
// menu and opens the first.
//
// Frames are functions (name and file; a Python frame of the log is a line): speedscope then
// merges a function's lines into one box, as the window's flame graph does. A sample's weight is
// the time it stands for, in milliseconds: on the CPU, the share of it the thread ran.

import type { RunEvent } from '../../api.ts';
import { FunctionTable } from '../../common/profile/call-tree.ts';
import { ProfileData, type ThreadSamples } from '../../common/profile/profile-data.ts';
import { processGroups, type ProcessName } from '../../common/profile/process-groups.ts';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.ts';
import { writeExportFile } from './export-file.ts';
import { readRunLog, type TornTail } from './reader.ts';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

export interface SpeedscopeProfile {
  type: 'sampled';
  name: string;
  unit: 'milliseconds';
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

/** Builds the file from a run's events (the whole profile is held in memory, as its columns). */
export class SpeedscopeBuilder {
  private readonly data = new ProfileData();
  private readonly names = new Map<number, ProcessName>();
  private scenario = 'procscope run';

  add(e: RunEvent): void {
    if (e.type === 'run') this.scenario = e.scenario;
    if (e.type === 'process') this.names.set(e.pid, { pid: e.pid, ppid: e.ppid, name: e.name });
    this.data.ingest(e);
  }

  /** Null when the run was not profiled (or has no samples). */
  build(exporter: string): SpeedscopeFile | null {
    const data = this.data;
    if (!data.profiled || data.samples === 0) return null;
    const table = new FunctionTable();
    const frames: SpeedscopeFrame[] = [];
    // A stack as the root-first list of its functions, memoized per stack id.
    const stacks = new Map<number, number[]>();
    const stackOf = (s: number): number[] => {
      let known = stacks.get(s);
      if (known) return known;
      const p = data.stackParent[s];
      const fn = table.of(data.frames, data.stackFrame[s]);
      while (frames.length <= fn) {
        const info = table.functions[frames.length];
        frames.push({ name: info.name, ...(info.file ? { file: info.file } : {}) });
      }
      const line = data.frames[data.stackFrame[s]]?.[2] ?? 0;
      const f = frames[fn];
      if (line > 0 && (f.line === undefined || line < f.line)) f.line = line;
      known = p >= 0 && p < data.stackCount ? [...stackOf(p), fn] : [fn];
      stacks.set(s, known);
      return known;
    };
    const label = (pid: number) => {
      const p = this.names.get(pid);
      return p ? `${p.name} (pid ${pid})` : `pid ${pid}`;
    };
    const profile = (name: string, threads: readonly ThreadSamples[], onCpu: boolean): SpeedscopeProfile | null => {
      const samples: number[][] = [];
      const weights: number[] = [];
      let start = Infinity;
      let end = -Infinity;
      for (const th of threads) {
        for (let i = 0; i < th.count; i++) {
          const s = th.stacks[i];
          if (s >= data.stackCount) continue;
          const w = onCpu ? (th.weights[i] * th.cpu[i]) / 9 : th.weights[i];
          if (!(w > 0)) continue;
          samples.push(stackOf(s));
          weights.push(Math.round(w * 1000) / 1000);
          start = Math.min(start, th.times[i] - th.weights[i]);
          end = Math.max(end, th.times[i]);
        }
      }
      if (samples.length === 0) return null;
      return { type: 'sampled', name, unit: 'milliseconds', startValue: Math.max(0, start), endValue: end, samples, weights };
    };
    const profiled = new Set(data.pids());
    const processes = [...this.names.values()].filter((p) => profiled.has(p.pid));
    for (const pid of profiled) if (!this.names.has(pid)) processes.push({ pid, ppid: 0, name: `pid ${pid}` });
    const out: SpeedscopeProfile[] = [];
    const push = (p: SpeedscopeProfile | null) => {
      if (p) out.push(p);
    };
    for (const g of processGroups(processes, data)) {
      const threads = data.threads.filter((t) => g.pids.includes(t.pid));
      push(profile(`${g.stem} × ${g.pids.length}${g.entry ? ` (${g.entry})` : ''}, merged · on-CPU`, threads, true));
    }
    const threadName = (t: ThreadSamples) => (t.thread === 'MainThread' || t.thread === 'main' ? '' : ` · ${t.thread}`);
    for (const t of data.threads) push(profile(`${label(t.pid)}${threadName(t)} · on-CPU`, [t], true));
    for (const t of data.threads) push(profile(`${label(t.pid)}${threadName(t)} · wall-clock`, [t], false));
    if (out.length === 0) return null;
    return { $schema: SPEEDSCOPE_SCHEMA, shared: { frames }, profiles: out, name: this.scenario, activeProfileIndex: 0, exporter };
  }
}

/**
 * Writes the speedscope file of the log at `logPath`. Throws (one line) when the run was not
 * profiled: there is nothing to open.
 */
export async function exportSpeedscope(
  logPath: string,
  outPath: string,
  onProgress?: (fraction: number) => void,
  exporter = exporterName(),
): Promise<{ profiles: number; torn: TornTail | null }> {
  let torn: TornTail | null = null;
  const builder = new SpeedscopeBuilder();
  for await (const event of readRunLog(logPath, { onProgress, onTornTail: (t) => (torn = t) })) builder.add(event);
  const file = builder.build(exporter);
  if (!file) throw new NotProfiledError(`${logPath} has no profile samples: run it with profiling on (procscope run --profile)`);
  await writeExportFile(outPath, async (write) => {
    // One profile at a time: a long run's samples are never one giant string.
    const { profiles, ...head } = file;
    const open = JSON.stringify({ ...head, profiles: [] });
    await write(`${open.slice(0, -2)}\n`);
    for (let i = 0; i < profiles.length; i++) await write(`${i > 0 ? ',\n' : ''}${JSON.stringify(profiles[i])}`);
    await write('\n]}\n');
  });
  onProgress?.(1);
  return { profiles: file.profiles.length, torn };
}

/** `procscope@<version>`, as speedscope files name the program that wrote them. */
export function exporterName(): string {
  try {
    return `procscope@${(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}`;
  } catch {
    return 'procscope';
  }
}

/** The run has no samples to export. */
export class NotProfiledError extends Error {
  override readonly name = 'NotProfiledError';
}
