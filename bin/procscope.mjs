#!/usr/bin/env node
// The CLI, built by `npm run build:node`: `npm install` builds it (prepare), so do npm start,
// npm test and npm pack; an installed package ships it built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/cli/procscope.mjs', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('procscope: not built yet: run `npm install` (or `npm run build`) in the procscope folder\n');
  process.exit(2);
}
await import(cli.href);
