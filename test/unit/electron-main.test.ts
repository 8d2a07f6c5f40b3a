// src-main/electron/main.ts's wiring, run against a recording stand-in for Electron
// (test/helpers/fake-electron.ts) and for the engine: who may call, what a call answers, where
// pushes go, what the window may navigate to or open, which permissions it gets, its CSP header,
// and that quitting waits for the engine to stop the run. The real Electron runs these paths in
// test/e2e/electron.test.ts where its binary exists.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { PushMessage } from '../../src-main/api.ts';
import type { FakeBrowserWindow, FakeFrame, FakeWebContents } from '../helpers/fake-electron.ts';

vi.mock('electron', async () => (await import('../helpers/fake-electron.ts')).electron);

// main.ts refuses to start without the built renderer; here the renderer "exists" where main.ts,
// run from source, looks for it (src-main/renderer/index.html), and nothing is read from it.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const existsSync = (p: import('node:fs').PathLike) => /src-main[\\/]renderer[\\/]index\.html$/.test(String(p)) || actual.existsSync(p);
  return { ...actual, existsSync, default: { ...actual, existsSync } };
});

interface BackendOptions {
  shell: string;
  pickScenario?: () => Promise<string | null>;
  saveExport?: (suggestedName: string, tempPath: string) => Promise<{ savedTo?: string; cancelled?: boolean }>;
}

const engine = vi.hoisted(() => ({
  options: null as BackendOptions | null,
  listeners: [] as ((m: PushMessage) => void)[],
  calls: [] as { command: string; args: unknown; requester: unknown }[],
  disposed: 0,
  releaseDispose: null as (() => void) | null,
}));

vi.mock('../../src-main/core/backend.ts', () => ({
  Backend: class {
    constructor(options: BackendOptions) {
      engine.options = options;
    }
    subscribe(listener: (m: PushMessage) => void) {
      engine.listeners.push(listener);
      return () => {
        engine.listeners = engine.listeners.filter((l) => l !== listener);
      };
    }
    async handle(command: string, args: unknown, requester: unknown) {
      engine.calls.push({ command, args, requester });
      if (command === 'run.stop') {
        const err = new Error('there is no run: start one first');
        err.name = 'CommandError';
        throw err;
      }
      return { answered: command };
    }
    dispose() {
      engine.disposed++;
      return new Promise<void>((resolve) => {
        engine.releaseDispose = resolve;
      });
    }
  },
}));

const fake = await import('../helpers/fake-electron.ts');
const { state } = fake;
const mainSource = path.resolve(import.meta.dirname, '../../src-main/electron/main.ts');
const rendererFile = path.resolve(path.dirname(mainSource), '../renderer/index.html');
const rendererUrl = pathToFileURL(rendererFile).href;

let win: FakeBrowserWindow;
let contents: FakeWebContents;

beforeAll(async () => {
  await import('../../src-main/electron/main.ts');
  // start() runs once `whenReady` resolves.
  await vi.waitFor(() => expect(state.windows).toHaveLength(1));
  win = state.windows[0];
  contents = win.webContents;
});

type Reply = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

function callFrom(sender: FakeWebContents, frame: FakeFrame | null, command: unknown, args: unknown): Promise<Reply> {
  const handler = state.handlers.get('procscope:call');
  if (!handler) throw new Error('no handler registered for procscope:call');
  return Promise.resolve(handler({ sender, senderFrame: frame }, command, args)) as Promise<Reply>;
}

describe('the window', () => {
  it('is one sandboxed, isolated window without Node, showing the renderer from disk', () => {
    expect(state.sandboxEnabled).toBe(true);
    expect(win.options).toMatchObject({ width: 1280, height: 820, minWidth: 1024, minHeight: 700, title: 'procscope' });
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      preload: path.resolve(path.dirname(mainSource), '../preload/preload.cjs'),
    });
    expect(win.loadedFile).toBe(rendererFile);
  });

  it('takes its background from the dark/light setting, and follows it', () => {
    expect(win.background).toBe('#16181d');
    fake.nativeTheme.shouldUseDarkColors = false;
    fake.nativeTheme.emit('updated');
    expect(win.background).toBe('#ffffff');
  });
});

