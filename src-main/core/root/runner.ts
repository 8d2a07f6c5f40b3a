// The run's main process, whichever runtime runs it. A runner per runtime says what to start
// (TypeScript: Node on procscope's runtime, with the scenario compiled ahead; Python: the
// interpreter on the script, with procscope's shim on PYTHONPATH); starting it is the same for
// both: in the program's folder, in a process group of its own (stopping the run kills every
// descendant with one signal), told where the broker is and when t = 0 was.

import { spawn, type ChildProcess } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import type { Runtime, StreamName } from '../../api.ts';
import { exitcodeOf } from '../../common/exitcode.ts';
import { ENV_OUTPUT, ENV_OUTPUT_INODES, ENV_INTERACTIVE, ENV_MONITOR, ENV_PROFILE, ENV_ROLE, ENV_SCENARIO, ENV_SOCKET, ENV_T0 } from '../../protocol.ts';
import { ControlError } from '../command-error.ts';
import { monitorIdentity } from '../monitor-identity.ts';
import { OutputStream } from '../output-stream.ts';
import { WriterOutput, type WriterLine } from '../writer-output.ts';

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
  /** Where each process connects its own descriptors 1 and 2 (core/output-server.ts). */
  outputPath: string;
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
export async function startRoot(runner: RootRunner, ctx: RootContext, output: RootOutput): Promise<StartedRoot> {
  const { command, args, env } = await runner.prepare(ctx);
  const child = spawn(command, args, {
    cwd: ctx.cwd,
    detached: true,
    stdio: ['ignore', ...output.stdio()],
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
      ...output.env(ctx.outputPath),
      ...env,
    },
  });
  const failed = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  output.started(child);
  if (failed || child.pid === undefined) throw new ControlError(runner.cannotStart(command, failed ?? new Error('no pid')));
  return { child, pid: child.pid };
}

/**
 * What the processes of the run write to their standard output and error themselves (past the
 * runtime: a native crash message, `os.write(1, ...)`), as lines of the log. Every process
 * inherits the main's two descriptors; where the kernel names each writer (writer-output.ts),
 * each line is its writer's, else (plain pipes) the main process's.
 */
export class RootOutput {
  private readonly tagged: WriterOutput | null;
  private readonly pipes: OutputStream[] = [];
  private rootPid: number | null = null;

  constructor(private readonly line: WriterLine) {
    this.tagged = WriterOutput.open(line);
  }

  /** What the main process gets as its descriptors 1 and 2. */
  stdio(): [number | 'pipe', number | 'pipe'] {
    const d = this.tagged?.descriptors;
    return d ? [d.stdout, d.stderr] : ['pipe', 'pipe'];
  }

  /**
   * What tells each process of the run to connect its own descriptors 1 and 2 to `outputPath`:
   * only where the monitor can tell who connected (the descriptors name their writers then).
   */
  env(outputPath: string): NodeJS.ProcessEnv {
    const d = this.tagged?.descriptors;
    if (!d) return { [ENV_OUTPUT]: undefined, [ENV_OUTPUT_INODES]: undefined };
    return { [ENV_OUTPUT]: outputPath, [ENV_OUTPUT_INODES]: `${fstatSync(d.stdout).ino},${fstatSync(d.stderr).ino}` };
  }

  /** The main process was started with them (or failed to start). */
  started(child: ChildProcess): void {
    this.rootPid = child.pid ?? null;
    if (this.tagged) return this.tagged.started();
    const root = this.rootPid;
    if (child.stdout) this.pipes.push(new OutputStream(child.stdout, (text) => this.line('stdout', root, text)));
    if (child.stderr) this.pipes.push(new OutputStream(child.stderr, (text) => this.line('stderr', root, text)));
  }

  /** Whatever was written so far, read now (lines come as they are written regardless). */
  take(): void {
    this.tagged?.take();
  }

  /** `pid` has exited: everything it wrote, its last line even without a newline. */
  ended(pid: number): void {
    if (this.tagged) this.tagged.ended(pid);
    else if (pid === this.rootPid) for (const s of this.pipes) s.drain();
  }

  /** The run is over: a descendant that still holds these descriptors does not hold the run open. */
  close(): void {
    this.tagged?.close();
    for (const s of this.pipes) s.close();
  }
}

/** Calls `exited` with Python's exitcode once the main process is gone. */
export function onRootExit(child: ChildProcess, exited: (exitcode: number) => void): void {
  child.once('exit', (code, signal) => exited(exitcodeOf(code, signal, constants.signals)));
}
