// procscope installed as a user installs it: `npm pack` (which builds what it ships, `prepare`),
// then `npm install -g` of the tarball into a fresh prefix, and used from a folder of the user's
// own: a Python program, a TypeScript scenario, the browser shell, and `ui` (no Electron or
// display here: it says so and opens the browser shell). The pack runs in a copy of the sources,
// so that its build never replaces out/ under the other tests running beside it.

import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../helpers/python.ts';

const root = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-install-'));
const prefix = path.join(work, 'prefix');
const userDir = path.join(work, 'my-project');
const bin = path.join(prefix, 'bin', 'procscope');
let tarball = '';

/** The environment of a user's shell: npm's own variables (set when npm runs this test) left out. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  return { ...env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${env.PATH ?? ''}`, PROCSCOPE_HOME: path.join(work, 'home'), ...extra };
}

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', timeout });
}

const said = (r: SpawnSyncReturns<string>) => `exit ${r.status}\n--- stdout\n${r.stdout?.slice(-2000)}\n--- stderr\n${r.stderr?.slice(-2000)}`;

beforeAll(() => {
  // The sources as a clean clone has them (tracked and new files, not what .gitignore keeps out).
  const src = path.join(work, 'src');
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  for (const f of listed.split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(root, f))) continue; // deleted, not committed yet
    fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(src, f));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
  const pack = sh('npm', ['pack', '--pack-destination', work], src);
  if (pack.status !== 0) throw new Error(`npm pack failed: ${said(pack)}`);
  tarball = path.join(work, pack.stdout.trim().split('\n').at(-1) ?? '');
  const install = sh('npm', ['install', '-g', '--prefix', prefix, tarball], work);
  if (install.status !== 0) throw new Error(`npm install -g failed: ${said(install)}`);
  fs.mkdirSync(userDir);
}, 600_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('installed from its tarball (npm pack, npm install -g into a fresh prefix)', () => {
  it('ships what it needs built, and nothing of the development tree', () => {
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'bin/procscope.mjs', 'out/cli/procscope.mjs', 'out/runtime/child.mjs', 'out/renderer/index.html', 'out/main/main.js', 'out/preload/preload.cjs', 'resources/python/sitecustomize.py', 'resources/python/procscope_shim/_client.py', 'resources/python/procscope_shim/_accel.c', 'src-main/presets/python/hello.py', 'src-main/presets/scenarios/hello.ts']) {
      expect(listed, f).toContain(f);
    }
    expect(listed.filter((f) => /^(test|src-renderer|bench|scripts|node_modules|\.tmp)\//.test(f) || f.includes('pyflakes') || f.startsWith('src-main/core')), 'no sources, tests or dependencies').toEqual([]);
  });

  it('procscope presets and --version work from any folder', () => {
    const r = sh(bin, ['presets'], userDir);
    expect(r.status, said(r)).toBe(0);
    expect(r.stdout).toContain('flash-sale');
    expect(sh(bin, ['--version'], userDir).stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });

  it('procscope run script.py: a Python program in the user\'s folder', () => {
    fs.writeFileSync(
      path.join(userDir, 'script.py'),
      ['import multiprocessing as mp', 'def sq(x):', '    return x * x', "if __name__ == '__main__':", '    with mp.Pool(2) as p:', "        print('squares', p.map(sq, range(5)))", ''].join('\n'),
    );
    const r = sh(bin, ['run', 'script.py', '--python', python, '--log', 'py.jsonl'], userDir);
    expect(r.status, said(r)).toBe(0);
    expect(r.stdout).toContain('squares [0, 1, 4, 9, 16]');
    expect(fs.readFileSync(path.join(userDir, 'py.jsonl'), 'utf8')).toContain('"type":"end","reason":"finished","exitcode":0');
  });

  it('procscope run scenario.ts: its `import ... from "procscope"` finds the installed runtime', () => {
    fs.writeFileSync(
      path.join(userDir, 'scenario.ts'),
      [
        "import { Process, Queue } from 'procscope';",
        'export async function child(q: Queue<string>): Promise<void> {',
        "  await q.put('hello from the child');",
        '}',
        'export default async function main(): Promise<void> {',
        '  const q = new Queue<string>();',
        '  const p = new Process({ target: child, args: [q] });',
        '  p.start();',
        '  console.log(await q.get());',
        '  await p.join();',
        '}',
        '',
      ].join('\n'),
    );
    const r = sh(bin, ['run', 'scenario.ts', '--log', 'ts.jsonl'], userDir);
    expect(r.status, said(r)).toBe(0);
    expect(r.stdout).toContain('hello from the child');
  });

  it('procscope serve serves the window; procscope ui, with no Electron and no display, says so and serves it too', async () => {
    for (const args of [['serve'], ['ui']]) {
      const child = spawn(bin, args, { cwd: userDir, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        const look = () => {
          const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
          if (m) resolve(m[0]);
        };
        child.stdout.on('data', look);
        void exited.then(() => reject(new Error(`procscope ${args[0]} exited:\n${out}`)));
      });
      const page = await fetch(url);
      expect(page.status, `procscope ${args[0]}`).toBe(200);
      expect(await page.text()).toContain('<script');
      child.kill('SIGINT');
      expect(await exited, out).toBe(0);
      if (args[0] === 'ui') expect(out).toContain('procscope: no desktop window here (no display (neither DISPLAY nor WAYLAND_DISPLAY is set)): opening the browser shell instead');
    }
  });
});

