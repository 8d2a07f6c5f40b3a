// Where procscope's own files are, from the source tree, the bundled CLI or a packaged app alike.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The folder holding procscope's package.json (walks up from this module). */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'procscope') return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find procscope package root');
    dir = up;
  }
}

/**
 * Where a packaged app (electron-builder) keeps a file that other programs must read as a plain
 * file: scenario processes (Electron run as Node), python3 and the shell cannot look inside
 * app.asar, so out/runtime, resources/python and the presets are unpacked next to it
 * (asarUnpack in electron-builder.yml), in app.asar.unpacked.
 */
export function unpacked(file: string): string {
  return file.replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
}

/** Entry point every scenario process starts with (built by `npm run build:node`). */
export function childEntry(): string {
  const file = unpacked(path.join(packageRoot(), 'out', 'runtime', 'child.mjs'));
  if (!fs.existsSync(file)) throw new Error(`procscope runtime is not built (${file} missing): run npm run build:node`);
  return file;
}

/** The Python shim (Python mode): put on PYTHONPATH, its sitecustomize instruments multiprocessing. */
export function pythonShimDir(): string {
  return unpacked(path.join(packageRoot(), 'resources', 'python'));
}

export function presetsDir(): string {
  return unpacked(path.join(packageRoot(), 'src-main', 'presets'));
}

/** procscope's folder of the user: $PROCSCOPE_HOME, else ~/.procscope. */
export function procscopeHome(): string {
  return process.env.PROCSCOPE_HOME ?? path.join(process.env.HOME ?? process.cwd(), '.procscope');
}

/** Where run logs go unless a path is given: $PROCSCOPE_HOME/runs, else ~/.procscope/runs. */
export function runsDir(): string {
  return path.join(procscopeHome(), 'runs');
}
