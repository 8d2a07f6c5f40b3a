// Which runtime a program runs under, as the window needs to say it: before a run (the toolbar's
// choice, a file's extension) and after (the `run` event of the run shown). Pure: unit-tested in
// test/unit/renderer-ui.

import type { RunStartedEvent, Runtime } from '../../src-main/api.ts';

/** How a file runs, by its extension: the engine's rule (scenario-loader), so the toggle never disagrees with it. */
export function fileRuntime(path: string): Runtime {
  return /\.py$/i.test(path.trim()) ? 'python' : 'typescript';
}

/** A runtime read back from storage; anything else (an old or damaged entry) is the default. */
export function parseRuntime(stored: string | null | undefined): Runtime {
  return stored === 'python' ? 'python' : 'typescript';
}

/** What Start will run: a preset in the chosen runtime, a file as its extension says. */
export function runtimeFor(scenario: string, isPreset: boolean, chosen: Runtime): Runtime {
  if (isPreset) return chosen;
  return scenario ? fileRuntime(scenario) : chosen;
}

export interface RunRuntime {
  runtime: Runtime;
  /** The interpreter as the run named it (`python3`, a path); null for TypeScript. */
  interpreter: string | null;
}

/** The runtime of a run from its `run` event; logs from before Python mode have none: TypeScript. */
export function runtimeOfRun(run: Pick<RunStartedEvent, 'runtime' | 'interpreter'> | null): RunRuntime | null {
  if (!run) return null;
  const runtime = parseRuntime(run.runtime);
  return { runtime, interpreter: runtime === 'python' ? (run.interpreter ?? null) : null };
}

/**
 * The interpreter as a chip can show it: a path's last part (`/opt/py312/bin/python3.12` →
 * `python3.12`); the whole of it goes in the tooltip.
 */
export function interpreterName(interpreter: string): string {
  const parts = interpreter.split(/[\\/]/).filter((p) => p !== '');
  return parts.length > 0 ? parts[parts.length - 1] : interpreter;
}
