import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { RunLogWriter } from '../../src-main/core/runlog/writer.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import type { LockEvent, QueueEvent, RunEvent } from '../../src-main/api.ts';
import { runStart, scratchDir } from '../helpers/runlog-fixtures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const writerSource = path.resolve(here, '../../src-main/core/runlog/writer.ts');

const tmp = scratchDir('procscope-writer-');
const runEvent = runStart('writer-test');

const sample = (i: number): RunEvent => ({ t: i, type: 'sample', pid: 100, cpu: 1.5, rss: i });

/** Resolves after the immediates queued before it ran: the end of the current turn. */
const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RunLogWriter', () => {
  it('writes each event as exactly one JSON line, in order', async () => {
    const file = path.join(tmp(), 'lines.jsonl');
    const w = RunLogWriter.open(file);
    const events: RunEvent[] = [
      runEvent,
      { t: 1, type: 'output', pid: 100, stream: 'stdout', text: 'a line with\nan embedded newline and "quotes"' },
      { t: 2, type: 'lock', lock: 'L', op: 'acquire', pid: 100, holder: 100, waiters: [] },
      { t: 3, type: 'end', reason: 'finished', exitcode: 0 },
    ];
    for (const e of events) w.append(e);
    w.close();
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n'), 'the last line must end with a newline').toBe(true);
    const lines = text.split('\n').slice(0, -1);
    expect(lines).toHaveLength(events.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
  });

  it('creates missing parent directories', () => {
    const file = path.join(tmp(), 'deep', 'er', 'run.jsonl');
    const w = RunLogWriter.open(file);
    w.append(runEvent);
    w.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(JSON.stringify(runEvent) + '\n');
  });

  it('creates the log 0600, the folders it makes 0700, and makes procscope\'s runs folder 0700', () => {
    const file = path.join(tmp(), 'private', 'nested', 'run.jsonl');
    RunLogWriter.open(file).close();
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(file).toString(8), 'the log: its owner only').toBe('600');
    expect(mode(path.dirname(file)).toString(8)).toBe('700');
    expect(mode(path.join(tmp(), 'private')).toString(8)).toBe('700');

    // The default runs folder ($PROCSCOPE_HOME/runs), made 0755 by an older procscope.
    const home = path.join(tmp(), 'home');
    fs.mkdirSync(path.join(home, 'runs'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(home, 'runs'), 0o755);
    const saved = process.env.PROCSCOPE_HOME;
    process.env.PROCSCOPE_HOME = home;
    try {
      RunLogWriter.open(path.join(home, 'runs', 'r.jsonl')).close();
    } finally {
      if (saved === undefined) delete process.env.PROCSCOPE_HOME;
      else process.env.PROCSCOPE_HOME = saved;
    }
    expect(mode(path.join(home, 'runs')).toString(8), 'the runs folder').toBe('700');
    expect(mode(path.join(home, 'runs', 'r.jsonl')).toString(8)).toBe('600');

    // A folder of the user's that only happens to hold a --log file is left as it is.
    const mine = path.join(tmp(), 'mine');
    fs.mkdirSync(mine, { mode: 0o755 });
    fs.chmodSync(mine, 0o755);
    RunLogWriter.open(path.join(mine, 'run.jsonl')).close();
    expect(mode(mine).toString(8)).toBe('755');
    expect(mode(path.join(mine, 'run.jsonl')).toString(8)).toBe('600');
  });

  it('appends to an existing file instead of truncating it', () => {
    const file = path.join(tmp(), 'append.jsonl');
    fs.writeFileSync(file, JSON.stringify(runEvent) + '\n');
    const w = RunLogWriter.open(file);
    w.append(sample(1));
    w.close();
    expect(parseRunLogText(fs.readFileSync(file, 'utf8')).events).toEqual([runEvent, sample(1)]);
  });

  it('batches the appends of one turn into a write at the end of the turn', async () => {
    const file = path.join(tmp(), 'turn.jsonl');
    const w = RunLogWriter.open(file);
    w.append(runEvent);
    for (let i = 1; i <= 100; i++) w.append(sample(i));
    expect(fs.statSync(file).size, 'nothing is written before the turn ends').toBe(0);
    await turnEnd();
    const { events, tornTail } = parseRunLogText(fs.readFileSync(file, 'utf8'));
    expect(tornTail).toBe(false);
    expect(events).toHaveLength(101);
    w.close();
  });

  it('writes at once when a turn buffers more than ~256 KiB', () => {
    const file = path.join(tmp(), 'big-turn.jsonl');
    const w = RunLogWriter.open(file);
    w.append(runEvent);
    const text = 'x'.repeat(1024);
    for (let i = 1; i <= 300; i++) w.append({ t: i, type: 'output', pid: 1, stream: 'stdout', text });
    // Still in the same turn: the size threshold, not the turn end, caused this write.
    expect(fs.statSync(file).size).toBeGreaterThanOrEqual(256 * 1024);
    w.close();
    expect(parseRunLogText(fs.readFileSync(file, 'utf8')).events).toHaveLength(301);
  });

  it('flushes on close, and close is idempotent', () => {
    const file = path.join(tmp(), 'close.jsonl');
    const w = RunLogWriter.open(file);
    w.append(runEvent);
    w.append(sample(1));
    w.close();
    w.close();
    expect(w.closed).toBe(true);
    expect(parseRunLogText(fs.readFileSync(file, 'utf8')).events).toEqual([runEvent, sample(1)]);
  });

  it('refuses appends after close with an error naming the file', () => {
    const file = path.join(tmp(), 'after-close.jsonl');
    const w = RunLogWriter.open(file);
    w.close();
    expect(() => w.append(runEvent)).toThrow(/is closed/);
    expect(() => w.append(runEvent)).toThrow(file);
  });

  it('a SIGKILLed monitor loses nothing it had flushed', async () => {
    // The child runs the real writer, bundled from the TS source, and appends in a loop. It
    // reports a count once that many events are known to be flushed: the writer's end-of-turn
    // flush was queued before the child's next-turn callback, so it has run by then.
    const writerJs = path.join(tmp(), 'writer.mjs');
    buildSync({ entryPoints: [writerSource], bundle: true, platform: 'node', format: 'esm', outfile: writerJs, logLevel: 'silent' });
    const script = path.join(tmp(), 'kill-child.mjs');
    fs.writeFileSync(
      script,
      `import { RunLogWriter } from './writer.mjs';
const w = RunLogWriter.open(process.argv[2]);
w.append(${JSON.stringify(runEvent)});
let appended = 1;
let reported = false;
function turn() {
  const flushed = appended;
  if (!reported && flushed > 20000) {
    reported = true;
    process.stdout.write('flushed ' + flushed + '\\n');
  }
  // 5000 lines (~350 KiB) per turn: some flushes come from the size threshold mid-turn.
  for (let i = 0; i < 5000; i++) {
    w.append({ t: appended, type: 'sample', pid: process.pid, cpu: 12.5, rss: appended });
    appended++;
  }
  setImmediate(turn);
}
turn();
`,
    );
    const logFile = path.join(tmp(), 'killed.jsonl');
    const child = spawn(process.execPath, [script, logFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    let flushed = -1;
    try {
      flushed = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const m = /flushed (\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code, signal) => reject(new Error(`child exited early (code ${code}, signal ${signal}) before reporting`)));
      });
    } finally {
      child.kill('SIGKILL');
    }
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');

    const { events } = parseRunLogText(fs.readFileSync(logFile, 'utf8'), logFile);
    expect(events.length, `the log must hold at least the ${flushed} events flushed before the kill`).toBeGreaterThanOrEqual(flushed);
    expect(events[0]).toEqual(runEvent);
    // Nothing before the tail is lost: the samples are exactly 1..n, in order, with no gap.
    const firstGap = events.slice(1).findIndex((e, i) => !(e.type === 'sample' && e.rss === i + 1));
    expect(firstGap, 'samples must run 1..n in order with no gap').toBe(-1);
  });
});

