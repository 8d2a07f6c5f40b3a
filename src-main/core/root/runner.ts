// The run's main process, whichever runtime runs it. A runner per runtime says what to start
// (TypeScript: Node on procscope's runtime, with the scenario compiled ahead; Python: the
// interpreter on the script, with procscope's shim on PYTHONPATH); starting it is the same for
// both: in the program's folder, in a process group of its own (stopping the run kills every
// descendant with one signal), told where the broker is and when t = 0 was.

import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Runtime, StreamName } from '../../api.ts';
import { exitcodeOf } from '../../common/exitcode.ts';
import { ENV_INTERACTIVE, ENV_MONITOR, ENV_PROFILE, ENV_ROLE, ENV_SCENARIO, ENV_SOCKET, ENV_T0 } from '../../protocol.ts';
import { ControlError } from '../command-error.ts';
import { monitorIdentity } from '../monitor-identity.ts';
import { OutputStream } from '../output-stream.ts';

/** What a runner needs to know of the run. */
export interface RootContext {
  /** The program file (a preset's, or the user's). */
  file: string;
  cwd: string;
  args: readonly string[];
  /** The run's own temporary folder (removed with the run). */
  scratch: string;
  socketPath: string;
  /** Wall-clock ms of the run's t = 0. */
  t0: number;
  interactive: boolean;
  /** Profile every process of the run at this rate (ENV_PROFILE), or null. */
  profileHz: number | null;
}

export interface RootCommand {
  command: string;
  args: string[];
  /** Added to the environment; an undefined value removes the variable. */
  env: NodeJS.ProcessEnv;
}

/** One runtime's way of starting the main process. */
export interface RootRunner {
  readonly runtime: Runtime;
  /** Its processes can say where each of their threads is (run.stacks). */
  readonly stacks: boolean;
  /** The interpreter as named, for a runtime that has one (the `run` event records it). */
  readonly interpreter?: string;
  /** What to start; may take a while (compiling) and throw a one-line error. */
  prepare(ctx: RootContext): Promise<RootCommand>;
  /** One line for a start that failed. */
  cannotStart(command: string, err: Error): string;
}

export interface StartedRoot {
  child: ChildProcess;
  pid: number;
}

/** Starts the main process; rejects with the runner's one line if it cannot start. */
export async function startRoot(runner: RootRunner, ctx: RootContext): Promise<StartedRoot> {
  const { command, args, env } = await runner.prepare(ctx);
  const child = spawn(command, args, {
    cwd: ctx.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      [ENV_ROLE]: 'main',
      [ENV_SOCKET]: ctx.socketPath,
      [ENV_SCENARIO]: ctx.file,
      [ENV_T0]: String(ctx.t0),
      // Who the monitor is: a process of the run that loses its connection while the monitor is
      // gone ends the run (runtime/run-end.ts, the shim's _run_end.py).
      [ENV_MONITOR]: monitorIdentity(),
      ...(ctx.interactive ? { [ENV_INTERACTIVE]: '1' } : {}),
      // undefined drops one inherited from our own environment: only this run's choice counts.
      [ENV_PROFILE]: ctx.profileHz !== null ? String(ctx.profileHz) : undefined,
      ...env,
    },
  });
  const failed = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (failed || child.pid === undefined) throw new ControlError(runner.cannotStart(command, failed ?? new Error('no pid')));
  return { child, pid: child.pid };
}

/**
 * What the main process writes to its standard output and error itself (past the runtime: a
 * native crash message, `os.write(1, ...)`), as lines of the log.
 */
export class RootOutput {
  private readonly streams: OutputStream[] = [];

  constructor(child: ChildProcess, line: (stream: StreamName, text: string) => void) {
    if (child.stdout) this.streams.push(new OutputStream(child.stdout, (text) => line('stdout', text)));
    if (child.stderr) this.streams.push(new OutputStream(child.stderr, (text) => line('stderr', text)));
  }

  /** The main process has exited: everything it wrote, its last line even without a newline. */
  drain(): void {
    for (const s of this.streams) s.drain();
  }

  /** The run is over: a descendant that still holds these pipes does not hold the run open. */
  close(): void {
    for (const s of this.streams) s.close();
  }
}

/** Calls `exited` with Python's exitcode once the main process is gone. */
export function onRootExit(child: ChildProcess, exited: (exitcode: number) => void): void {
  child.once('exit', (code, signal) => exited(exitcodeOf(code, signal, constants.signals)));
}
