#!/usr/bin/env node
// `npm run start:web`: procscope in the browser. Builds what the browser shell serves (the Node
// parts, which include the CLI and its web shell, and the renderer), then runs
// `procscope serve`, which prints the address to open. Ctrl-C stops it, and a run in it.
//
//   node scripts/start-web.mjs [--port N]

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function run(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`procscope: ${what} failed\n`);
    process.exit(2);
  }
}

run('building the Node parts', ['scripts/build-node.mjs']);
run('building the renderer', [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);

const child = spawn(process.execPath, [path.join(root, 'bin/procscope.mjs'), 'serve', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the server too (same process group); a kill of this script is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
