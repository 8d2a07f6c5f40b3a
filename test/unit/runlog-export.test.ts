import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { samplesToCsv, exportCsv, CSV_HEADER } from '../../src-main/core/runlog/csv.ts';
import { toChromeTrace, exportTrace, RUN_PID } from '../../src-main/core/runlog/trace.ts';
import type { TraceEvent } from '../../src-main/core/runlog/trace.ts';
import { RunLogError } from '../../src-main/core/runlog/reader.ts';
import { ExportError } from '../../src-main/core/runlog/export-file.ts';
import type { RunEvent } from '../../src-main/api.ts';
import { runStart, scratchDir } from '../helpers/runlog-fixtures.ts';

const tmp = scratchDir('procscope-export-');
const run = runStart('export-test');

function writeLog(name: string, events: RunEvent[], tail = ''): string {
  const file = path.join(tmp(), name);
  fs.writeFileSync(file, events.map((e) => JSON.stringify(e) + '\n').join('') + tail);
  return file;
}

/**
 * A small run: main (100) starts two workers that take turns on lock L (101 first, 102 waiting),
 * fill a queue, and a deadlock is reported. 102 is killed, 100 never exits before the end.
 */
const runEvents: RunEvent[] = [
  run,
  { t: 1, type: 'process', pid: 100, ppid: 99, name: 'MainProcess', daemon: false },
  { t: 2, type: 'queue', queue: 'q1', op: 'create', pid: 100, depth: 0, maxsize: 0 },
  { t: 5, type: 'process', pid: 101, ppid: 100, name: 'Process-1', daemon: false },
  { t: 6, type: 'process', pid: 102, ppid: 100, name: 'Process-2', daemon: true },
  { t: 7, type: 'queue', queue: 'q1', op: 'put', pid: 101, depth: 1, maxsize: 0 },
  { t: 8, type: 'queue', queue: 'q1', op: 'put', pid: 102, depth: 2, maxsize: 0 },
  { t: 9, type: 'queue', queue: 'q1', op: 'get', pid: 100, depth: 1, maxsize: 0 },
  { t: 10, type: 'lock', lock: 'L', op: 'create', pid: 100, holder: null, waiters: [] },
  { t: 11, type: 'lock', lock: 'L', op: 'request', pid: 101, holder: null, waiters: [101] },
  { t: 11.5, type: 'lock', lock: 'L', op: 'acquire', pid: 101, holder: 101, waiters: [] },
  { t: 12, type: 'lock', lock: 'L', op: 'request', pid: 102, holder: 101, waiters: [102] },
  { t: 20, type: 'lock', lock: 'L', op: 'release', pid: 101, holder: null, waiters: [102] },
  { t: 20.5, type: 'lock', lock: 'L', op: 'acquire', pid: 102, holder: 102, waiters: [] },
  { t: 30, type: 'lock', lock: 'L', op: 'release', pid: 102, holder: null, waiters: [] },
  { t: 35, type: 'deadlock', cycle: [{ pid: 101, lock: 'A', holder: 102 }, { pid: 102, lock: 'B', holder: 101 }] },
  { t: 40, type: 'exit', pid: 101, exitcode: 0 },
  { t: 41, type: 'exit', pid: 102, exitcode: -9 },
  { t: 50, type: 'sample', pid: 100, cpu: 12.5, rss: 2 * 1048576 },
  { t: 60, type: 'end', reason: 'stopped', exitcode: null },
];

const slices = (trace: TraceEvent[], name?: string): TraceEvent[] =>
  trace.filter((e) => e.ph === 'X' && (name === undefined || e.name === name)).sort((a, b) => a.ts - b.ts);

/** Fails unless, on every thread, slices nest perfectly (what Perfetto requires). */
function expectNestedPerThread(trace: TraceEvent[]): void {
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of trace) {
    if (e.ph !== 'X') continue;
    const key = `${e.pid}/${e.tid}`;
    byThread.set(key, [...(byThread.get(key) ?? []), e]);
  }
  for (const [thread, list] of byThread) {
    // Outer first: by start, then longest first.
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const stack: TraceEvent[] = [];
    for (const s of list) {
      while (stack.length > 0 && stack[stack.length - 1].ts + (stack[stack.length - 1].dur ?? 0) <= s.ts) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) {
        expect(s.ts + (s.dur ?? 0), `slice "${s.name}" at ${s.ts} on thread ${thread} overlaps "${parent.name}" without nesting`).toBeLessThanOrEqual(
          parent.ts + (parent.dur ?? 0),
        );
      }
      stack.push(s);
    }
  }
}

