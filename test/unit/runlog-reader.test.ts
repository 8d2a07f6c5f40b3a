import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunLog, parseRunLogText, RunLogError } from '../../src-main/core/runlog/reader.ts';
import type { TornTail } from '../../src-main/core/runlog/reader.ts';
import { tornTailBytes } from '../../src-main/core/runlog/torn-tail.ts';
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
    expect(torn, 'the dropped line, and its size in bytes').toEqual({ line: 5, bytes: 34 });
  });

  it('counts a torn tail in bytes, multi-byte characters and all', async () => {
    const tail = '{"t":4,"type":"output","pid":7,"stream":"stdout","text":"héllo 世界 😀';
    const file = write('torn-utf8.jsonl', lines(events) + tail);
    const { events: got, torn } = await readAll(file);
    expect(got).toEqual(events);
    expect(torn).toEqual({ line: 5, bytes: Buffer.byteLength(tail) });
    expect(torn).not.toEqual({ line: 5, bytes: tail.length });
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
    expect(torn, 'the 40 zero bytes and their newline').toEqual({ line: 5, bytes: 41 });
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

  it('refuses a FIFO at once instead of waiting for a writer, and a folder', async () => {
    const fifo = path.join(tmp(), 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const err = await runLogError(() => readAll(fifo));
    expect(err.message).toBe(`cannot read run log ${fifo}: not a regular file (a FIFO)`);
    expect((await runLogError(() => readAll(tmp()))).message).toBe(`cannot read run log ${tmp()}: is a directory`);
  });

  it('reads lines longer than its chunks whole, with characters cut between chunks', async () => {
    // 3 MiB of text whose multi-byte characters land across the reader's 1 MiB chunk boundaries.
    const text = ('é😀世'.repeat(7) + 'x').repeat(100_000);
    const long: RunEvent = { t: 4, type: 'output', pid: 7, stream: 'stdout', text };
    const bytes = Buffer.from(lines([run, long, sample(5)]) + JSON.stringify(sample(6)).slice(0, 10));
    // A byte 0b10xxxxxx continues a character: a chunk boundary there cuts one in two.
    const cut = [1, 2, 3, 4, 5, 6].filter((mib) => (bytes[mib * 1024 * 1024] & 0xc0) === 0x80);
    expect(cut.length, 'some 1 MiB boundary falls inside a character').toBeGreaterThan(0);
    const file = write('long.jsonl', bytes);
    const { events: got, torn } = await readAll(file);
    expect(got.length).toBe(3);
    expect(got[1]).toEqual(long);
    expect(torn).toEqual({ line: 4, bytes: 10 });
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

describe('tornTailBytes (what a list of runs shows, from the end of the file only)', () => {
  const events = [run, sample(1), sample(2)];
  const long = JSON.stringify({ t: 3, type: 'output', pid: 7, stream: 'stdout', text: 'é'.repeat(100_000) });
  const cases: [string, string | Buffer][] = [
    ['whole', lines(events)],
    ['unterminated', lines(events) + '{"t":3,"type":"sam'],
    ['unterminated but parses', lines(events) + JSON.stringify(sample(3))],
    ['zeros and a newline', Buffer.concat([Buffer.from(lines(events)), Buffer.alloc(40), Buffer.from('\n')])],
    ['a long torn line', lines(events) + long.slice(0, -3)],
    ['a long whole line', lines(events) + long + '\n'],
    ['a long line of zeros', Buffer.concat([Buffer.from(lines(events)), Buffer.alloc(200_000), Buffer.from('\n')])],
  ];
  for (const [name, text] of cases) {
    it(`agrees with the reader: ${name}`, async () => {
      const file = write(`tail-${name.replace(/ /g, '-')}.jsonl`, text);
      const { torn } = await readAll(file);
      const handle = await fs.promises.open(file, 'r');
      try {
        expect(await tornTailBytes(handle, (await handle.stat()).size)).toBe((torn as TornTail | null)?.bytes ?? 0);
      } finally {
        await handle.close();
      }
    });
  }
});
