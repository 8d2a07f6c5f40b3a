// Processes that do the same work, to merge into one profile: the workers of one Pool, the
// processes one parent started on the same target. Read from what the log says: a process's name
// without its number (ForkPoolWorker-3 -> ForkPoolWorker), its parent, and its entry function (the
// outermost function of the program in its samples: the target, or the function a Pool maps).

import type { ProfileData } from './profile-data.ts';

export interface ProcessName {
  pid: number;
  ppid: number;
  name: string;
}

export interface ProcessGroup {
  /** Stable within a run: parent, name stem and entry function. */
  key: string;
  /** `ForkPoolWorker`, `Process`. */
  stem: string;
  ppid: number;
  /** The entry function, when the samples show one. */
  entry: string | null;
  pids: number[];
}

/** Names a process's kind: its name without the `-N` multiprocessing numbers it. */
export function nameStem(name: string): string {
  return name.replace(/(-\d+)+$/, '');
}

/** Per pid, the function of the program most samples enter through (null without samples). */
export function entryFunctions(data: ProfileData): Map<number, string> {
  const n = data.stackCount;
  // Per stack, its outermost frame of the program (not the library): -1 if none.
  const outer = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    const p = data.stackParent[s];
    const up = p >= 0 ? outer[p] : -1;
    if (up >= 0) outer[s] = up;
    else {
      const f = data.frames[data.stackFrame[s]];
      outer[s] = f && f[3] === 0 ? data.stackFrame[s] : -1;
    }
  }
  const counts = new Map<number, Map<string, number>>();
  for (const th of data.threads) {
    let c = counts.get(th.pid);
    if (!c) counts.set(th.pid, (c = new Map()));
    for (let i = 0; i < th.count; i++) {
      const st = th.stacks[i];
      const f = st < n ? outer[st] : -1;
      if (f < 0) continue;
      const name = data.frames[f][0];
      c.set(name, (c.get(name) ?? 0) + 1);
    }
  }
  const out = new Map<number, string>();
  for (const [pid, c] of counts) {
    let best: string | null = null;
    let most = 0;
    for (const [name, k] of c) {
      if (k > most) {
        best = name;
        most = k;
      }
    }
    if (best !== null) out.set(pid, best);
  }
  return out;
}

/** Groups of two or more processes that do the same work, biggest first. */
export function processGroups(processes: readonly ProcessName[], data: ProfileData): ProcessGroup[] {
  const entry = entryFunctions(data);
  const groups = new Map<string, ProcessGroup>();
  const add = (p: ProcessName, stem: string, fn: string | null) => {
    const key = `${p.ppid}\0${stem}\0${fn ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, stem, ppid: p.ppid, entry: fn, pids: [] }));
    g.pids.push(p.pid);
  };
  const unknown: ProcessName[] = [];
  for (const p of processes) {
    const fn = entry.get(p.pid) ?? null;
    if (fn === null) unknown.push(p);
    else add(p, nameStem(p.name), fn);
  }
  // A process whose samples show no function of the program (a Pool worker that got no task)
  // belongs with its siblings of the same kind, if they all do one thing.
  for (const p of unknown) {
    const stem = nameStem(p.name);
    const kin = [...groups.values()].filter((g) => g.ppid === p.ppid && g.stem === stem && g.entry !== null);
    add(p, stem, kin.length === 1 ? kin[0].entry : null);
  }
  return [...groups.values()].filter((g) => g.pids.length > 1).sort((a, b) => b.pids.length - a.pids.length || a.ppid - b.ppid);
}