describe('samplesToCsv', () => {
  it('writes the header and one row per pid per sample, naming each pid', () => {
    const csv = samplesToCsv([
      run,
      { t: 1, type: 'process', pid: 10, ppid: 1, name: 'main', daemon: false },
      { t: 2, type: 'process', pid: 11, ppid: 10, name: 'worker', daemon: false },
      { t: 500, type: 'sample', pid: 10, cpu: 0.5, rss: 1000 },
      { t: 500, type: 'sample', pid: 11, cpu: 99.25, rss: 2000 },
      { t: 600, type: 'output', pid: 11, stream: 'stdout', text: 'ignored' },
      { t: 1000, type: 'sample', pid: 11, cpu: 100, rss: 3000 },
    ]);
    expect(csv).toBe([CSV_HEADER, '500,10,main,0.5,1000', '500,11,worker,99.25,2000', '1000,11,worker,100,3000', ''].join('\r\n'));
    expect(CSV_HEADER).toBe('t_ms,pid,name,cpu_percent,rss_bytes');
  });

  it('quotes names holding commas, quotes or line breaks (RFC 4180)', () => {
    const csv = samplesToCsv([
      run,
      { t: 1, type: 'process', pid: 10, ppid: 1, name: 'a, "b"\nc', daemon: false },
      { t: 2, type: 'sample', pid: 10, cpu: 1, rss: 2 },
    ]);
    expect(csv).toBe(`${CSV_HEADER}\r\n2,10,"a, ""b""\nc",1,2\r\n`);
  });

  it('neutralises names a spreadsheet would run as formulas (OWASP): a leading quote; plain numbers stay numbers', () => {
    const names: [string, string][] = [
      ['=HYPERLINK("http://x.example","go")', `"'=HYPERLINK(""http://x.example"",""go"")"`],
      ['+1+cmd', "'+1+cmd"],
      ['-2+3', "'-2+3"],
      ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
      ['\t=1', "'\t=1"],
      ['\r=1', `"'\r=1"`],
      ['=a,b', `"'=a,b"`],
      // A number is no formula: a spreadsheet reads it as that number, as it would without quote.
      ['-1', '-1'],
      ['+3.5', '+3.5'],
      ['-1e5', '-1e5'],
      ['worker=1', 'worker=1'],
      ['Process-1', 'Process-1'],
    ];
    const events: RunEvent[] = [run];
    names.forEach(([name], i) => {
      events.push({ t: 1, type: 'process', pid: 10 + i, ppid: 1, name, daemon: false });
      // Negative figures cannot come from a log (cpu, rss and pids are >= 0), but t and the
      // numbers are written as numbers whatever they are.
      events.push({ t: 2, type: 'sample', pid: 10 + i, cpu: 1, rss: 2 });
    });
    const rows = samplesToCsv(events).split('\r\n').slice(1, -1);
    expect(rows).toEqual(names.map(([, cell], i) => `2,${10 + i},${cell},1,2`));
  });

  it('leaves the name empty for a pid it never saw start', () => {
    expect(samplesToCsv([{ t: 2, type: 'sample', pid: 10, cpu: 1, rss: 2 }])).toBe(`${CSV_HEADER}\r\n2,10,,1,2\r\n`);
  });
});

