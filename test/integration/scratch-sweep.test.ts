// A monitor killed with SIGKILL cannot remove its run's temporary folder: the next start does,
// and removes nothing else (a running monitor's folder, a folder that is not certainly ours).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src-main/api.ts';
import { packageRoot } from '../../src-main/core/paths.ts';
import { alive } from '../helpers/leaks.ts';
import { scenarioFile } from '../helpers/run.ts';

const BIN = path.join(packageRoot(), 'bin', 'procscope.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-sweep-test-'));
/** The system temporary folder of every monitor started here. */
const tmp = path.join(dir, 'tmp');
fs.mkdirSync(tmp);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const monitors = new Set<ChildProcess>();
const roots = new Set<number>();
afterEach(() => {
  for (const m of monitors) m.kill('SIGKILL');
  monitors.clear();
  for (const pid of roots) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  roots.clear();
});

/** Says where the broker listens, then waits until it is stopped. */
const WAITER = scenarioFile(`
export default async function main(): Promise<void> {
  console.log('socket ' + process.env.PROCSCOPE_SOCKET);
  await new Promise(() => setInterval(() => undefined, 1 << 30));
}
`);

/** A monitor (the CLI) running WAITER with TMPDIR set; resolves with its run's folder once the program said it. */
async function monitor(): Promise<{ child: ChildProcess; folder: string; root: number }> {
  const child = spawn(process.execPath, [BIN, 'run', WAITER, '--json', '--log', path.join(dir, `${Date.now()}-${monitors.size}.jsonl`)], {
    env: { ...process.env, TMPDIR: tmp, PROCSCOPE_HOME: path.join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  monitors.add(child);
  let buffered = '';
  let root = 0;
  const socket = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      buffered += s;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const e = JSON.parse(line) as RunEvent;
        if (e.type === 'process' && e.name === 'MainProcess') roots.add((root = e.pid));
        if (e.type === 'output' && e.text.startsWith('socket ')) resolve(e.text.slice('socket '.length));
      }
    });
    child.once('exit', (code) => reject(new Error(`the monitor exited (${code}) before its program said where the broker is`)));
  });
  return { child, folder: path.dirname(socket), root };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Kernel state, polled: a process we did not start has no exit event. */
async function gone(pid: number): Promise<boolean> {
  for (const deadline = performance.now() + 5_000; performance.now() < deadline; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !alive(pid);
}

describe("a killed monitor's temporary folder", () => {
  it('is removed by the next start; a live monitor’s folder and folders not certainly ours stay', async () => {
    const killed = await monitor();
    expect(fs.readFileSync(path.join(killed.folder, 'monitor'), 'utf8')).toMatch(new RegExp(`^${killed.child.pid}:\\d+$`));
    killed.child.kill('SIGKILL');
    await exited(killed.child);
    expect(await gone(killed.root), 'its run ended with it').toBe(true);
    expect(fs.existsSync(killed.folder), 'a SIGKILLed monitor leaves its folder').toBe(true);

    const running = await monitor();
    const notOurs = [
      path.join(tmp, 'procscope-broker-nomark'), // no owner file: perhaps being made right now
      path.join(tmp, 'procscope-broker-garbage'), // an owner file that names no monitor
      path.join(tmp, 'procscope-broker-link'), // a link, not a folder
      path.join(tmp, 'unrelated'),
    ];
    fs.mkdirSync(notOurs[0]);
    fs.mkdirSync(notOurs[1]);
    fs.writeFileSync(path.join(notOurs[1], 'monitor'), 'not a monitor');
    fs.symlinkSync(killed.folder.replace(/[^/]+$/, 'unrelated'), notOurs[2]);
    fs.mkdirSync(notOurs[3]);

    // The next start: a run to its end.
    const next = spawn(process.execPath, [BIN, 'run', 'hello', '--log', path.join(dir, 'next.jsonl')], {
      env: { ...process.env, TMPDIR: tmp, PROCSCOPE_HOME: path.join(dir, 'home') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    monitors.add(next);
    let stderr = '';
    next.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    expect(await exited(next), stderr).toBe(0);

    expect(fs.existsSync(killed.folder), 'the killed monitor’s folder is removed').toBe(false);
    expect(fs.existsSync(running.folder), 'a running monitor’s folder stays').toBe(true);
    expect(fs.existsSync(path.join(running.folder, 'broker.sock')), 'with its socket').toBe(true);
    for (const f of notOurs) expect(fs.lstatSync(f, { throwIfNoEntry: false }), `${f} stays`).toBeDefined();
    // The next run removed its own folder as it ended: only the running monitor's is left of ours.
    const ours = fs.readdirSync(tmp).filter((n) => n.startsWith('procscope-broker-') && fs.existsSync(path.join(tmp, n, 'monitor')));
    expect(ours.map((n) => path.join(tmp, n)).sort()).toEqual([running.folder, notOurs[1]].sort());

    running.child.kill('SIGINT');
    expect(await exited(running.child)).toBe(130);
    expect(fs.existsSync(running.folder), 'a monitor that ends removes its folder').toBe(false);
  });
});
