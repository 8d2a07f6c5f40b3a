// The Electron shell's main process: one window showing the renderer from disk, one engine
// (core's Backend) behind one IPC channel, and the security policy of src-main/electron/policy.ts
// applied to everything the window could load, open, navigate to or ask for.
//
// Built by electron-vite into out/main/main.js (ESM, like the package); the preload into
// out/preload/preload.cjs and the renderer into out/renderer. Tested without the Electron binary
// against a recording stand-in (test/unit/electron-main.test.ts), statically
// (test/unit/electron-security.test.ts), and in real Electron where its binary exists
// (test/e2e/electron.test.ts).

import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeTheme,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand, type PushMessage } from '../api.ts';
import { Backend } from '../core/backend.ts';
import { CALL_CHANNEL, PUSH_CHANNEL, type IpcReply } from './channels.ts';
import {
  errorData,
  externalUrlToOpen,
  isRendererUrl,
  saveFilters,
  SCENARIO_EXTENSIONS,
} from './policy.ts';

const RENDERER_FILE = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
const PRELOAD_FILE = fileURLToPath(new URL('../preload/preload.cjs', import.meta.url));
const BACKGROUND = { dark: '#16181d', light: '#ffffff' } as const;
const DISPOSE_TIMEOUT_MS = 5_000;

let mainWindow: BrowserWindow | null = null;
let backend: Backend | null = null;
let unsubscribe: (() => void) | null = null;

// Every renderer sandboxed, whatever a future window forgets to say. Must precede `ready`.
app.enableSandbox();

// A separate user data folder (the end-to-end test uses one) is a separate instance: the
// single-instance lock below lives in it.
if (process.env.PROCSCOPE_USER_DATA) app.setPath('userData', path.resolve(process.env.PROCSCOPE_USER_DATA));

if (!app.requestSingleInstanceLock()) {
  // Another procscope is running: it gets focus (below), this one leaves before doing anything.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) {
      if (backend) createWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => guardContents(contents));
  app.on('window-all-closed', () => {
    // macOS convention: the app stays (and a run goes on) until Quit; elsewhere closing quits.
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    // macOS: clicking the dock icon with no window open brings one back (once started).
    if (backend && BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('will-quit', onWillQuit);
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      dialog.showErrorBox('procscope cannot start', errorData(e).message);
      app.exit(1);
    });
}

function start(): void {
  if (!existsSync(RENDERER_FILE)) throw new Error(`the window is not built (${RENDERER_FILE} is missing): run npm start`);
  installSessionPolicy();
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate()));
  backend = new Backend({ shell: 'electron', pickScenario, saveExport });
  unsubscribe = backend.subscribe(push);
  ipcMain.handle(CALL_CHANNEL, onCall);
  createWindow();
  nativeTheme.on('updated', () => mainWindow?.setBackgroundColor(backgroundColor()));
}

// ---------------------------------------------------------------------------------------------
// The window

function backgroundColor(): string {
  return nativeTheme.shouldUseDarkColors ? BACKGROUND.dark : BACKGROUND.light;
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 1024,
    minHeight: 700,
    title: 'procscope',
    backgroundColor: backgroundColor(),
    show: false,
    webPreferences: {
      // Reviewed (electronegativity's PRELOAD_JS_CHECK asks for it): our own bundled file, run
      // sandboxed with context isolation; it exposes window.procscope (call + subscribe on our two
      // channels) and nothing else, never ipcRenderer. See preload.ts.
      preload: PRELOAD_FILE, // eng-disable PRELOAD_JS_CHECK (reviewed, see above)
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      // No middle-click (auxclick) events: the page needs none, and a middle click on a link is one
      // more way to ask for a window (electronegativity's AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
      devTools: !app.isPackaged,
    },
  });
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  win.loadFile(RENDERER_FILE).catch((e: unknown) => console.error(`procscope: cannot show ${RENDERER_FILE}: ${errorData(e).message}`));
}

/** Our window's main frame, showing our page: the only sender we answer, the only receiver we push to. */
function ourMainFrame(contents: WebContents): boolean {
  const win = mainWindow;
  if (!win || win.isDestroyed() || contents !== win.webContents) return false;
  const frame = contents.mainFrame;
  return isRendererUrl(frame.url, RENDERER_FILE);
}

// ---------------------------------------------------------------------------------------------
// IPC: one channel in, one channel out

/** Checks the sender, then the command, then runs it; every outcome is a value (never a throw). */
async function onCall(event: IpcMainInvokeEvent, command: unknown, args: unknown): Promise<IpcReply> {
  if (!isTrustedSender(event)) {
    console.warn(`procscope: refused ${JSON.stringify(String(command)).slice(0, 80)} from ${event.senderFrame?.url ?? 'a closed frame'}`);
    return { ok: false, error: { name: 'SecurityError', message: 'procscope: this page may not call the engine' } };
  }
  const parsed = parseCommand(command, args);
  if (!parsed.ok) return { ok: false, error: { name: 'TypeError', message: parsed.reason } };
  if (!backend) return { ok: false, error: { name: 'Error', message: 'procscope: the engine is not running' } };
  try {
    // `push` is the listener this window subscribed with: a replay it asks for comes to it alone.
    return { ok: true, result: await backend.handle(parsed.command, parsed.args, push) };
  } catch (e) {
    return { ok: false, error: errorData(e) };
  }
}

