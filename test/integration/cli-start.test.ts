import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src-main/core/paths.ts';

// Starting and serving from the command line: a start that fails early leaves nothing behind,
// and `serve --port 0` takes any free port and says which. The real CLI, in its own process.

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-cli-start-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** The CLI with a temporary folder of its own, so whatever it leaves there can be seen. */
function cli(args: string[], onStdout?: (text: string, kill: () => void) => void): Promise<{ code: number | null; stdout: string; stderr: string; tmp: string }> {
  const tmp = path.join(dir, `tmp${++n}`);
  fs.mkdirSync(tmp);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, TMPDIR: tmp, PROCSCOPE_HOME: path.join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    onStdout?.(stdout, () => child.kill('SIGINT'));
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, tmp }));
  });
}

describe('a start that fails early', () => {
  it.each([
    ['an interpreter named with a blank', ['run', 'hello', '--python', ' python3'], 'python must name an interpreter'],
    ['an interpreter that does not exist', ['run', 'hello', '--python', '/no/such/python3'], "cannot start Python interpreter '/no/such/python3'"],
    ['a program file that does not exist', ['run', '/no/such/program.py'], 'scenario file not found'],
  ])('(%s) says why in one line and leaves no folder behind', async (_what, args, why) => {
    const r = await cli(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(why);
    expect(fs.readdirSync(r.tmp), 'nothing of the run is left in the temporary folder').toEqual([]);
  });
});

describe('procscope serve', () => {
  it('--port 0 listens on a free port and prints the address with that port', async () => {
    let answered: number | null = null;
    const r = await cli(['serve', '--port', '0'], (out, stop) => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(out);
      if (!m || answered !== null) return;
      answered = 0;
      void fetch(m[0]).then((res) => {
        answered = Number(m[1]) > 0 ? res.status : -1;
        stop();
      }, stop);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(answered, 'the printed address answers').toBe(200);
  });
});
