// The headless shell: `procscope presets | run | export | serve`. Like the two window shells it
// drives runs through the Backend (the one implementation of the contract's commands) and reads
// its pushes; bad input is one line on stderr and a non-zero exit.

import fs from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../api.ts';
import { DEFAULT_INTERVAL_MS } from '../common/interval.ts';
import { Backend, CommandError } from '../core/backend.ts';
import { packageRoot } from '../core/paths.ts';
import { exportCsv } from '../core/runlog/csv.ts';
import { ExportError, discardPartialExports } from '../core/runlog/export-file.ts';
import { RunLogError, tornTailNote } from '../core/runlog/reader.ts';
import { NotProfiledError, exportSpeedscope } from '../core/runlog/speedscope.ts';
import { EXPORT_SUFFIX } from '../core/runlog/export-names.ts';
import { exportTrace } from '../core/runlog/trace.ts';
import { ScenarioError } from '../core/scenario-loader.ts';
import { ControlError } from '../core/session.ts';
import { findElectron, openWindow } from '../electron/launcher.ts';
import { presetById, presets } from '../presets/catalog.ts';
import { startWebShell } from '../web/server.ts';
import { USAGE, UsageError, parseArgs, type Command } from './args.ts';
import { compareCommand } from './compare.ts';
import { processTable, stacksText, summaryText } from './format.ts';
import { ProfileSummary } from './profile-summary.ts';
import { verdictLine, verdictReaderFor } from './verdict-line.ts';

function fail(message: string, code = 1): never {
  process.stderr.write(`procscope: ${message}\n`);
  process.exit(code);
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The backend of the run in progress, for the handler of a closed stdout. */
let current: Backend | null = null;

async function runCommand(cmd: Extract<Command, { cmd: 'run' }>): Promise<number> {
  // The writer appends (a crash can then only tear the last line), so an existing log would get
  // a second run appended to it, which every reader takes for one garbled run.
  if (cmd.log !== undefined) {
    let size = 0;
    try {
      size = fs.statSync(cmd.log).size;
    } catch {
      // does not exist yet: the writer creates it
    }
    if (size > 0) fail(`log file ${path.resolve(cmd.log)} already exists: choose a new --log path`);
  }
  const out = process.stdout;
  const live = !cmd.json && out.isTTY === true;
  const names = new Map<number, string>();
  let pending: string[] = [];
  const say = (line: string) => {
    if (live) pending.push(line);
    else out.write(`${line}\n`);
  };
  const verdict = verdictReaderFor(cmd.scenario);
  const profile = new ProfileSummary();
  const onEvent = (e: RunEvent) => {
    verdict?.add(e);
    profile.add(e);
    if (cmd.json) {
      out.write(`${JSON.stringify(e)}\n`);
      return;
    }
    if (e.type === 'process') names.set(e.pid, e.name);
    else if (e.type === 'output') say(`[${e.pid} ${names.get(e.pid) ?? ''}]${e.stream === 'stderr' ? ' !' : ''} ${e.text}`);
    else if (e.type === 'deadlock') say(`deadlock: ${e.cycle.map((c) => `${c.pid} waits for ${c.lock} held by ${c.holder}`).join('; ')}`);
  };
  // Naming an interpreter asks for Python: for a preset, that is its Python original.
  const runtime = cmd.runtime ?? (cmd.python !== undefined && presetById(cmd.scenario) ? 'python' : undefined);
  const backend: Backend = new Backend({
    shell: 'cli',
    settings: { interval: cmd.interval ?? DEFAULT_INTERVAL_MS, python: cmd.python ?? 'python3' },
    runLog: cmd.log,
    // A Python run stopped from outside (--timeout, Ctrl-C) first says where each process was:
    // what a person stopping a stuck program wants to know.
    beforeTimeout: () => sayStacks(),
  });
  const sayStacks = async (): Promise<void> => {
    if (cmd.json || info.runtime !== 'python') return;
    const stacks = await backend.handle('run.stacks', {}).catch(() => []);
    if (stacks.length > 0) for (const line of ['', ...stacksText(stacks)]) say(line);
  };
  // Subscribed before start: it sees the run from its first event, as the log does.
  backend.subscribe((m) => {
    if (m.type === 'events') for (const e of m.events) onEvent(e);
  });
  const info = await backend.handle('run.start', {
    scenario: cmd.scenario,
    ...(runtime ? { runtime } : {}),
    ...(cmd.args.length > 0 ? { args: cmd.args } : {}),
    ...(cmd.timeout !== undefined ? { timeout: cmd.timeout } : {}),
    ...(cmd.profile ? { profile: cmd.profile } : {}),
    ...(cmd.sharedCalls ? { sharedCalls: true } : {}),
  });
  current = backend;
  const done = backend.runDone() as NonNullable<ReturnType<Backend['runDone']>>;
  let interrupted = 0;
  const onSignal = () => {
    interrupted += 1;
    // A second Ctrl-C does not wait for the grace period (the exit ends the run's processes).
    if (interrupted > 1) process.exit(130);
    void sayStacks().then(() => backend.handle('run.stop', {}));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (!cmd.json) {
    let drawn = 0;
    const draw = async () => {
      const lines = processTable(await backend.handle('process.list', {}));
      let s = drawn ? `\x1b[${drawn}A\x1b[0J` : '';
      for (const l of pending) s += `${l}\n`;
      pending = [];
      s += `${lines.join('\n')}\n`;
      drawn = lines.length;
      out.write(s);
    };
    const timer = live ? setInterval(() => void draw(), 250) : null;
    const summary = await done;
    if (timer) clearInterval(timer);
    if (live) await draw();
    const lines = summaryText(summary, cmd.scenario, info.logPath);
    const said = verdictLine(verdict);
    if (said) lines.splice(1, 0, said);
    lines.push(...profile.lines(process.cwd()));
    out.write(`\n${lines.join('\n')}\n`);
  }
  const { end } = await done;
  await backend.dispose();
  if (end.reason === 'finished' && end.exitcode === 0) return 0;
  const why =
    end.reason === 'error'
      ? (end.error ?? 'the scenario failed')
      : end.reason === 'finished'
        ? `main exited with code ${end.exitcode}`
        : end.reason === 'timeout'
          ? `stopped after --timeout ${cmd.timeout} s`
          : 'stopped';
  process.stderr.write(`procscope: run ${end.reason}: ${why}\n`);
  return end.reason === 'stopped' && interrupted ? 130 : 1;
}

async function exportCommand(cmd: Extract<Command, { cmd: 'export' }>): Promise<number> {
  const log = path.resolve(cmd.log);
  const out = path.resolve(cmd.out ?? log.replace(/\.jsonl$/, '') + EXPORT_SUFFIX[cmd.format]);
  if (out === log) fail('refusing to overwrite the log with its export: choose another -o');
  const progress = process.stderr.isTTY
    ? (f: number) => process.stderr.write(`\rexporting ${Math.round(f * 100)}%`)
    : undefined;
  // Interrupted (Ctrl-C, SIGTERM): nothing half-written is left, and the exit says why.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      discardPartialExports();
      if (progress) process.stderr.write('\r\x1b[K');
      process.exit(code);
    });
  }
  const result =
    cmd.format === 'csv'
      ? await exportCsv(log, out, progress)
      : cmd.format === 'speedscope'
        ? await exportSpeedscope(log, out, progress)
        : await exportTrace(log, out, progress);
  if (progress) process.stderr.write('\r\x1b[K');
  const count = 'rows' in result ? `${result.rows} rows` : 'profiles' in result ? `${result.profiles} profiles` : `${result.events} trace events`;
  process.stdout.write(`wrote ${out} (${count})\n`);
  if (result.torn) process.stderr.write(`procscope: ${tornTailNote(log, result.torn)}\n`);
  return 0;
}

