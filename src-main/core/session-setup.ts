// What starting a run takes, checked before anything is made: a refused start leaves nothing.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isInterpreter, type RunEvent, type Runtime } from '../api.ts';
import { DEFAULT_INTERVAL_MS } from '../common/interval.ts';
import { runIdFor } from '../common/run-id.ts';
import { ControlError } from './command-error.ts';
import { runsDir } from './paths.ts';
import { pythonRoot } from './root/python-root.ts';
import type { RootRunner } from './root/runner.ts';
import { typescriptRoot } from './root/typescript-root.ts';
import { profileHz } from './profile/profile-options.ts';
import { validateInterval } from './sampler.ts';
import { resolveScenario, type ResolvedScenario } from './scenario-loader.ts';
import type { Session } from './session.ts';

export interface SessionOptions {
  /** A preset id or a path to a scenario file. */
  scenario: string;
  /** Sampling interval, ms (50..10000). Default: DEFAULT_INTERVAL_MS. */
  interval?: number;
  /** Stop the run after this many seconds. */
  timeout?: number;
  /** Where to write the run log; default: a new file in the runs folder. */
  logPath?: string;
  /** Where a log without `logPath` goes, under a name made from the scenario (default: runsDir()). */
  runsDir?: string;
  /** Shown in the window: a person may call members of Process objects (runtime's interactive()). */
  interactive?: boolean;
  /** Sees every event from the first (`run`), which `on()` after start() cannot. */
  onEvent?: (event: RunEvent) => void;
  /** Runs, and is waited for, when the run's timeout ends it: the processes are still there. */
  beforeTimeout?: (session: Session) => Promise<void>;
  /** Python mode: the interpreter that runs a .py scenario (default `python3`, found on PATH). */
  python?: string;
  /** A preset's TypeScript twin (default) or its Python original; a file's extension decides for it. */
  runtime?: Runtime;
  /** The program's arguments: `sys.argv[1:]` in Python, `process.argv.slice(2)` in a scenario. */
  args?: readonly string[];
  /** Profile every process: samples of each thread's stack, `hz` a second (see core/profile). */
  profile?: { hz?: number };
  /** Log each call on a manager's shared objects (`shared` … `call`), not only their counts per interval. */
  sharedCalls?: boolean;
}

export interface Setup {
  scenario: ResolvedScenario;
  runner: RootRunner;
  interval: number;
  logPath: string;
  interactive: boolean;
  args: readonly string[];
  sharedCalls: boolean;
  beforeTimeout: SessionOptions['beforeTimeout'];
  /** The profiler's rate, or null when the run is not profiled. */
  profileHz: number | null;
}

/** Everything given to start(), checked: one line for the first thing that is wrong. */
export function prepare(opts: SessionOptions): Setup {
  const scenario = resolveScenario(opts.scenario, opts.runtime);
  const interval = validateInterval(opts.interval ?? DEFAULT_INTERVAL_MS);
  if (opts.timeout !== undefined && !(opts.timeout > 0)) throw new ControlError(`timeout must be a positive number of seconds, got ${opts.timeout}`);
  if (opts.python !== undefined && !isInterpreter(opts.python)) throw new ControlError('python must name an interpreter (a command or a path)');
  const args = opts.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && !a.includes('\0'))) throw new ControlError('program arguments must be strings');
  const name = scenario.preset ? (scenario.python ? `${scenario.id}-py` : scenario.id) : path.basename(scenario.file).replace(/\.[^.]+$/, '');
  const logPath = path.resolve(opts.logPath ?? path.join(opts.runsDir ?? runsDir(), `${runIdFor(name, new Date(), randomBytes(3).toString('hex'))}.jsonl`));
  return {
    scenario,
    runner: scenario.python ? pythonRoot(opts.python ?? 'python3') : typescriptRoot,
    interval,
    logPath,
    interactive: opts.interactive === true,
    args: [...args],
    sharedCalls: opts.sharedCalls === true,
    beforeTimeout: opts.beforeTimeout,
    profileHz: profileHz(opts.profile),
  };
}

export { ControlError } from './command-error.ts';
