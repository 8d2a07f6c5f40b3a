// The headless shell: `procscope presets | run | export`. Talks to the engine only through the
// Session and the run-log modules; bad input is one line on stderr and a non-zero exit.

import fs from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../api.ts';
import { packageRoot } from '../core/paths.ts';
import { exportCsv } from '../core/runlog/csv.ts';
import { RunLogError } from '../core/runlog/reader.ts';
import { exportTrace } from '../core/runlog/trace.ts';
import { ScenarioError } from '../core/scenario-loader.ts';
import { ControlError, Session } from '../core/session.ts';
import { presets } from '../presets/catalog.ts';
import { USAGE, UsageError, parseArgs, type Command } from './args.ts';
import { processTable, summaryText } from './format.ts';

function fail(message: string, code = 1): never {
  process.stderr.write(`procscope: ${message}\n`);
  process.exit(code);
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function runCommand(cmd: Extract<Command, { cmd: 'run' }>): Promise<number> {
  const session = await Session.start({ scenario: cmd.scenario, logPath: cmd.log, interval: cmd.interval, timeout: cmd.timeout });
  let interrupted = 0;
  const onSignal = () => {
    interrupted += 1;
    // A second Ctrl-C does not wait for the grace period.
    if (interrupted > 1) {
      session.killNow();
      process.exit(130);
    }
    void session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const out = process.stdout;
  if (cmd.json) {
    // The log's own lines, as they happen (the first lines were written before we subscribed).
    session.on((e) => out.write(`${JSON.stringify(e)}\n`));
  } else {
    const live = out.isTTY === true;
    const names = new Map<number, string>(session.processes().map((p) => [p.pid, p.name]));
    let drawn = 0;
    let pending: string[] = [];
    const draw = () => {
      const lines = processTable(session.processes());
      let s = drawn ? `\x1b[${drawn}A\x1b[0J` : '';
      for (const l of pending) s += `${l}\n`;
      pending = [];
      s += `${lines.join('\n')}\n`;
      drawn = lines.length;
      out.write(s);
    };
    const timer = live ? setInterval(draw, 250) : null;
    session.on((e: RunEvent) => {
      if (e.type === 'process') names.set(e.pid, e.name);
      if (e.type === 'output') {
        const line = `[${e.pid} ${names.get(e.pid) ?? ''}]${e.stream === 'stderr' ? ' !' : ''} ${e.text}`;
        if (live) pending.push(line);
        else out.write(`${line}\n`);
      }
      if (e.type === 'deadlock') {
        const line = `deadlock: ${e.cycle.map((c) => `${c.pid} waits for ${c.lock} held by ${c.holder}`).join('; ')}`;
        if (live) pending.push(line);
        else out.write(`${line}\n`);
      }
    });
    const summary = await session.done;
    if (timer) clearInterval(timer);
    if (live) draw();
    out.write(`\n${summaryText(summary, cmd.scenario, session.info.logPath).join('\n')}\n`);
  }
  const { end } = await session.done;
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
  const out = path.resolve(cmd.out ?? log.replace(/\.jsonl$/, '') + (cmd.format === 'csv' ? '.csv' : '.trace.json'));
  if (out === log) fail('refusing to overwrite the log with its export: choose another -o');
  const progress = process.stderr.isTTY
    ? (f: number) => process.stderr.write(`\rexporting ${Math.round(f * 100)}%`)
    : undefined;
  const result = cmd.format === 'csv' ? await exportCsv(log, out, progress) : await exportTrace(log, out, progress);
  if (progress) process.stderr.write('\r\x1b[K');
  const count = 'rows' in result ? `${result.rows} rows` : `${result.events} trace events`;
  process.stdout.write(`wrote ${out} (${count})\n`);
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
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) fail(`${err.message}\n${USAGE}`, 2);
    if (err instanceof ScenarioError || err instanceof RunLogError || err instanceof ControlError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')) fail(`${e.message}`);
    // Anything else is our bug: still one line, plus where to look.
    fail(`internal error: ${e?.message ?? String(err)} (please report it with the run log)`);
  },
);