describe('IPC: procscope:call', () => {
  it('runs a valid command from our page and answers { ok, result }', async () => {
    const reply = await callFrom(contents, contents.mainFrame, 'presets.list', {});
    expect(reply).toEqual({ ok: true, result: { answered: 'presets.list' } });
    const last = engine.calls.at(-1);
    expect(last?.command).toBe('presets.list');
    // The requester is the push listener this window subscribed with: replays come back to it.
    expect(engine.listeners).toContain(last?.requester);
  });

  it('answers an engine error as data: its name and message', async () => {
    expect(await callFrom(contents, contents.mainFrame, 'run.stop', {})).toEqual({
      ok: false,
      error: { name: 'CommandError', message: 'there is no run: start one first' },
    });
  });

  it('refuses unknown commands and bad arguments before the engine sees them', async () => {
    const before = engine.calls.length;
    const unknown = await callFrom(contents, contents.mainFrame, 'fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { name: 'TypeError' } });
    expect(!unknown.ok && unknown.error.message).toContain('unknown command');
    const bad = await callFrom(contents, contents.mainFrame, 'process.kill', { target: { pid: -1 } });
    expect(bad).toMatchObject({ ok: false, error: { name: 'TypeError', message: 'process.kill: invalid arguments' } });
    expect(engine.calls.length).toBe(before);
  });

  it('refuses a subframe, another window, a detached or missing frame, and our window once it shows another page', async () => {
    const before = engine.calls.length;
    const other = new fake.FakeWebContents();
    other.mainFrame.url = rendererUrl;
    const refusals = [
      await callFrom(contents, contents.subFrame(rendererUrl), 'presets.list', {}),
      await callFrom(other, other.mainFrame, 'presets.list', {}),
      await callFrom(contents, null, 'presets.list', {}),
      await callFrom(contents, { ...contents.mainFrame, detached: true }, 'presets.list', {}),
      await callFrom(contents, { ...contents.mainFrame, frameToken: 'another-document' }, 'presets.list', {}),
    ];
    const saved = contents.mainFrame.url;
    contents.mainFrame.url = 'https://attacker.example/';
    refusals.push(await callFrom(contents, contents.mainFrame, 'presets.list', {}));
    contents.mainFrame.url = saved;
    for (const r of refusals) expect(r).toMatchObject({ ok: false, error: { name: 'SecurityError' } });
    expect(engine.calls.length).toBe(before);
  });
});

describe('pushes: procscope:push', () => {
  it('go to our window only while it shows our page', () => {
    const msg: PushMessage = { type: 'progress', task: 'export:x:csv', fraction: 0.5 };
    contents.sent.length = 0;
    for (const l of engine.listeners) l(msg);
    expect(contents.sent).toEqual([{ channel: 'procscope:push', msg }]);
    const saved = contents.mainFrame.url;
    contents.mainFrame.url = 'https://attacker.example/';
    for (const l of engine.listeners) l(msg);
    contents.mainFrame.url = saved;
    expect(contents.sent).toHaveLength(1);
  });
});

describe('navigation, new windows and links', () => {
  it('lets the page reload itself and nothing else', () => {
    expect(contents.attempt('will-navigate', rendererUrl)).toBe(false);
    expect(contents.attempt('will-navigate', 'https://attacker.example/')).toBe(true);
    expect(contents.attempt('will-navigate', pathToFileURL('/etc/passwd').href)).toBe(true);
    expect(contents.attempt('will-frame-navigate', rendererUrl, false)).toBe(true);
    expect(contents.attempt('will-redirect', 'https://attacker.example/')).toBe(true);
    expect(contents.attempt('will-attach-webview', rendererUrl)).toBe(true);
  });

  it('never opens a window; an allowlisted https link goes to the browser instead', async () => {
    state.opened.length = 0;
    expect(contents.windowOpenHandler?.({ url: 'https://ui.perfetto.dev/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: 'https://attacker.example/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(contents.attempt('will-navigate', 'https://docs.python.org/3/library/multiprocessing.html')).toBe(true);
    expect(contents.attempt('will-navigate', 'http://ui.perfetto.dev/')).toBe(true);
    expect(state.opened).toEqual(['https://ui.perfetto.dev/', 'https://docs.python.org/3/library/multiprocessing.html']);
  });

  it('guards every web contents the app creates, not only ours', () => {
    const stray = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, stray);
    expect(stray.attempt('will-navigate', 'https://attacker.example/')).toBe(true);
    expect(stray.windowOpenHandler?.({ url: 'https://attacker.example/' })).toEqual({ action: 'deny' });
  });
});

describe('session policy', () => {
  it('denies every permission request and check', () => {
    const answers: boolean[] = [];
    for (const p of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      state.permissionRequest?.(contents, p, (granted) => answers.push(granted), {});
    }
    expect(answers).toEqual([false, false, false, false, false]);
    expect(state.permissionCheck?.(contents, 'clipboard-sanitized-write', rendererUrl, {})).toBe(false);
    expect(state.devicePermission?.({ deviceType: 'usb' })).toBe(false);
  });

  it('cancels every network request and puts the CSP header on every response', () => {
    expect(state.beforeRequest?.filter.urls).toEqual(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*']);
    let cancelled: boolean | undefined;
    state.beforeRequest?.listener({ url: 'https://example.com/' }, (r) => (cancelled = r.cancel));
    expect(cancelled).toBe(true);

    let headers: Record<string, string[]> = {};
    state.headersReceived?.({ responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => (headers = (r as { responseHeaders: Record<string, string[]> }).responseHeaders));
    expect(headers['Content-Type']).toEqual(['text/html']);
    expect(headers['Content-Security-Policy']).toHaveLength(1);
    expect(headers['Content-Security-Policy'][0]).toContain("script-src 'self';");
    expect(headers['Content-Security-Policy'][0]).toContain("object-src 'none'");
  });
});

describe('native dialogs for the engine', () => {
  it('pickScenario offers program files (Python too) and answers the chosen path, or null', async () => {
    expect(engine.options?.shell).toBe('electron');
    state.openDialogAnswer = { canceled: false, filePaths: ['/home/me/lab/race.ts'] };
    expect(await engine.options?.pickScenario?.()).toBe('/home/me/lab/race.ts');
    const options = state.dialogs.at(-1)?.options as { filters: { extensions: string[] }[]; properties: string[] };
    expect(options.properties).toEqual(['openFile']);
    expect(options.filters[0].extensions).toEqual(['py', 'ts', 'mts', 'js', 'mjs']);
    state.openDialogAnswer = { canceled: true, filePaths: [] };
    expect(await engine.options?.pickScenario?.()).toBeNull();
  });

  it('saveExport copies the engine’s file where the person chose, or answers cancelled', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-save-'));
    try {
      const temp = path.join(dir, 'a1b2-run.csv');
      fs.writeFileSync(temp, 't,pid\n0,1\n');
      state.downloads = dir;
      state.saveDialogAnswer = { canceled: false, filePath: path.join(dir, 'mine.csv') };
      expect(await engine.options?.saveExport?.('run.csv', temp)).toEqual({ savedTo: path.join(dir, 'mine.csv') });
      expect(fs.readFileSync(path.join(dir, 'mine.csv'), 'utf8')).toBe('t,pid\n0,1\n');
      expect(fs.existsSync(temp)).toBe(true); // the engine deletes its own temp file
      const options = state.dialogs.at(-1)?.options as { defaultPath: string; filters: unknown[] };
      expect(options.defaultPath).toBe(path.join(dir, 'run.csv'));
      state.saveDialogAnswer = { canceled: true, filePath: '' };
      expect(await engine.options?.saveExport?.('run.csv', temp)).toEqual({ cancelled: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('quitting', () => {
  it('waits for the engine to stop the run, then quits (once)', async () => {
    fake.app.quit();
    expect(engine.disposed).toBe(1);
    expect(state.quit).toBe(false);
    // A second quit while the run is stopping must not cut the stop short.
    fake.app.quit();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(engine.disposed).toBe(1);
    expect(state.quit).toBe(false);
    engine.releaseDispose?.();
    await vi.waitFor(() => expect(state.quit).toBe(true));
    expect(engine.disposed).toBe(1);
    expect(state.handlers.has('procscope:call')).toBe(false);
    expect(engine.listeners).toEqual([]);
  });
});
