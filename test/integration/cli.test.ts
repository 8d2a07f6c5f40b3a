import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessEvent, RunEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { isAlive, killGroupSync, pidsInGroup } from '../../src-main/core/process-group.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { presets } from '../../src-main/presets/catalog.ts';
import { STUCK_PY } from '../helpers/fixtures.ts';

// The real CLI (bin/procscope.mjs, as built by scripts/build-node.mjs), in its own Node process.

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-cli-test-'));
let n = 0;
const tmp = (name: string): string => path.join(dir, `${++n}-${name}`);

/** Logs the CLI wrote: if a test fails half-way, their runs' process groups are killed anyway. */
const logs: string[] = [];
const started = new Set<ChildProcess>();

afterEach(async () => {
  // A CLI still running is asked to stop twice (the second SIGINT kills its run at once).
  await Promise.all(
    [...started].map(async (c) => {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGINT');
        c.kill('SIGINT');
        await exited;
      }
    }),
  );
  started.clear();
  for (const log of logs.splice(0)) {
    const root = rootPid(log);
    if (root !== null) {
      try {
        killGroupSync(root);
      } catch {
        // already gone
      }
    }
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function rootPid(log: string): number | null {
  if (!fs.existsSync(log)) return null;
  const first = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as RunEvent;
      } catch {
        return null;
      }
    })
    .find((e) => e?.type === 'process');
  return first?.type === 'process' ? first.pid : null;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `done` resolves when it has exited and its output is complete. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Result> } {
  // PROCSCOPE_HOME keeps logs of runs without --log out of the user's home.
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, PROCSCOPE_HOME: path.join(dir, 'home'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

function cli(...args: string[]): Promise<Result> {
  const i = args.indexOf('--log');
  if (i !== -1) logs.push(path.resolve(dir, args[i + 1]));
  return start(args).done;
}

/** A scenario that only ends when stopped: main joins a child that prints `ready` and sleeps. */
function sleepyScenario(): string {
  const file = tmp('sleepy.ts');
  fs.writeFileSync(
    file,
    `import { Process } from 'procscope';

export async function sleepy(): Promise<void> {
  console.log('ready');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

export default async function main(): Promise<void> {
  const p = new Process({ target: sleepy });
  p.start();
  await p.join();
}
`,
  );
  return file;
}

function readLog(file: string): RunEvent[] {
  return parseRunLogText(fs.readFileSync(file, 'utf8'), file).events;
}

/** A failure is one line `procscope: …` on stderr, no stack trace, and a non-zero exit code. */
function expectOneLineFailure(r: Result, ...mentions: string[]): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, `stderr should be one line, got:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^procscope: /);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('    at ')), 'no stack trace on stderr').toEqual([]);
  for (const m of mentions) expect(lines[0], `the reason should mention ${m}`).toContain(m);
  expect(r.code, `non-zero exit code; stderr: ${r.stderr}`).not.toBe(0);
  expect(r.code, 'a normal exit, not a crash by signal').not.toBeNull();
  return lines[0];
}

describe('procscope presets', () => {
  it('lists all twelve presets, one per line, id first', async () => {
    const r = await cli('presets');
    expect(r.code, r.stderr).toBe(0);
    const ids = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(ids).toEqual(presets.map((p) => p.id));
    expect(ids).toHaveLength(12);
  });

  it('--json prints every preset with its English and Chinese titles', async () => {
    const r = await cli('presets', '--json');
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; title: { en: string; zh: string } }[];
    expect(list.map((p) => p.id)).toEqual(presets.map((p) => p.id));
    for (const p of list) {
      expect(p.title.en, `${p.id} has an English title`).toMatch(/\S/);
      expect(p.title.zh, `${p.id} has a Chinese title`).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('procscope run', () => {
  it('run hello --log F: exits 0, prints its processes and the log path, and F is a complete run log', async () => {
    const log = tmp('hello.jsonl');
    const r = await cli('run', 'hello', '--log', log);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const events = readLog(log);
    expect(events[0].type).toBe('run');
    expect(events.at(-1)).toMatchObject({ type: 'end', reason: 'finished', exitcode: 0 });
    const procs = events.filter((e): e is ProcessEvent => e.type === 'process');
    expect(procs.map((p) => p.name)).toEqual(['MainProcess', 'Process-1']);

    const lines = r.stdout.split('\n');
    expect(
      lines.filter((l) => /^run hello finished after [\d.]+ s, main exit code 0$/.test(l)),
      `the summary says how the run ended; stdout:\n${r.stdout}`,
    ).toHaveLength(1);
    expect(lines).toContain('processes (2)');
    for (const p of procs) {
      const row = lines.find((l) => l.trim().split(/\s+/)[0] === String(p.pid));
      expect(row, `a summary row for pid ${p.pid}`).toBeDefined();
      expect(row).toContain(p.name);
    }
    expect(lines).toContain(`log: ${log}`);
    // The scenario's own output, tagged with who printed it.
    const child = procs[1];
    expect(lines).toContain(`[${child.pid} Process-1] name: bob`);
  });

  it('run hello --json prints only the log lines, from run to end', async () => {
    const r = await cli('run', 'hello', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const events = lines.map((l, i) => {
      try {
        return JSON.parse(l) as RunEvent;
      } catch {
        throw new Error(`stdout line ${i + 1} is not JSON: ${l}`);
      }
    });
    expect(events[0]?.type, 'the first line is the run event').toBe('run');
    expect(events.at(-1), 'the last line is the end event').toMatchObject({ type: 'end', reason: 'finished' });
    expect(events.filter((e) => e.type === 'process').length, 'main and its child, each once').toBe(2);
    // Exactly the log: the same lines as the file in the runs folder.
    const runs = path.join(dir, 'home', 'runs');
    const file = fs.readdirSync(runs).map((f) => path.join(runs, f)).find((f) => fs.readFileSync(f, 'utf8') === r.stdout);
    expect(file, 'stdout is byte for byte the run log').toBeDefined();
  });

  it("run hello --py runs the preset's Python original; its log is named hello-py and says so", async () => {
    const r = await cli('run', 'hello', '--py', '--json');
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as RunEvent);
    expect(events[0]).toMatchObject({ type: 'run', scenario: 'hello', runtime: 'python', interpreter: 'python3' });
    const out = events.filter((e) => e.type === 'output').map((e) => (e.type === 'output' ? e.text : ''));
    expect(out[0], 'the Python seed prints with a full-width colon').toMatch(/^parent process id：\d+$/);
    const runs = fs.readdirSync(path.join(dir, 'home', 'runs'));
    expect(runs.some((f) => /-hello-py-[0-9a-f]{6}\.jsonl$/.test(f)), runs.join(', ')).toBe(true);
  });

  it('--python names the interpreter (and, for a preset, asks for its Python original)', async () => {
    const r = await cli('run', 'hello', '--python', 'python3', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0])).toMatchObject({ runtime: 'python', interpreter: 'python3' });
    const log = tmp('never.jsonl');
    expectOneLineFailure(await cli('run', 'hello', '--python', path.join(dir, 'no-such-python'), '--log', log), 'no-such-python');
    expect(fs.existsSync(log), 'a run that never started leaves no log').toBe(false);
  });

  it('arguments after -- reach the program: sys.argv in Python, process.argv in a scenario', async () => {
    const py = tmp('argv.py');
    fs.writeFileSync(py, 'import sys\nprint(sys.argv[1:])\n');
    const r = await cli('run', py, '--json', '--', 'a b', '--c', '-');
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as RunEvent);
    expect(events[0]).toMatchObject({ args: ['a b', '--c', '-'] });
    expect(events.find((e) => e.type === 'output')).toMatchObject({ text: "['a b', '--c', '-']" });

    const ts = tmp('argv.ts');
    fs.writeFileSync(ts, 'export default function main(): void {\n  console.log(JSON.stringify(process.argv.slice(2)));\n}\n');
    const t = await cli('run', ts, '--json', '--', 'x', '--y');
    expect(t.code, t.stderr).toBe(0);
    const tsOut = t.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as RunEvent).find((e) => e.type === 'output');
    expect(tsOut).toMatchObject({ text: '["x","--y"]' });
  });

  it('refuses to append a second run to an existing log', async () => {
    const log = tmp('existing.jsonl');
    fs.writeFileSync(log, '{"t":0}\n');
    const r = await cli('run', 'hello', '--log', log);
    expectOneLineFailure(r, log);
    expect(fs.readFileSync(log, 'utf8'), 'the file is left as it was').toBe('{"t":0}\n');
  });

  it('a reader closing the pipe early ends the CLI quietly, and its run with it', async () => {
    const log = tmp('pipe.jsonl');
    logs.push(log);
    // A run that cannot end by itself, sampled every 50 ms: the CLI keeps writing until it
    // notices the closed pipe.
    const { child, done } = start(['run', sleepyScenario(), '--json', '--interval', '50', '--log', log]);
    // Read the first line, then close our end, as `| head -1` does.
    await new Promise<void>((resolve) => {
      let seen = '';
      const onData = (s: string) => {
        seen += s;
        if (seen.includes('\n')) {
          child.stdout!.off('data', onData);
          child.stdout!.destroy();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
    });
    const r = await done;
    expect(r.stderr.split('\n').filter((l) => l.startsWith('    at ')), `no stack trace; stderr:\n${r.stderr}`).toEqual([]);
    expect(r.code, 'the exit code of a closed pipe').toBe(141);
    // The run was stopped properly: its log is complete and nothing of it is left.
    const events = readLog(log);
    expect(events.at(-1)).toMatchObject({ type: 'end', reason: 'stopped' });
    const root = rootPid(log);
    if (root === null) throw new Error('the log names no root process');
    expect(pidsInGroup(root), 'no process of the run is left').toEqual([]);
  });
});

const SYNTAX_ERROR = 'export default async function main( {\n  console.log("never");\n}\n';
const THROWS = 'export default async function main(): Promise<void> {\n  throw new Error("the main went wrong");\n}\n';

describe('bad input: one line on stderr, no stack trace, non-zero exit', () => {
  it('unknown preset', async () => {
    expectOneLineFailure(await cli('run', 'no-such-preset'), "unknown preset 'no-such-preset'");
  });

  it('missing scenario file', async () => {
    const file = tmp('missing.ts');
    expectOneLineFailure(await cli('run', file), file);
  });

  it('unknown option', async () => {
    expectOneLineFailure(await cli('run', 'hello', '--frobnicate'), '--frobnicate');
  });

  it('a second positional: program arguments go after --', async () => {
    expectOneLineFailure(await cli('run', 'hello', 'extra'), "'extra'", '--');
  });

  it('--py with a TypeScript file', async () => {
    const file = tmp('twin.ts');
    fs.writeFileSync(file, 'export default function main(): void {}\n');
    expectOneLineFailure(await cli('run', file, '--py'), 'twin.ts', 'not a Python program');
  });

  it('--interval 10 (below 50 ms)', async () => {
    expectOneLineFailure(await cli('run', 'hello', '--interval', '10'), '--interval');
  });

  it('a scenario with a syntax error: the reason names the file', async () => {
    const file = tmp('syntax.ts');
    fs.writeFileSync(file, SYNTAX_ERROR);
    expectOneLineFailure(await cli('run', file, '--log', tmp('syntax.jsonl')), file);
  });

  it('a scenario whose main throws: the reason says so', async () => {
    const file = tmp('throws.ts');
    fs.writeFileSync(file, THROWS);
    expectOneLineFailure(await cli('run', file, '--log', tmp('throws.jsonl')), 'the main went wrong');
  });

  it('export of a corrupt log (garbage in the middle)', async () => {
    const log = tmp('corrupt.jsonl');
    fs.writeFileSync(
      log,
      [
        '{"t":0,"type":"run","version":1,"scenario":"hello","startedAt":"2025-03-01T09:30:00.000Z","interval":500,"cwd":"/tmp"}',
        '{"t":2,"type":"process","pid":41200,"ppid":41187,"name":"MainProcess","daemon":false}',
        'garbage }{ not json',
        '{"t":500,"type":"sample","pid":41200,"cpu":3.1,"rss":48230400}',
        '{"t":600,"type":"end","reason":"finished","exitcode":0}',
        '',
      ].join('\n'),
    );
    expectOneLineFailure(await cli('export', log, '--format', 'csv', '-o', tmp('corrupt.csv')), log, 'line 3');
  });

  it('export of a missing file', async () => {
    const log = tmp('nothing.jsonl');
    expectOneLineFailure(await cli('export', log, '--format', 'csv'), log);
  });

  it('export with an unknown --format', async () => {
    expectOneLineFailure(await cli('export', tmp('any.jsonl'), '--format', 'xml'), 'xml');
  });
});

describe('procscope export', () => {
  let log: string;
  beforeAll(async () => {
    log = tmp('export-source.jsonl');
    // A short interval so the run has samples to export.
    const r = await cli('run', 'hello', '--log', log, '--interval', '50');
    expect(r.code, r.stderr).toBe(0);
  });

  it('--format csv writes one row per sample under the header t_ms,pid,name,cpu_percent,rss_bytes', async () => {
    const out = tmp('samples.csv');
    const r = await cli('export', log, '--format', 'csv', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(out);
    const rows = fs.readFileSync(out, 'utf8').split('\r\n');
    expect(rows.pop(), 'the file ends with a line end').toBe('');
    expect(rows[0]).toBe('t_ms,pid,name,cpu_percent,rss_bytes');
    const samples = readLog(log).filter((e) => e.type === 'sample');
    expect(rows.slice(1), 'one row per sample').toHaveLength(samples.length);
    for (const row of rows.slice(1)) expect(row.split(','), row).toHaveLength(5);
  });

  it('--format trace -o X writes a Chrome trace with traceEvents', async () => {
    const out = tmp('run.trace.json');
    const r = await cli('export', log, '--format', 'trace', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: { pid: number }[] };
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    const root = rootPid(log);
    expect(trace.traceEvents.some((e) => e.pid === root), "the trace has main's process").toBe(true);
  });
});

describe('verdicts and procscope compare', () => {
  // An English terminal whatever the machine's locale, unless a test asks for Chinese.
  const EN = { LC_ALL: 'C.UTF-8' };
  let locked: string;
  let unlocked: string;
  let lockedRun: Result;
  let unlockedRun: Result;
  beforeAll(async () => {
    locked = tmp('flash-sale.jsonl');
    unlocked = tmp('flash-sale-unlocked.jsonl');
    logs.push(locked, unlocked);
    [lockedRun, unlockedRun] = await Promise.all([
      start(['run', 'flash-sale', '--log', locked], EN).done,
      start(['run', 'flash-sale-unlocked', '--log', unlocked], EN).done,
    ]);
  });

  it("the summary of a preset run prints its verdict under the run's first line", () => {
    expect(lockedRun.code, lockedRun.stderr).toBe(0);
    const lines = lockedRun.stdout.split('\n');
    const first = lines.findIndex((l) => l.startsWith('run flash-sale finished after'));
    expect(lines[first + 1]).toBe('verdict: 3 sold of 3 in stock, 7 turned away; never two holders of the lock at once');
    const sold = readLog(unlocked).filter((e) => e.type === 'output' && e.text.includes('抢购成功')).length;
    expect(unlockedRun.stdout.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^verdict: ${sold} sold of 3 in stock: oversold by ${sold - 3} \\(no lock\\)`)));
  });

  it('a Chinese terminal gets the verdict in Chinese; a program of your own gets none', async () => {
    // LC_ALL and LC_MESSAGES outrank LANG: empty, they leave it to LANG.
    const r = await start(['run', 'bounded-queue', '--py'], { LC_ALL: '', LC_MESSAGES: '', LANG: 'zh_CN.UTF-8' }).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toContain('结论：队列先装满到上限 3，最后又清空了：放入 3 个，取出 3 个');
    const own = tmp('own.ts');
    fs.writeFileSync(own, 'export default function main(): void {}\n');
    const o = await start(['run', own], EN).done;
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).not.toMatch(/^verdict:/m);
  });

  it('compare A B prints an aligned table, the rows that differ marked with *', async () => {
    const r = await start(['compare', locked, unlocked]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual([`A: ${locked}`, `B: ${unlocked}`]);
    const header = lines.find((l) => /^\s+WHAT\s+A\s+B$/.test(l));
    expect(header, r.stdout).toBeDefined();
    const at = (label: string) => {
      const line = lines.find((l) => l.slice(3).startsWith(label));
      if (!line) throw new Error(`no row '${label}' in:\n${r.stdout}`);
      return line;
    };
    expect(at('Processes')).toMatch(/^ {3}Processes\s+11\s+11$/);
    expect(at('Lock 1 (by creation order): acquisitions')).toMatch(/^\* {2}Lock 1 \(by creation order\): acquisitions\s+10\s+—$/);
    expect(at('Program')).toMatch(/^\* {2}Program\s+flash-sale \(TypeScript\)\s+flash-sale-unlocked \(TypeScript\)$/);
    // Aligned: the A column starts at the same place on every row.
    const aColumn = header!.indexOf(' A ') + 1;
    for (const label of ['Processes', 'Lock 1 (by creation order): acquisitions', 'Exit codes']) expect(at(label).slice(aColumn - 1, aColumn + 1)).toMatch(/^ \S/);
    expect(lines).toContainEqual(expect.stringMatching(/^\* \d+ of \d+ rows differ/));
  });

  it('compare --json prints the rows', async () => {
    const r = await start(['compare', locked, unlocked, '--json']).done;
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { key: string; a: string; b: string; differs: boolean; section: string; label: { en: string; zh: string } }[];
    expect(rows.find((x) => x.key === 'lock.1.acquisitions')).toEqual({
      key: 'lock.1.acquisitions',
      label: { en: 'Lock 1 (by creation order): acquisitions', zh: '锁 1（按创建顺序）：获取次数' },
      a: '10',
      b: '—',
      differs: true,
      section: 'lock',
    });
  });

  it('a log cut short by a killed monitor is still compared, with one note on stderr', async () => {
    const torn = tmp('torn.jsonl');
    const text = fs.readFileSync(locked, 'utf8');
    // Drop the end and tear the last line in half, as a SIGKILL mid-write leaves it.
    const kept = text.split('\n').slice(0, -3).join('\n');
    fs.writeFileSync(torn, kept.slice(0, kept.length - 10));
    const r = await start(['compare', locked, torn]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^procscope: note: ${torn}: line \\d+ was cut short and is left out$`))]);
    expect(r.stdout).toMatch(/How it ended \(main's exit code\)\s+finished \(0\)\s+no end \(log cut short\)/);
  });

  it('bad input: a missing file, a file that is not a run log, a damaged log, one log only', async () => {
    const missing = tmp('missing.jsonl');
    expectOneLineFailure(await cli('compare', locked, missing), missing, 'no such file');
    const notALog = tmp('notes.txt');
    fs.writeFileSync(notALog, 'hello\n');
    expectOneLineFailure(await cli('compare', notALog, locked), notALog, 'not a procscope run log');
    const damaged = tmp('damaged.jsonl');
    const lines = fs.readFileSync(locked, 'utf8').split('\n');
    lines.splice(2, 0, 'garbage }{ not json');
    fs.writeFileSync(damaged, lines.join('\n'));
    const d = await cli('compare', locked, damaged);
    expectOneLineFailure(d, damaged, 'line 3');
    expect(d.code).toBe(1);
    const usage = await cli('compare', locked);
    expectOneLineFailure(usage, 'compare needs two run logs');
    expect(usage.code).toBe(2);
  });
});

describe('Ctrl-C', () => {
  it('SIGINT stops the run: the CLI exits 130 and no process of the run is left', async () => {
    const file = sleepyScenario();
    const log = tmp('sleepy.jsonl');
    logs.push(log);
    const { child, done } = start(['run', file, '--log', log]);
    // Wait, on the CLI's streamed stdout, for the child's line `[pid Process-1] ready`.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (s: string) => {
        seen += s;
        if (/\] ready\n/.test(seen)) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => reject(new Error(`the CLI exited before the child was ready; stdout:\n${seen}`)));
    });
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, `exit code after Ctrl-C; stderr: ${r.stderr}`).toBe(130);
    const events = readLog(log);
    const pids = events.filter((e): e is ProcessEvent => e.type === 'process').map((e) => e.pid);
    expect(pids, 'main and its child').toHaveLength(2);
    expect(pids.filter(isAlive), 'no process of the run is alive').toEqual([]);
    expect(pidsInGroup(pids[0]), "nothing is left in the run's process group").toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'end', reason: 'stopped' });
  });

  it('a stuck Python run stopped with Ctrl-C first says where each process was', async () => {
    const file = tmp('stuck.py');
    fs.copyFileSync(STUCK_PY, file);
    const { child, done } = start(['run', file]);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (s: string) => {
        seen += s;
        if (/\] waiting\n/.test(seen)) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => reject(new Error(`the CLI exited before the consumer waited; stdout:\n${seen}`)));
    });
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, `exit code after Ctrl-C; stderr: ${r.stderr}`).toBe(130);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('where each process was (innermost last):');
    expect(at, r.stdout).toBeGreaterThanOrEqual(0);
    const stacks = lines.slice(at);
    expect(stacks.some((l) => /^ {2}\[\d+ MainProcess\] MainThread$/.test(l))).toBe(true);
    expect(stacks.some((l) => /^ {6}\d+-stuck\.py:15 in <module>: c\.join\(\)$/.test(l)), r.stdout).toBe(true);
    expect(stacks.some((l) => /^ {2}\[\d+ consumer\] MainThread$/.test(l))).toBe(true);
    expect(stacks.some((l) => /^ {6}\d+-stuck\.py:[78] in consume: /.test(l)), r.stdout).toBe(true);
  });

  it('so does one stopped by --timeout', async () => {
    const file = tmp('stuck.py');
    fs.copyFileSync(STUCK_PY, file);
    const r = await cli('run', file, '--timeout', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stopped after --timeout 2 s');
    const lines = r.stdout.split('\n');
    expect(lines, r.stdout).toContain('where each process was (innermost last):');
    expect(lines.some((l) => /^ {6}\d+-stuck\.py:15 in <module>: c\.join\(\)$/.test(l)), r.stdout).toBe(true);
  });
});
