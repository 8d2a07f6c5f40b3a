// A stand-in for the parts of Electron's main-process API that src-main/electron/main.ts uses, so
// its wiring (who may call, what is pushed where, what navigation and permissions are refused,
// how quitting waits for the engine) runs in a unit test without the Electron binary. It records
// what main.ts asked for; it does not pretend to render anything. Event objects mimic Electron's:
// `preventDefault()` plus the fields main.ts reads.

import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';

export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
  processId: number;
  frameToken: string;
  detached: boolean;
}

export interface FakeEvent {
  prevented: boolean;
  preventDefault(): void;
}

function fakeEvent<T extends object>(fields: T): T & FakeEvent {
  return {
    ...fields,
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly mainFrame: FakeFrame = { url: 'about:blank', parent: null, processId: 100 + this.id, frameToken: `main-${this.id}`, detached: false };
  readonly sent: { channel: string; msg: unknown }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  destroyed = false;

  send(channel: string, msg: unknown): void {
    this.sent.push({ channel, msg });
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  subFrame(url: string): FakeFrame {
    return { url, parent: this.mainFrame, processId: this.mainFrame.processId, frameToken: `sub-${this.id}`, detached: false };
  }
  /** Emits `will-navigate`, `will-frame-navigate`, `will-redirect` or `will-attach-webview` as Electron does; answers whether it was prevented. */
  attempt(event: string, url: string, isMainFrame = true): boolean {
    const e = fakeEvent({ url, isMainFrame });
    this.emit(event, e);
    return e.prevented;
  }
}

export const state = {
  windows: [] as FakeBrowserWindow[],
  handlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
  opened: [] as string[],
  sandboxEnabled: false,
  quit: false,
  exitCode: null as number | null,
  menu: null as unknown,
  permissionRequest: null as ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void) | null,
  permissionCheck: null as ((...args: unknown[]) => boolean) | null,
  devicePermission: null as ((...args: unknown[]) => boolean) | null,
  beforeRequest: null as { filter: { urls: string[] }; listener: (details: unknown, callback: (r: { cancel?: boolean }) => void) => void } | null,
  headersReceived: null as ((details: { responseHeaders?: Record<string, string[]> }, callback: (r: unknown) => void) => void) | null,
  openDialogAnswer: { canceled: true, filePaths: [] as string[] },
  saveDialogAnswer: { canceled: true, filePath: '' },
  dialogs: [] as { kind: 'open' | 'save'; options: unknown }[],
  downloads: '/tmp',
};

class FakeApp extends EventEmitter {
  readonly isPackaged = false;
  readonly paths = new Map<string, string>();
  enableSandbox(): void {
    state.sandboxEnabled = true;
  }
  setPath(name: string, value: string): void {
    this.paths.set(name, value);
  }
  getPath(name: string): string {
    return name === 'downloads' ? state.downloads : (this.paths.get(name) ?? `/fake/${name}`);
  }
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  isReady(): boolean {
    return true;
  }
  /** Like Electron: emits `will-quit`, which may be prevented; otherwise the app is gone. */
  quit(): void {
    const e = fakeEvent({});
    this.emit('will-quit', e);
    if (!e.prevented) state.quit = true;
  }
  exit(code: number): void {
    state.exitCode = code;
  }
}

export const app = new FakeApp();

export class FakeBrowserWindow extends EventEmitter {
  static getAllWindows(): FakeBrowserWindow[] {
    return state.windows.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  loadedFile: string | null = null;
  background: string;
  destroyed = false;

  constructor(readonly options: { backgroundColor: string; webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super();
    this.background = options.backgroundColor;
    state.windows.push(this);
    app.emit('web-contents-created', fakeEvent({}), this.webContents);
  }
  async loadFile(file: string): Promise<void> {
    this.loadedFile = file;
    this.webContents.mainFrame.url = pathToFileURL(file).href;
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setBackgroundColor(color: string): void {
    this.background = color;
  }
}

export const ipcMain = {
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (state.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    state.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    state.handlers.delete(channel);
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler(h: typeof state.permissionRequest): void {
      state.permissionRequest = h;
    },
    setPermissionCheckHandler(h: typeof state.permissionCheck): void {
      state.permissionCheck = h;
    },
    setDevicePermissionHandler(h: typeof state.devicePermission): void {
      state.devicePermission = h;
    },
    webRequest: {
      onBeforeRequest(filter: { urls: string[] }, listener: (details: unknown, callback: (r: { cancel?: boolean }) => void) => void): void {
        state.beforeRequest = { filter, listener };
      },
      onHeadersReceived(listener: typeof state.headersReceived): void {
        state.headersReceived = listener;
      },
    },
  },
};

export const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: true });

export const Menu = {
  buildFromTemplate: (template: unknown) => ({ template }),
  setApplicationMenu: (menu: unknown) => {
    state.menu = menu;
  },
};

export const dialog = {
  async showOpenDialog(...args: unknown[]) {
    state.dialogs.push({ kind: 'open', options: args[args.length - 1] });
    return state.openDialogAnswer;
  },
  async showSaveDialog(...args: unknown[]) {
    state.dialogs.push({ kind: 'save', options: args[args.length - 1] });
    return state.saveDialogAnswer;
  },
  showErrorBox(): void {},
};

export const shell = {
  async openExternal(url: string): Promise<void> {
    state.opened.push(url);
  },
};

/** What `import … from 'electron'` gives main.ts in the test. */
export const electron = { app, BrowserWindow: FakeBrowserWindow, dialog, ipcMain, Menu, nativeTheme, session, shell };
