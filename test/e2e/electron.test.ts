// The desktop app end to end, in real Electron, driven by Playwright: one window titled procscope,
// sandboxed and without Node, its CSP enforced, the preset list, `hello` run with its processes in
// the table, and no process of a run left once the app has quit.
//
// It needs the Electron binary (and, on Linux, a display). Where either is missing, as on machines
// that install with ELECTRON_SKIP_BINARY_DOWNLOAD, the suite is skipped and says why.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessInfo, ProcscopeApi } from '../../src-main/api.ts';

const root = path.resolve(import.meta.dirname, '../..');

// The few DOM shapes the page-side callbacks touch (the test program has no DOM lib).
interface PageDocument {
  addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string }) => void, options: { once: boolean }): void;
  createElement(tag: 'script'): { src: string };
  head: { append(node: unknown): void };
}

const require = createRequire(path.join(root, 'package.json'));

/** The Electron executable (`require('electron')` answers its path), or why there is none. */
function electronBinary(): { file: string } | { reason: string } {
  try {
    // path.txt is written by electron's installer once the binary is downloaded.
    if (!fs.existsSync(path.join(path.dirname(require.resolve('electron/package.json')), 'path.txt'))) {
      return { reason: 'the Electron binary is absent (npm installed electron without downloading it, e.g. with ELECTRON_SKIP_BINARY_DOWNLOAD=1)' };
    }
    const file = require('electron') as unknown;
    if (typeof file === 'string' && fs.existsSync(file)) return { file };
    return { reason: `the Electron binary is absent (${String(file)} is missing)` };
  } catch (err) {
    return { reason: `the Electron binary is absent (${(err as Error).message.split('\n')[0]})` };
  }
}

function skipReason(): string | null {
  const found = electronBinary();
  if ('reason' in found) return found.reason;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'no display: set DISPLAY (e.g. run under xvfb-run) to run the Electron end-to-end test';
  }
  return null;
}

const reason = skipReason();

