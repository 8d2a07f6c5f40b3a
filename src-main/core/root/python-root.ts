// Python mode: `python3 script.py` in the script's folder, with procscope's shim on PYTHONPATH
// (its sitecustomize instruments multiprocessing in this process and every child).

import path from 'node:path';
import { ENV_COMPILED } from '../../protocol.ts';
import { preparedShimDir } from '../python-shim.ts';
import type { RootRunner } from './runner.ts';

export function pythonRoot(interpreter: string): RootRunner {
  return {
    runtime: 'python',
    stacks: true,
    interpreter,
    async prepare(ctx) {
      const shim = await preparedShimDir(interpreter);
      const inherited = process.env.PYTHONPATH;
      return {
        command: interpreter,
        args: [ctx.file, ...ctx.args],
        env: { [ENV_COMPILED]: undefined, PYTHONPATH: inherited ? `${shim}${path.delimiter}${inherited}` : shim },
      };
    },
    cannotStart: (_command, err) => `cannot start Python interpreter '${interpreter}': ${err.message}`,
  };
}
