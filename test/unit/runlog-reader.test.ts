import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLog, parseRunLogText, RunLogError } from '../../src-main/core/runlog/reader.ts';
import type { TornTail } from '../../src-main/core/runlog/reader.ts';
import { LOG_VERSION } from '../../src-main/api.ts';
import type { RunEvent } from '../../src-main/api.ts';
import { runStart, scratchDir } from '../helpers/runlog-fixtures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const tmp = scratchDir('procscope-reader-');
const run = runStart('reader-test');
const sample = (i: number): RunEvent => ({ t: i, type: 'sample', pid: 7, cpu: 3, rss: 1000 + i });
const lines = (events: RunEvent[]): string => events.map((e) => JSON.stringify(e) + '\n').join('');

function write(name: string, text: string | Buffer): string {
  const file = path.join(tmp(), name);
  fs.writeFileSync(file, text);
  return file;
}

async function readAll(file: string): Promise<{ events: RunEvent[]; torn: TornTail | null }> {
  const events: RunEvent[] = [];
  let torn: TornTail | null = null;
  for await (const e of readRunLog(file, { onTornTail: (t) => (torn = t) })) events.push(e);
  return { events, torn };
}

/** Runs `fn` and returns the RunLogError it throws (failing if it throws anything else or nothing). */
async function runLogError(fn: () => Promise<unknown> | unknown): Promise<RunLogError> {
  try {
    await fn();
  } catch (err) {
    expect(err, `expected a RunLogError, got ${String(err)}`).toBeInstanceOf(RunLogError);
    return err as RunLogError;
  }
  throw new Error('expected a RunLogError, but reading succeeded');
}

