// Global setup of the end-to-end suite (vitest.e2e.config.ts): builds what the tests load, the
// runtime every scenario process starts with (out/runtime) and the renderer the web shell serves
// (out/renderer), from the sources as they are now.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export default function setup(): void {
  const steps: string[][] = [['scripts/build-node.mjs'], [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']];
  for (const args of steps) {
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`e2e build step failed (exit ${r.status}): node ${args.join(' ')}`);
  }
}
