#!/usr/bin/env node
// `npm start`: builds everything (the Node parts, then main + preload + renderer with
// electron-vite) and opens the desktop app. Electron's binary is not always there: npm may have
// skipped its download (ELECTRON_SKIP_BINARY_DOWNLOAD, or install scripts disabled), so we try to
// fetch it once; on a machine that cannot (offline, no display) procscope opens in the browser
// instead (`procscope serve`), saying so in one line.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(root, 'package.json'));
const INSTALL_TIMEOUT_MS = 60_000;

function fail(message) {
  process.stderr.write(`procscope: ${message}\n`);
  process.exit(2);
}

function run(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`${what} failed`);
}

/** The Electron executable, or why there is none. `require('electron')` answers its path. */
function electronBinary() {
  try {
    delete require.cache[require.resolve('electron')];
    const file = require('electron');
    if (typeof file === 'string' && fs.existsSync(file)) return { file };
    return { reason: `${file} is missing` };
  } catch (err) {
    return { reason: 'its binary is not installed' + (err?.code === 'MODULE_NOT_FOUND' ? ' (no electron package)' : '') };
  }
}

/** One try at fetching the binary with electron's own installer; the reason if it failed. */
function installElectron() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'ELECTRON_SKIP_BINARY_DOWNLOAD is set';
  let installer;
  try {
    installer = path.join(path.dirname(require.resolve('electron/package.json')), 'install.js');
  } catch {
    return 'the electron package is not installed';
  }
  process.stdout.write('procscope: fetching Electron (once)...\n');
  const r = spawnSync(process.execPath, [installer], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: INSTALL_TIMEOUT_MS, encoding: 'utf8' });
  if (r.error?.code === 'ETIMEDOUT') return `downloading it took over ${INSTALL_TIMEOUT_MS / 1000} s`;
  if (r.status !== 0) {
    // The installer prints a stack; its first line says what went wrong (e.g. ENOTFOUND).
    const first = (r.stderr ?? '').split('\n').find((l) => l.trim() !== '') ?? `exit code ${r.status}`;
    return `downloading it failed: ${first.trim().slice(0, 160)}`;
  }
  return null;
}

/** Why Electron cannot show a window here even when installed, or null. */
function noDisplay() {
  if (process.platform !== 'linux') return null;
  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return null;
  return 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

function openBrowserShell(reason) {
  process.stdout.write(`procscope: Electron is not available here (${reason}); opening the browser shell instead\n`);
  // Everything it serves was built above; `procscope serve` prints the address to open.
  launch(process.execPath, [path.join(root, 'bin/procscope.mjs'), 'serve'], process.env);
}

/** Runs the app in the foreground: our signals go to it, its exit status is ours. */
function launch(file, args, env) {
  const child = spawn(file, args, { cwd: root, stdio: 'inherit', env });
  // Ctrl-C reaches the child too (same process group); we only make sure a kill does.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('error', (err) => fail(`cannot start ${file}: ${err.message}`));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

run('building the Node parts', ['scripts/build-node.mjs']);
run('building the app (electron-vite)', [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn']);

let electron = electronBinary();
if (!electron.file) {
  const failed = installElectron();
  const after = electronBinary();
  electron = after.file ? after : { reason: failed ? `${electron.reason}; ${failed}` : after.reason };
}
const headless = noDisplay();

if (!electron.file) openBrowserShell(electron.reason);
else if (headless) openBrowserShell(headless);
else {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  // `electron .` reads package.json's "main" and names the app after the package (its user data
  // folder, its single-instance lock); the bare file is a fallback for a package without "main".
  const app = pkg.main ? '.' : path.join('out', 'main', 'main.js');
  const env = { ...process.env };
  // Inherited from a shell that set it, it would make Electron a plain Node and run no app.
  delete env.ELECTRON_RUN_AS_NODE;
  launch(electron.file, [app], env);
}