describe('readRunLog', () => {
  const events = [run, sample(1), sample(2), sample(3)];

  it('yields every event of a well-formed log, in order', async () => {
    const file = write('good.jsonl', lines(events));
    const { events: got, torn } = await readAll(file);
    expect(got).toEqual(events);
    expect(torn).toBeNull();
  });

  it('a torn last line loses nothing before it', async () => {
    const file = write('torn.jsonl', lines(events) + '{"t":4,"type":"sample","pid":7,"cp');
    const { events: got, torn } = await readAll(file);
    expect(got).toEqual(events);
    expect(torn).toEqual({ line: 5, length: 34 });
  });

  it('drops a last line without its newline even if it parses (its write did not finish)', async () => {
    const file = write('no-newline.jsonl', lines(events) + JSON.stringify(sample(4)));
    const { events: got, torn } = await readAll(file);
    expect(got).toEqual(events);
    expect(torn?.line).toBe(5);
  });

  it('treats a complete but unparsable last line (zero bytes after a crash) as a torn tail', async () => {
    const file = write('zeros.jsonl', Buffer.concat([Buffer.from(lines(events)), Buffer.alloc(40), Buffer.from('\n')]));
    const { events: got, torn } = await readAll(file);
    expect(got).toEqual(events);
    expect(torn?.line).toBe(5);
  });

  it('rejects a corrupt middle line, naming its line number', async () => {
    const file = write('corrupt.jsonl', lines([run, sample(1)]) + '{"t":2,"type":"sample",!!\n' + lines([sample(3)]));
    const err = await runLogError(() => readAll(file));
    expect(err.message).toBe(`corrupt run log ${file}: line 3: not valid JSON`);
    expect(err.line).toBe(3);
  });

  it('rejects a middle line that is JSON but not a valid event, saying what is wrong', async () => {
    const bad = { t: 5, type: 'queue', queue: 'q', op: 'put', pid: 7, depth: 'one', maxsize: 0 };
    const text = lines([run, sample(1)]) + JSON.stringify(bad) + '\n' + lines([sample(3)]);
    const file = write('malformed.jsonl', text);
    const err = await runLogError(() => readAll(file));
    expect(err.message).toBe(`corrupt run log ${file}: line 3: malformed "queue" event`);
  });

  it('rejects an invalid last line that is complete JSON: that is damage, not a torn write', async () => {
    const file = write('bad-last.jsonl', lines([run]) + '{"t":1,"type":"nonsense"}\n');
    const err = await runLogError(() => readAll(file));
    expect(err.message).toBe(`corrupt run log ${file}: line 2: unknown type "nonsense"`);
  });

  it('rejects a file that is not a run log', async () => {
    const csv = write('not-a-log.csv', 't_ms,pid,name\n1,2,x\n');
    expect((await runLogError(() => readAll(csv))).message).toBe(
      `cannot read run log ${csv}: line 1: not a procscope run log (first line must be a "run" event)`,
    );
    const json = write('other.jsonl', lines([sample(1), sample(2)]));
    expect((await runLogError(() => readAll(json))).message).toMatch(/line 1: not a procscope run log/);
  });

  it('rejects an empty file', async () => {
    const file = write('empty.jsonl', '');
    expect((await runLogError(() => readAll(file))).message).toMatch(/line 1: not a procscope run log/);
  });

  it('rejects a log written in another format version', async () => {
    const file = write('future.jsonl', lines([{ ...run, version: LOG_VERSION + 1 } as RunEvent]));
    expect((await runLogError(() => readAll(file))).message).toMatch(/line 1: log format version 2, this procscope reads version 1/);
  });

  it('reports a missing file as such', async () => {
    const file = path.join(tmp(), 'nope.jsonl');
    const err = await runLogError(() => readAll(file));
    expect(err.message).toBe(`cannot read run log ${file}: no such file`);
    expect(err.line).toBeNull();
  });

  it('streams a log larger than its read chunks, reporting progress up to 1', async () => {
    const many: RunEvent[] = [run];
    // Long output lines make lines straddle the 1 MiB chunk boundaries.
    for (let i = 1; i <= 3000; i++) many.push({ t: i, type: 'output', pid: 7, stream: 'stderr', text: `é${'x'.repeat(i % 1500)}` });
    const file = write('big.jsonl', lines(many));
    const fractions: number[] = [];
    let count = 0;
    let last: RunEvent | undefined;
    for await (const e of readRunLog(file, { onProgress: (f) => fractions.push(f) })) {
      count++;
      last = e;
    }
    expect(count).toBe(many.length);
    expect(last).toEqual(many[many.length - 1]);
    expect(fractions.length).toBeGreaterThan(1);
    expect(fractions[fractions.length - 1]).toBe(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  });

  it('lets a consumer stop early and read the file again', async () => {
    const file = write('early.jsonl', lines(events));
    for await (const e of readRunLog(file)) {
      expect(e.type).toBe('run');
      break;
    }
    expect((await readAll(file)).events).toEqual(events);
  });
});

describe('parseRunLogText', () => {
  it('applies the same torn-tail rule as the streaming reader', () => {
    const text = lines([run, sample(1)]) + '{"t":2,';
    expect(parseRunLogText(text)).toEqual({ events: [run, sample(1)], tornTail: true });
    expect(parseRunLogText(lines([run, sample(1)]))).toEqual({ events: [run, sample(1)], tornTail: false });
  });

  it('names the line of a corrupt middle line', () => {
    const text = lines([run]) + 'garbage\n' + lines([sample(2)]);
    expect(() => parseRunLogText(text, 'x.jsonl')).toThrow('corrupt run log x.jsonl: line 2: not valid JSON');
  });

  it('accepts the example log in docs/run-log.md', () => {
    const doc = fs.readFileSync(path.resolve(here, '../../docs/run-log.md'), 'utf8');
    const block = /```jsonl\n([\s\S]*?)```/.exec(doc);
    expect(block, 'docs/run-log.md must contain a ```jsonl example').not.toBeNull();
    const { events, tornTail } = parseRunLogText(block![1], 'docs/run-log.md');
    expect(tornTail).toBe(false);
    expect(events[0].type).toBe('run');
    expect(events[events.length - 1].type).toBe('end');
  });
});
