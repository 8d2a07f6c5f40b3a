// Text tables for the terminal: the live process table and the end-of-run summary.

import type { ProcessInfo, ProcessStacks, StackFrame } from '../api.ts';
import type { RunSummary } from '../core/session.ts';

export function bytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Parents above their children, children indented under them, in start order. */
export function treeOrder(processes: ProcessInfo[]): { p: ProcessInfo; depth: number }[] {
  const byParent = new Map<number, ProcessInfo[]>();
  const pids = new Set(processes.map((p) => p.pid).filter((pid) => pid !== null));
  for (const p of processes) {
    const key = pids.has(p.ppid) ? p.ppid : -1;
    const list = byParent.get(key) ?? [];
    list.push(p);
    byParent.set(key, list);
  }
  const out: { p: ProcessInfo; depth: number }[] = [];
  const walk = (key: number, depth: number) => {
    const order = (p: ProcessInfo) => p.startedAt ?? Number.MAX_VALUE;
    for (const p of (byParent.get(key) ?? []).sort((a, b) => order(a) - order(b))) {
      out.push({ p, depth });
      if (p.pid !== null) walk(p.pid, depth + 1);
    }
  };
  walk(-1, 0);
  return out;
}

/** CPU time as htop's TIME+ shows it: minutes:seconds.hundredths. */
export function cpuTime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - m * 60).toFixed(2).padStart(5, '0')}`;
}

/** An exit code, or `?` for one nobody could read (never shown as a success). */
const exitText = (p: ProcessInfo): string => (p.exitcode === null ? (p.state === 'exited' ? '?' : '') : String(p.exitcode));

export function processTable(processes: ProcessInfo[]): string[] {
  return table(
    ['PID', 'NAME', 'STATE', 'CPU%', 'TIME+', 'RSS', 'EXIT'],
    treeOrder(processes).map(({ p, depth }) => [
      p.pid === null ? '-' : String(p.pid),
      `${'  '.repeat(depth)}${p.name}${p.daemon ? ' (daemon)' : ''}`,
      p.state,
      p.state === 'running' && p.cpu !== null ? p.cpu.toFixed(1) : '-',
      cpuTime(p.cpuTime),
      p.state === 'running' ? bytes(p.rss) : '-',
      exitText(p),
    ]),
  );
}

export function summaryText(s: RunSummary, scenario: string, logPath: string): string[] {
  const out: string[] = [];
  const secs = (s.end.t / 1000).toFixed(2);
  out.push(`run ${scenario} ${s.end.reason} after ${secs} s, main exit code ${s.end.exitcode ?? '-'}`);
  out.push('');
  out.push(`processes (${s.processes.length})`);
  // Pool workers say how many tasks they finished (and how many raised): a column only then.
  const withTasks = s.processes.some((p) => p.tasks);
  out.push(
    ...table(
      ['PID', 'PPID', 'NAME', 'DAEMON', 'EXIT', 'LIFETIME', 'CPU TIME', 'PEAK RSS', ...(withTasks ? ['TASKS'] : [])],
      treeOrder(s.processes).map(({ p, depth }) => [
        p.pid === null ? '-' : String(p.pid),
        String(p.ppid),
        `${'  '.repeat(depth)}${p.name}${p.state === 'created' ? ' (never started)' : ''}`,
        p.daemon ? 'yes' : 'no',
        p.state === 'created' ? '-' : (exitText(p) || '?'),
        p.endedAt === null || p.startedAt === null ? '-' : `${((p.endedAt - p.startedAt) / 1000).toFixed(2)} s`,
        cpuTime(p.cpuTime),
        p.peakRss === undefined ? '-' : bytes(p.peakRss),
        ...(withTasks ? [p.tasks ? `${p.tasks.done}${p.tasks.failed ? ` (${p.tasks.failed} raised)` : ''}` : ''] : []),
      ]),
    ).map((l) => `  ${l}`),
  );
  if (s.queues.length) {
    out.push('', `queues (${s.queues.length})`);
    out.push(
      ...table(
        ['QUEUE', 'MAXSIZE', 'PUTS', 'GETS', 'PEAK', 'LEFT'],
        s.queues.map((q) => [q.queue, q.maxsize ? String(q.maxsize) : '∞', String(q.puts), String(q.gets), String(q.peak), String(q.depth)]),
      ).map((l) => `  ${l}`),
    );
  }
  if (s.locks.length) {
    out.push('', `locks (${s.locks.length})`);
    out.push(
      ...table(
        ['LOCK', 'ACQUIRED', 'WAITED', 'HELD BY AT END'],
        s.locks.map((l) => [
          l.lock,
          String(l.acquisitions),
          String(l.contended),
          l.holder === null ? '-' : `${l.holder}${l.abandoned ? ' (exited: abandoned)' : ''}`,
        ]),
      ).map((l) => `  ${l}`),
    );
  }
  out.push('', `log: ${logPath}`);
  return out;
}

const where = (f: StackFrame): string => `${f.file.split('/').pop() ?? f.file}:${f.line} in ${f.func}${f.code ? `: ${f.code}` : ''}`;

/**
 * Where each process was (run.stacks), for a person looking at a stuck run: each thread's own
 * frames, outermost first, and the library call it waits in, if any.
 */
export function stacksText(stacks: readonly ProcessStacks[]): string[] {
  const out = ['where each process was (innermost last):'];
  for (const p of stacks) {
    if (p.error) {
      const why = { typescript: 'a TypeScript process cannot show its stack', 'no-answer': 'no answer (busy in native code?)', 'not-connected': 'not connected' }[p.error];
      out.push(`  [${p.pid} ${p.name}] ${why}`);
      continue;
    }
    for (const t of p.threads) {
      out.push(`  [${p.pid} ${p.name}] ${t.name}`);
      const own = t.frames.filter((f) => !f.lib);
      for (const f of own) out.push(`      ${where(f)}`);
      const last = t.frames.at(-1);
      if (last?.lib) out.push(`      … waiting in ${where(last)}`);
      if (t.frames.length === 0) out.push('      (no frames)');
    }
  }
  return out;
}
