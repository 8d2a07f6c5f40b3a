// `procscope ui`: the desktop window, opened from plain Node (the CLI), with the Electron of the
// machine: procscope's own (a development checkout, where `npm install` fetched it) or one on
// PATH (`npm install -g electron`). Where there is none, or no display to show it on, the caller
// falls back to the browser shell and says why. Never imports electron: it only starts it.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../core/paths.ts';

export type DesktopWindow = { electron: string } | { reason: string };

/** The Electron that can show the window here, or why none can. */
export function findElectron(root = packageRoot()): DesktopWindow {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  }
  if (!fs.existsSync(path.join(root, 'out', 'main', 'main.js'))) return { reason: `the window is not built (run npm run build in ${root})` };
  try {
    // The electron package answers the path of the binary it downloaded (and throws without one).
    const file = createRequire(path.join(root, 'package.json'))('electron') as unknown;
    if (typeof file === 'string' && fs.existsSync(file)) return { electron: file };
  } catch {
    // not installed with procscope, or installed without its binary
  }
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, process.platform === 'win32' ? 'electron.cmd' : 'electron'));
  const found = onPath.find((f) => fs.existsSync(f));
  if (found) return { electron: found };
  return { reason: 'Electron is not installed (npm install -g electron adds it)' };
}

/** Runs the window in the foreground; resolves with its exit code. */
export function openWindow(electron: string, root = packageRoot()): Promise<number> {
  const env = { ...process.env };
  // Inherited from a shell that set it, it would make Electron a plain Node and open no window.
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(electron, [root], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`procscope: cannot start ${electron}: ${err.message}\n`);
      resolve(2);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
