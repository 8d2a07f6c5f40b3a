// Spares: Node processes spawned ahead of time, each blocked reading fd 3 for the spec of the
// process it is to become (a forkserver, without fork). A cold Node start costs more than
// Python's spawn; a spare makes start() pay it in advance. A spare is nobody until assigned: it
// has not connected to the broker, so the run does not list it, and it exits when this process
// does (its fd 3 reads end-of-file).

import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { ENV_ROLE } from '../protocol.ts';
import { self } from './context.ts';

const CHILD_ENTRY = new URL('./child.mjs', import.meta.url);

/** The spare, booted or booting. */
let spare: ChildProcess | null = null;
/** Children spawned that have not yet said they booted (one byte on fd 3, see boot.ts). */
const booting = new Set<ChildProcess>();
/** A start() took the spare: a new one is due once no child of ours is booting. */
let spareDue = false;
/** This process is exiting: no spare any more. */
let sparesDone = false;

function spawnChild(): ChildProcess {
  // Loaded at the first spawn: most processes of a run never start one (pool workers, leaf
  // targets), and loading child_process is ~1.5 ms of CPU in every process that imports it.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, CHILD_ENTRY.pathname], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [ENV_ROLE]: 'child' },
  });
  child.once('error', () => {});
  // No pipe when the spawn failed at once (too many open files): start() reports the missing pid.
  const pipe = child.stdio[3] as Socket | null | undefined;
  if (!pipe) return child;
  // The child may die before reading its spec (its exit says so): no error may reach us.
  pipe.on('error', () => {});
  booting.add(child);
  const booted = () => {
    pipe.off('data', booted);
    if (booting.delete(child)) refill();
  };
  pipe.on('data', booted);
  child.once('exit', booted);
  return child;
}

function dead(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The spare becomes the new child; a new spare follows once nothing else is booting. */
export function takeSpare(): ChildProcess {
  const child = spare && !dead(spare) ? spare : spawnChild();
  spare = null;
  spareDue = true;
  refill();
  return child;
}

/**
 * Spawns the spare that is due, unless a child of ours is still booting. A sequential
 * start()/join() loop takes a spare that has booted, so the next one starts at once; a burst of
 * start() calls (a Pool's workers) takes spares still booting, and a new spare booting beside
 * them on a busy machine would only slow down the children the program is waiting for.
 */
function refill(): void {
  if (!spareDue || spare || sparesDone || booting.size > 0) return;
  spareDue = false;
  spare = spawnChild();
  idle(spare);
}

/** An unassigned spare must not keep this process alive. */
function idle(child: ChildProcess): void {
  child.unref();
  (child.stdio[3] as Socket | null | undefined)?.unref();
}

/** Spawns a spare now (the main process does so at boot: most mains start children). */
export function prewarm(): void {
  if (spare || self.daemon || sparesDone) return;
  spare = spawnChild();
  idle(spare);
}

/** Ends the spare: this process is about to exit. */
export function dropSpare(): void {
  sparesDone = true;
  spare?.kill();
  spare = null;
}
