#!/usr/bin/env node
// The CLI, built by `npm run build:node` (npm start and npm test build it first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/cli/procscope.mjs', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('procscope: not built yet: run `npm run build:node` in the procscope folder\n');
  process.exit(2);
}
await import(cli.href);
