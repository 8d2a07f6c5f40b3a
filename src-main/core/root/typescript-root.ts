// TypeScript scenarios: the main process is Node running procscope's runtime (out/runtime), which
// loads the scenario. Compiled once here, the scenario loads in every process of the run without
// module hooks; one that cannot be compiled faithfully loads through them, as before.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENV_COMPILED } from '../../protocol.ts';
import { childEntry } from '../paths.ts';
import { compileScenario } from '../scenario-compiler.ts';
import type { RootRunner } from './runner.ts';

export const typescriptRoot: RootRunner = {
  runtime: 'typescript',
  stacks: false,
  async prepare(ctx) {
    const entry = childEntry();
    const runtimeUrl = pathToFileURL(path.join(path.dirname(entry), 'procscope.mjs')).href;
    const compiled = compileScenario(ctx.file, path.join(ctx.scratch, 'compiled'), runtimeUrl);
    return {
      command: process.execPath,
      args: [entry, ...ctx.args],
      env: {
        // undefined drops one inherited from our own environment: only this run's compile counts.
        [ENV_COMPILED]: 'entry' in compiled ? compiled.entry : undefined,
        // Inside Electron, execPath is the app: make it (and every child, by inheritance) plain Node.
        ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
      },
    };
  },
  cannotStart: (command, err) => `cannot start ${command}: ${err.message}`,
};
