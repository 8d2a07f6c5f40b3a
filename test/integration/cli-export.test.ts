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

  it('a whole log: nothing on stderr', async () => {
    const r = await cli('export', log('whole.jsonl'), '--format', 'csv', '-o', path.join(dir, 'whole.csv'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