/**
 * The Electron checklist's "validate the sender of all IPC messages", as VS Code's ipcMain does:
 * the sending frame must be the main frame (not an iframe) of OUR window, and show OUR page.
 */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.detached || frame.parent !== null) return false;
  if (!ourMainFrame(event.sender)) return false;
  const main = event.sender.mainFrame;
  return frame.processId === main.processId && frame.frameToken === main.frameToken && isRendererUrl(frame.url, RENDERER_FILE);
}

function push(msg: PushMessage): void {
  const win = mainWindow;
  if (!win || win.isDestroyed() || !ourMainFrame(win.webContents)) return;
  win.webContents.send(PUSH_CHANNEL, msg);
}

// ---------------------------------------------------------------------------------------------
// Native dialogs the engine asks for

async function pickScenario(): Promise<string | null> {
  const options = {
    title: 'Open a program',
    properties: ['openFile' as const],
    filters: [{ name: 'Programs (Python, TypeScript, JavaScript)', extensions: [...SCENARIO_EXTENSIONS] }],
  };
  const answer = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  if (answer.canceled) return null;
  return answer.filePaths[0] ?? null;
}

async function saveExport(suggestedName: string, tempPath: string): Promise<{ savedTo?: string; cancelled?: boolean }> {
  const options = {
    title: 'Export the run',
    defaultPath: path.join(app.getPath('downloads'), path.basename(suggestedName)),
    filters: saveFilters(suggestedName),
  };
  const answer = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
  if (answer.canceled || !answer.filePath) return { cancelled: true };
  // The temp file stays the engine's to delete; the person gets a copy where they chose.
  await fs.copyFile(tempPath, answer.filePath);
  return { savedTo: answer.filePath };
}

// ---------------------------------------------------------------------------------------------
// Session and contents policy (Electron's security checklist)

function installSessionPolicy(): void {
  const ses = session.defaultSession;
  // No site may use a camera, notifications, the clipboard API, a USB device…: the page needs none.
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  // The page is local and needs no network: refuse every remote request outright.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (_details, callback) =>
    callback({ cancel: true }),
  );
  // The page's Content-Security-Policy travels as a response header, so index.html stays the same
  // for both shells (the browser shell sends its own header). Scripts only from our files (no
  // inline script, no eval); inline styles because Svelte and uPlot set `style` attributes;
  // data:/blob: images for canvas exports; no plugins, no <base>, no forms, no framing.
  // Written as one literal, in the form Electron's docs use, so electronegativity finds it and
  // grades it (CSP_GLOBAL_CHECK); test/unit/electron-security.test.ts pins its exact text, and
  // test/e2e/electron.test.ts checks that Chromium enforces it on the file:// page.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ],
      },
    });
  });
}

/** Applied to every WebContents the app ever creates, ours included. */
function guardContents(contents: WebContents): void {
  // New windows: never. An allowlisted https link opens in the person's browser instead.
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  // Navigation: the page may only reload itself; a link to an allowlisted site goes to the browser.
  contents.on('will-navigate', (event) => {
    if (isRendererUrl(event.url, RENDERER_FILE)) return;
    event.preventDefault();
    openExternally(event.url);
  });
  contents.on('will-frame-navigate', (event) => {
    if (event.isMainFrame && isRendererUrl(event.url, RENDERER_FILE)) return;
    event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isRendererUrl(event.url, RENDERER_FILE)) event.preventDefault();
  });
  // <webview> is disabled (webviewTag: false); refuse one anyway should a window ever enable it.
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function openExternally(url: string): void {
  const safe = externalUrlToOpen(url);
  if (!safe) return;
  // Reviewed (electronegativity's OPEN_EXTERNAL_JS_CHECK asks for it): `safe` is never the page's
  // string as given but externalUrlToOpen's answer: https only, hosts on EXTERNAL_HOSTS only, no
  // credentials or port (policy.ts, unit-tested in test/unit/electron-policy.test.ts).
  const opening = shell.openExternal(safe); // eng-disable OPEN_EXTERNAL_JS_CHECK (reviewed, see above)
  opening.catch((e: unknown) => console.warn(`procscope: cannot open ${safe}: ${errorData(e).message}`));
}

// ---------------------------------------------------------------------------------------------
// Menu

function menuTemplate(): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [];
  if (process.platform === 'darwin') template.push({ role: 'appMenu' });
  template.push({
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  // Reload and DevTools only when running from a source tree, never in a packaged app.
  if (!app.isPackaged) {
    template.push({ label: 'View', submenu: [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }] });
  }
  template.push({ role: 'windowMenu' });
  return template;
}

// ---------------------------------------------------------------------------------------------
// Quit: no process of a run may outlive the app

let stopped = false;
let stopping: Promise<void> | null = null;

function onWillQuit(event: Electron.Event): void {
  if (stopped || !backend) return;
  // Hold the quit until the engine has stopped the run (it kills the run's process groups). A
  // second quit meanwhile (Cmd-Q twice) waits for the same stop; a hung stop gets a deadline.
  event.preventDefault();
  if (stopping) return;
  const engine = backend;
  let disposing: Promise<unknown>;
  try {
    disposing = Promise.resolve(engine.dispose());
  } catch (e) {
    disposing = Promise.reject(e);
  }
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, DISPOSE_TIMEOUT_MS).unref());
  stopping = Promise.race([disposing, deadline])
    .then(
      () => undefined,
      (e: unknown) => console.warn(`procscope: stopping the engine failed: ${errorData(e).message}`),
    )
    .finally(() => {
      stopped = true;
      unsubscribe?.();
      unsubscribe = null;
      backend = null;
      ipcMain.removeHandler(CALL_CHANNEL);
      app.quit();
    });
}
