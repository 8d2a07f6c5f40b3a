// `procscope export` given bad input, through the real CLI (bin/procscope.mjs) in its own process:
// one clear line on stderr, the right exit code, and no half-written file left behind.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_VERSION } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-cli-export-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneLine(r: Result, exact: string): void {
  expect(r.stderr, 'one line on stderr').toBe(`procscope: ${exact}\n`);
  expect(r.code, 'a failure exit code').toBe(1);
}

const LOG_LINES = [
  { t: 0, type: 'run', version: LOG_VERSION, scenario: 'hello', startedAt: '2025-03-01T09:30:00.000Z', interval: 500, cwd: '/tmp' },
  { t: 2, type: 'process', pid: 41200, ppid: 41187, name: 'MainProcess', daemon: false },
  { t: 500, type: 'sample', pid: 41200, cpu: 3.1, rss: 48230400 },
].map((e) => `${JSON.stringify(e)}\n`);

function log(name: string, tail = ''): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, LOG_LINES.join('') + tail);
  return file;
}

const partials = () => fs.readdirSync(dir).filter((f) => f.endsWith('.partial'));

describe('procscope export: bad input is one clear line', () => {
  it('-o into a folder that does not exist', async () => {
    const out = path.join(dir, 'missing', 'dir', 'x.csv');
    expectOneLine(await cli('export', log('a.jsonl'), '--format', 'csv', '-o', out), `cannot write ${out}: there is no folder ${path.dirname(out)}`);
  });

  it('-o naming a folder', async () => {
    const out = path.join(dir, 'folder');
    fs.mkdirSync(out);
    const r = await cli('export', log('b.jsonl'), '--format', 'trace', '-o', out);
    expectOneLine(r, `cannot write ${out}: it is a folder (name the file to write, e.g. ${path.join(out, 'run.csv')})`);
    expect(partials(), 'nothing half-written').toEqual([]);
  });

  it('exporting FROM a FIFO is refused at once (it used to wait for a writer forever)', async () => {
    const fifo = path.join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    const out = path.join(dir, 'from-fifo.csv');
    expectOneLine(await cli('export', fifo, '--format', 'csv', '-o', out), `cannot read run log ${fifo}: not a regular file (a FIFO)`);
    expect(fs.existsSync(out)).toBe(false);
    expect(partials()).toEqual([]);
  });

  it('a torn last line: the export is written, exit 0, and one line on stderr says how much was dropped', async () => {
    const tail = '{"t":600,"type":"sample","pid":41200,"cpu":2.';
    const source = log('torn.jsonl', tail);
    const out = path.join(dir, 'torn.csv');
    const r = await cli('export', source, '--format', 'csv', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${out} (1 rows)\n`);
    expect(r.stderr).toBe(
      `procscope: ${source}: its last line (line 4) was torn and is left out: ${Buffer.byteLength(tail)} bytes dropped (the monitor stopped in the middle of writing it)\n`,
    );
    expect(fs.readFileSync(out, 'utf8').split('\r\n')).toEqual(['t_ms,pid,name,cpu_percent,rss_bytes', '500,41200,MainProcess,3.1,48230400', '']);
  });

  it('a whole log: nothing on stderr, and the export is readable by its owner only, as the log', async () => {
    const out = path.join(dir, 'whole.csv');
    const r = await cli('export', log('whole.jsonl'), '--format', 'csv', '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect((fs.statSync(out).mode & 0o777).toString(8)).toBe('600');
  });
});

describe('procscope export interrupted', () => {
  /** A log long enough to take a while to export (300,000 samples, some 25 MB). */
  function bigLog(): string {
    const file = path.join(dir, 'big.jsonl');
    if (fs.existsSync(file)) return file;
    const parts = LOG_LINES.slice(0, 2);
    for (let i = 0; i < 300_000; i++) parts.push(`{"t":${i},"type":"sample","pid":41200,"cpu":3.1,"rss":48230400,"cpuTime":${i / 1000}}\n`);
    fs.writeFileSync(file, parts.join(''));
    return file;
  }

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`by ${signal} leaves no .partial and no export, and exits ${code}`, async () => {
      const out = path.join(dir, `interrupted-${signal}.csv`);
      const child = spawn(process.execPath, [BIN, 'export', bigLog(), '--format', 'csv', '-o', out], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const closed = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
      // The partial file is the export under way (polled: a file appearing has no event to wait on).
      let underWay = false;
      for (const deadline = performance.now() + 20_000; !underWay && performance.now() < deadline && child.exitCode === null; ) {
        underWay = fs.existsSync(`${out}.partial`);
        if (!underWay) await new Promise((r) => setTimeout(r, 2));
      }
      expect(underWay, 'the export was under way when it was interrupted').toBe(true);
      child.kill(signal);
      expect(await closed).toBe(code);
      expect(fs.existsSync(`${out}.partial`), 'no partial file').toBe(false);
      expect(fs.existsSync(out), 'no export').toBe(false);
    });
  }
});