describe('exportCsv', () => {
  it('streams the same CSV as samplesToCsv to a file, reporting progress up to 1', async () => {
    const events: RunEvent[] = [run, { t: 1, type: 'process', pid: 10, ppid: 1, name: 'main', daemon: false }];
    for (let i = 1; i <= 20000; i++) events.push({ t: i * 10, type: 'sample', pid: 10, cpu: i % 100, rss: 1e6 + i });
    const log = writeLog('csv.jsonl', events, '{"t":9'); // with a torn tail, which is dropped
    const out = path.join(tmp(), 'out.csv');
    const fractions: number[] = [];
    const { rows, torn } = await exportCsv(log, out, (f) => fractions.push(f));
    expect(rows).toBe(20000);
    expect(torn, 'the torn tail is reported').toEqual({ line: 20003, bytes: 6 });
    expect(fs.readFileSync(out, 'utf8')).toBe(samplesToCsv(events));
    expect(fractions[fractions.length - 1]).toBe(1);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses, in one line, a target in a missing folder, a folder, or a FIFO, and leaves nothing behind', async () => {
    const log = writeLog('ok.jsonl', [run]);
    const missing = path.join(tmp(), 'no', 'such', 'x.csv');
    await expect(exportCsv(log, missing)).rejects.toThrow(new ExportError(`cannot write ${missing}: there is no folder ${path.dirname(missing)}`));
    const folder = path.join(tmp(), 'a-folder');
    fs.mkdirSync(folder);
    await expect(exportCsv(log, folder)).rejects.toThrow(`cannot write ${folder}: it is a folder (name the file to write, e.g. ${path.join(folder, 'run.csv')})`);
    const fifo = path.join(tmp(), 'out-fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(exportTrace(log, fifo)).rejects.toThrow(`cannot write ${fifo}: it is not a regular file`);
    expect(fs.readdirSync(tmp()).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(fs.existsSync(`${folder}.partial`)).toBe(false);
  });

  it('leaves no file behind when the log is corrupt', async () => {
    const log = writeLog('bad.jsonl', [run], 'garbage\n' + JSON.stringify({ t: 1, type: 'sample', pid: 1, cpu: 1, rss: 1 }) + '\n');
    const out = path.join(tmp(), 'bad.csv');
    await expect(exportCsv(log, out)).rejects.toBeInstanceOf(RunLogError);
    expect(fs.readdirSync(tmp()).filter((f) => f.startsWith('bad.csv'))).toEqual([]);
  });
});

describe('toChromeTrace', () => {
  const trace = toChromeTrace(runEvents);
  const te = trace.traceEvents;

  it('survives a JSON round trip in the object form', () => {
    const parsed = JSON.parse(JSON.stringify(trace)) as typeof trace;
    expect(parsed.displayTimeUnit).toBe('ms');
    expect(parsed.traceEvents).toEqual(te);
    // Perfetto only honours displayTimeUnit near the start of the file.
    expect(JSON.stringify(trace).startsWith('{"displayTimeUnit":"ms"')).toBe(true);
  });

  it('names every process "<name> (<pid>)" and sorts them by start order', () => {
    const names = te.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args?.name]);
    expect(names).toEqual([
      [RUN_PID, 'procscope: queues & locks'],
      [100, 'MainProcess (100)'],
      [101, 'Process-1 (101)'],
      [102, 'Process-2 (102)'],
    ]);
    const order = te.filter((e) => e.ph === 'M' && e.name === 'process_sort_index').map((e) => [e.pid, e.args?.sort_index]);
    expect(order).toEqual([
      [RUN_PID, 0],
      [100, 1],
      [101, 2],
      [102, 3],
    ]);
  });

  it('gives each process one lifetime slice from start to exit, or to the end of the run', () => {
    const lifetimes = te.filter((e) => e.ph === 'X' && e.tid === e.pid).sort((a, b) => a.pid - b.pid);
    expect(lifetimes.map((e) => [e.pid, e.name, e.ts, e.dur, e.args])).toEqual([
      [100, 'MainProcess', 1000, 59000, { pid: 100, ppid: 99, daemon: false, exitcode: null }],
      [101, 'Process-1', 5000, 35000, { pid: 101, ppid: 100, daemon: false, exitcode: 0 }],
      [102, 'Process-2', 6000, 35000, { pid: 102, ppid: 100, daemon: true, exitcode: -9 }],
    ]);
  });

  it('draws sequential lock holders as non-overlapping hold slices, and waits before them', () => {
    const holds = slices(te, 'L');
    expect(holds.map((e) => [e.pid, e.ts, e.dur])).toEqual([
      [101, 11500, 8500],
      [102, 20500, 9500],
    ]);
    expect(holds[0].ts + (holds[0].dur ?? 0)).toBeLessThanOrEqual(holds[1].ts);
    const waits = slices(te, 'wait L');
    expect(waits.map((e) => [e.pid, e.ts, e.dur, e.args?.outcome])).toEqual([
      [101, 11000, 500, 'acquired'],
      [102, 12000, 8500, 'acquired'],
    ]);
    // Holds and waits sit on a thread named after the lock, in the holding process.
    for (const s of [...holds, ...waits]) {
      const name = te.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === s.pid && e.tid === s.tid);
      expect(name?.args?.name).toBe('lock L');
      expect(s.tid).not.toBe(s.pid);
    }
    expect(new Set(holds.map((s) => s.tid)).size, 'each process has its own lock thread (unique tids)').toBe(2);
  });

  it('plots queue depth as a counter on the run pseudo process', () => {
    const depth = te.filter((e) => e.ph === 'C' && e.name === 'queue q1');
    expect(depth.map((e) => [e.pid, e.ts, e.args?.depth])).toEqual([
      [RUN_PID, 2000, 0],
      [RUN_PID, 7000, 1],
      [RUN_PID, 8000, 2],
      [RUN_PID, 9000, 1],
    ]);
  });

  it('plots cpu and rss as counters of their process', () => {
    expect(te.filter((e) => e.ph === 'C' && e.pid === 100).map((e) => [e.name, e.ts, e.args])).toEqual([
      ['cpu', 50000, { '%': 12.5 }],
      ['rss', 50000, { MiB: 2 }],
    ]);
  });

  it("plots a Pool worker's finished tasks as a counter of its process", () => {
    const trace = toChromeTrace([
      runStart('pool-map'),
      { t: 1, type: 'process', pid: 300, ppid: 1, name: 'ForkPoolWorker-1', daemon: true },
      { t: 5, type: 'task', pid: 300, done: 1, failed: 0 },
      { t: 9, type: 'task', pid: 300, done: 2, failed: 1 },
    ]).traceEvents;
    expect(trace.filter((e) => e.ph === 'C' && e.name === 'tasks').map((e) => [e.pid, e.ts, e.args])).toEqual([
      [300, 5000, { done: 1, failed: 0 }],
      [300, 9000, { done: 2, failed: 1 }],
    ]);
  });

  it('marks a deadlock with a global instant describing the cycle', () => {
    const dl = te.filter((e) => e.name === 'deadlock');
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ ph: 'i', s: 'g', ts: 35000 });
    expect(dl[0].args?.cycle).toBe('101 waits for A held by 102 → 102 waits for B held by 101');
  });

  it('keeps slices nested on every thread', () => {
    expectNestedPerThread(te);
  });

  it('keeps slices nested even when a process waits for a lock it holds', () => {
    const self = toChromeTrace([
      run,
      { t: 1, type: 'process', pid: 5, ppid: 1, name: 'p', daemon: false },
      { t: 2, type: 'lock', lock: 'M', op: 'acquire', pid: 5, holder: 5, waiters: [] },
      // A second task of the same process asks for M while the first holds it…
      { t: 3, type: 'lock', lock: 'M', op: 'request', pid: 5, holder: 5, waiters: [5] },
      // …the first releases, and the second gets it a little later.
      { t: 4, type: 'lock', lock: 'M', op: 'release', pid: 5, holder: null, waiters: [5] },
      { t: 5, type: 'lock', lock: 'M', op: 'acquire', pid: 5, holder: 5, waiters: [] },
      { t: 6, type: 'exit', pid: 5, exitcode: 0 },
      { t: 7, type: 'lock', lock: 'M', op: 'abandoned', pid: 5, holder: 5, waiters: [] },
    ]).traceEvents;
    expectNestedPerThread(self);
    const waited = slices(self, 'wait M').reduce((sum, s) => sum + (s.dur ?? 0), 0);
    expect(waited, 'the wait is split, not shortened').toBe(2000);
    expect(slices(self, 'M').map((s) => [s.ts, s.dur, s.args?.abandoned])).toEqual([
      [2000, 2000, undefined],
      [5000, 2000, true],
    ]);
  });
});