/** The lines a new log holds once `events` are appended and it is closed. */
function linesWritten(events: RunEvent[]): string[] {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-lines-')), 'e.jsonl');
  const w = RunLogWriter.open(file);
  for (const e of events) w.append(e);
  w.close();
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n');
}

describe('RunLogWriter: queue lines', () => {
  it('writes a queue event exactly as JSON.stringify would (the hand-written fast path)', () => {
    const events: QueueEvent[] = [
      { t: 1.234, type: 'queue', queue: 'queue-12-1', op: 'put', pid: 12, depth: 3, maxsize: 0 },
      { t: 0, type: 'queue', queue: 'a"b\\c', op: 'get', pid: 7, depth: 0, maxsize: 5 },
      // A blocked get's wait keeps its side and who waits (the fast path has no room for them).
      { t: 2, type: 'queue', queue: 'queue-12-1', op: 'wait', pid: 7, depth: 0, maxsize: 0, side: 'get', getters: [9, 7], putters: [] },
    ];
    expect(linesWritten(events)).toEqual(events.map((e) => JSON.stringify(e)));
  });

  it("writes every stamp as JSON.stringify would: whole µs by a table, any other number by String's own", () => {
    const stamps = [0, 0.001, 0.01, 0.1, 0.5, 1, 12.5, 99.999, 1000.001, 1234.56, 86_400_000.123, 3_600_000_000.5];
    // Not rounded to µs, negative, past 2^52 µs: the general path.
    stamps.push(1.23456789, 1e-7, -1.5, -0.001, 2 ** 53, 1e21, 123.4565);
    for (let i = 0; i < 2000; i++) stamps.push(Math.round(i * 7919.123) / 1000, (i * 104729) / 1000);
    const events: QueueEvent[] = stamps.map((t) => ({ t, type: 'queue', queue: `queue-${Math.floor(t) % 7}-1`, op: 'put', pid: 1, depth: 0, maxsize: 0 }));
    expect(linesWritten(events)).toEqual(events.map((e) => JSON.stringify(e)));
  });
});

describe('RunLogWriter: lock lines', () => {
  it('writes a lock or semaphore event exactly as JSON.stringify would (the hand-written fast path)', () => {
    const events: LockEvent[] = [
      { t: 1.234, type: 'lock', lock: 'lock-12-1', op: 'request', pid: 12, holder: 7, waiters: [9, 12] },
      { t: 2, type: 'lock', lock: 'a"b\\c', op: 'release', pid: 7, holder: null, waiters: [] },
      { t: 3.5, type: 'lock', lock: 'semaphore-12-2', op: 'acquire', pid: 9, holder: 7, waiters: [], holders: [7, 9], value: 0 },
      // Keys only some events have go through JSON.stringify.
      { t: 4, type: 'lock', lock: 'semaphore-12-2', op: 'create', pid: 12, holder: null, waiters: [], kind: 'semaphore', capacity: 2, holders: [], value: 2 },
      { t: 5, type: 'lock', lock: 'lock-12-1', op: 'request', pid: 12, holder: 7, waiters: [12], timed: true },
      { t: 6, type: 'lock', lock: 'lock-12-1', op: 'error', pid: 12, holder: null, waiters: [], error: 'ValueError: semaphore or lock released too many times' },
    ];
    expect(linesWritten(events)).toEqual(events.map((e) => JSON.stringify(e)));
  });
});
