// Runs a scenario through a real Session (real processes, real broker, real sampler) and gives
// tests its events, the way every shell sees them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExitEvent, OutputEvent, ProcessEvent, RunEvent } from '../../src-main/api.ts';
import { Session, type RunSummary, type SessionOptions } from '../../src-main/core/session.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';

export const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-test-'));

let n = 0;

/** Writes a scenario file into a fresh folder and returns its path. */
export function scenarioFile(source: string, name = 'scenario.ts'): string {
  const dir = path.join(tmpRoot, `s${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

export interface RunResult {
  summary: RunSummary;
  events: RunEvent[];
  /** Events as read back from the run log file. */
  logged: RunEvent[];
  session: Session;
  /** stdout lines of one process, or of all when pid is omitted. */
  stdout(pid?: number): string[];
  stderr(pid?: number): string[];
  processes(): ProcessEvent[];
  exits(): Map<number, number | null>;
  root: number;
}

/**
 * What the broker says when it refuses a connection or what a process claims (run-claims.ts):
 * a run of a genuine program (every preset, every start method) must never see one.
 */
const REFUSED = /broker dropped a connection|skipped a bad message from pid \d+: (spawned|exited):|refused an output connection/;

export interface RunOptions extends Omit<SessionOptions, 'scenario'> {
  during?: (s: Session, events: RunEvent[]) => void | Promise<void>;
  /** The test sends forged or broken messages itself: the broker's refusals are expected. */
  refusals?: 'expected';
}

export async function run(scenario: string, opts: RunOptions = {}): Promise<RunResult> {
  const logPath = opts.logPath ?? path.join(tmpRoot, `run-${++n}.jsonl`);
  const events: RunEvent[] = [];
  const session = await Session.start({ ...opts, scenario, logPath, interval: opts.interval ?? 100, onEvent: (e) => events.push(e) });
  if (opts.during) await opts.during(session, events);
  const summary = await session.done;
  const logged = parseRunLogText(fs.readFileSync(logPath, 'utf8')).events;
  const refused = logged.filter((e) => e.type === 'warning' && REFUSED.test(e.message));
  if (opts.refusals !== 'expected' && refused.length > 0) {
    throw new Error(`the broker refused a process of a genuine run: ${refused.map((e) => (e.type === 'warning' ? e.message : '')).join('; ')}`);
  }
  const lines = (stream: 'stdout' | 'stderr', pid?: number) =>
    logged
      .filter((e): e is OutputEvent => e.type === 'output' && e.stream === stream && (pid === undefined || e.pid === pid))
      .map((e) => e.text);
  return {
    summary,
    events,
    logged,
    session,
    stdout: (pid) => lines('stdout', pid),
    stderr: (pid) => lines('stderr', pid),
    processes: () => logged.filter((e): e is ProcessEvent => e.type === 'process'),
    exits: () => new Map(logged.filter((e): e is ExitEvent => e.type === 'exit').map((e) => [e.pid, e.exitcode])),
    root: session.rootProcessPid,
  };
}

/** Resolves with the first event matching `pred` (already seen or still to come). */
export function waitFor<E extends RunEvent>(session: Session, events: RunEvent[], pred: (e: RunEvent) => e is E): Promise<E>;
export function waitFor(session: Session, events: RunEvent[], pred: (e: RunEvent) => boolean): Promise<RunEvent>;
export function waitFor(session: Session, events: RunEvent[], pred: (e: RunEvent) => boolean): Promise<RunEvent> {
  const seen = events.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const off = session.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}