describe('exportTrace', () => {
  it('streams exactly the trace toChromeTrace builds, as parseable JSON', async () => {
    const log = writeLog('trace.jsonl', runEvents);
    const out = path.join(tmp(), 'trace.json');
    const fractions: number[] = [];
    const { events } = await exportTrace(log, out, (f) => fractions.push(f));
    const parsed = JSON.parse(fs.readFileSync(out, 'utf8')) as unknown;
    expect(parsed).toEqual(toChromeTrace(runEvents));
    expect(events).toBe(toChromeTrace(runEvents).traceEvents.length);
    expect(fractions[fractions.length - 1]).toBe(1);
  });

  it('exports a large log in bounded batches', async () => {
    const events: RunEvent[] = [run, { t: 1, type: 'process', pid: 10, ppid: 1, name: 'main', daemon: false }];
    for (let i = 1; i <= 30000; i++) events.push({ t: i, type: 'queue', queue: 'q', op: i % 2 ? 'put' : 'get', pid: 10, depth: i % 2, maxsize: 0 });
    const log = writeLog('big-trace.jsonl', events);
    const out = path.join(tmp(), 'big-trace.json');
    await exportTrace(log, out);
    const parsed = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: TraceEvent[] };
    expect(parsed.traceEvents.filter((e) => e.ph === 'C')).toHaveLength(30000);
  });

  it('leaves no file behind when the log is not a run log', async () => {
    const log = path.join(tmp(), 'plain.txt');
    fs.writeFileSync(log, 'hello\n');
    const out = path.join(tmp(), 'plain.json');
    await expect(exportTrace(log, out)).rejects.toThrow(/not a procscope run log/);
    expect(fs.existsSync(out) || fs.existsSync(`${out}.partial`)).toBe(false);
  });
});