/** The window in a browser: serves until Ctrl-C, which stops a running run and closes the server. */
async function serveCommand(cmd: Extract<Command, { cmd: 'serve' }>): Promise<number> {
  const shell = await startWebShell({ port: cmd.port });
  // The URL carries the token (and the port, when any free one was asked for): it goes to this
  // terminal only, never to a log.
  process.stdout.write(`procscope is serving the window at\n\n  ${shell.url}\n\nopen it in a browser on this machine; Ctrl-C stops.\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      void shell.close().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const cmd = parseArgs(argv);
  switch (cmd.cmd) {
    case 'help':
      process.stdout.write(`procscope ${version()}: run multi-process programs and see what they do\n\n${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'presets':
      if (cmd.json) {
        process.stdout.write(`${JSON.stringify(presets.map(({ id, seed, title, explanation }) => ({ id, seed, title, explanation })), null, 2)}\n`);
      } else {
        const w = Math.max(...presets.map((p) => p.id.length));
        for (const p of presets) process.stdout.write(`${p.id.padEnd(w)}  ${p.title.en} / ${p.title.zh}\n`);
      }
      return 0;
    case 'run':
      return runCommand(cmd);
    case 'export':
      return exportCommand(cmd);
    case 'compare':
      return compareCommand(cmd, (text) => process.stdout.write(text), (line) => process.stderr.write(`procscope: note: ${line}\n`));
    case 'serve':
      return serveCommand(cmd);
    case 'ui': {
      const window = findElectron();
      if ('electron' in window) return openWindow(window.electron);
      process.stdout.write(`procscope: no desktop window here (${window.reason}): opening the browser shell instead\n`);
      return serveCommand({ cmd: 'serve' });
    }
  }
}

// The reader of a pipe went away (`procscope run x --json | head`): end quietly, as a SIGPIPE
// would, instead of an unhandled 'error' event and its stack trace. A run in progress is
// stopped properly first, so its log gets its end and its temporary folders are removed.
let stdoutGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (stdoutGone) return; // later writes to the closed pipe fail too
  stdoutGone = true;
  if (err.code !== 'EPIPE') fail(`cannot write to stdout: ${err.message}`);
  if (current) void current.dispose().finally(() => process.exit(141));
  else process.exit(141);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line, as for every other mistake; the usage is one --help away.
    if (err instanceof UsageError) fail(`${err.message} (see procscope --help)`, 2);
    if (err instanceof ScenarioError || err instanceof RunLogError || err instanceof ControlError || err instanceof CommandError || err instanceof ExportError) fail(err.message);
    if (err instanceof NotProfiledError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')) fail(`${e.message}`);
    // Anything else is our bug: still one line, plus where to look.
    fail(`internal error: ${e?.message ?? String(err)} (please report it with the run log)`);
  },
);