if (reason !== null) {
  describe('electron shell (end to end)', () => {
    console.log(`test/e2e/electron.test.ts skipped: ${reason}`);
    it.skip(`skipped because ${reason}`, () => undefined);
  });
} else {
  describe('electron shell (end to end)', () => {
    let app: ElectronApplication;
    let page: Page;
    let home: string;
    let appExited = false;

    beforeAll(async () => {
      for (const args of [['scripts/build-node.mjs'], [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn']]) {
        const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
        if (r.status !== 0) throw new Error(`build step failed: node ${args.join(' ')}`);
      }
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-e2e-'));
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'ELECTRON_RUN_AS_NODE') env[k] = v;
      // Its own runs folder and user data: the test never touches (or is locked out by) a procscope
      // the person has open.
      env.PROCSCOPE_HOME = path.join(home, 'procscope');
      env.PROCSCOPE_USER_DATA = path.join(home, 'user-data');
      const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main?: string };
      app = await electron.launch({
        executablePath: (electronBinary() as { file: string }).file,
        args: [pkg.main ? root : path.join(root, 'out/main/main.js')],
        cwd: root,
        env,
        // Chromium's OS sandbox cannot start as root; everywhere else the test runs with it, as users do.
        chromiumSandbox: process.getuid?.() !== 0,
        timeout: 60_000,
      });
      app.process().once('exit', () => {
        appExited = true;
      });
      page = await app.firstWindow();
      await page.waitForLoadState('domcontentloaded');
    }, 240_000);

    afterAll(async () => {
      if (app && !appExited) await app.close();
      if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    const call = <T>(command: string, args: object = {}): Promise<T> =>
      page.evaluate(
        ([c, a]) => (globalThis as unknown as { procscope: ProcscopeApi }).procscope.call(c as never, a as never) as Promise<unknown>,
        [command, args] as const,
      ) as Promise<T>;

    it('opens one window, titled procscope, with the renderer from disk', async () => {
      const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.getTitle()));
      expect(windows).toEqual(['procscope']);
      expect(await page.title()).toBe('procscope');
      expect(page.url()).toBe(pathToFileURL(path.join(root, 'out/renderer/index.html')).href);
    });

    it('runs the page sandboxed and isolated: no Node, exactly window.procscope.{call,subscribe}', async () => {
      // app.enableSandbox() is the --enable-sandbox switch: every renderer sandboxed.
      expect(await app.evaluate(({ app: electronApp }) => electronApp.commandLine.hasSwitch('enable-sandbox'))).toBe(true);
      // exposeInMainWorld throws without context isolation: the object's presence proves it is on.
      const seen = await page.evaluate(() => {
        const g = globalThis as unknown as Record<string, unknown>;
        return { require: typeof g.require, process: typeof g.process, api: Object.keys((g.procscope as object) ?? {}).sort() };
      });
      expect(seen).toEqual({ require: 'undefined', process: 'undefined', api: ['call', 'subscribe'] });
    });

    it('enforces the CSP header on the file:// page (no eval, no remote script)', async () => {
      const evalResult = await page.evaluate(() => {
        try {
          return String(new Function('return "eval ran"')());
        } catch (err) {
          return (err as Error).name;
        }
      });
      expect(evalResult).toBe('EvalError');
      const violation = await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const doc = (globalThis as unknown as { document: PageDocument }).document;
            doc.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
            const s = doc.createElement('script');
            s.src = 'https://example.com/x.js';
            doc.head.append(s);
            setTimeout(() => resolve('no violation'), 5_000);
          }),
      );
      expect(violation).toMatch(/^script-src/);
    });

    it('answers a bad command with an error, as data turned into a rejection', async () => {
      const message = await page.evaluate(() =>
        (globalThis as unknown as { procscope: ProcscopeApi }).procscope.call('no.such' as never, {} as never).then(
          () => 'resolved',
          (err: Error) => err.message,
        ),
      );
      expect(message).toContain('unknown command');
    });

    it('lists the presets, hello among them', async () => {
      await expect
        .poll(() => page.locator('[data-testid=preset-select] option').evaluateAll((os) => os.map((o) => (o as { value: string }).value)), {
          timeout: 20_000,
        })
        .toContain('hello');
    });

    it('runs hello: its two processes appear in the table and exit with 0', async () => {
      await page.selectOption('[data-testid=preset-select]', 'hello');
      await page.click('[data-testid=start-button]');
      const rows = page.locator('[data-testid=process-row]');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      await expect
        .poll(() => rows.evaluateAll((rs) => rs.map((r) => (r as { dataset: Record<string, string> }).dataset.exitcode)), { timeout: 30_000 })
        .toEqual(['0', '0']);
      const pids = await rows.evaluateAll((rs) => rs.map((r) => Number((r as { dataset: Record<string, string> }).dataset.pid)));
      expect(pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
    });

    it('quitting the app ends every process of a running run', async () => {
      const scenario = path.join(home, 'sleeper.ts');
      fs.writeFileSync(
        scenario,
        [
          "import { Process } from 'procscope';",
          'export async function sleeper(): Promise<void> {',
          '  await new Promise(() => setInterval(() => undefined, 1000));',
          '}',
          'export default async function main(): Promise<void> {',
          '  const p = new Process({ target: sleeper });',
          '  p.start();',
          '  await p.join();',
          '}',
          '',
        ].join('\n'),
      );
      await call('run.start', { scenario });
      let pids: number[] = [];
      await expect
        .poll(
          async () => {
            pids = (await call<ProcessInfo[]>('process.list')).filter((p) => p.state === 'running' && p.pid !== null).map((p) => p.pid as number);
            return pids.length;
          },
          { timeout: 30_000 },
        )
        .toBeGreaterThanOrEqual(2);
      await app.close();
      appExited = true;
      const alive = pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      });
      expect(alive, 'processes of the run still alive after the app quit').toEqual([]);
    });
  });
}
