// The exports of a profiled run: the speedscope file is valid by speedscope's published schema
// (test/fixtures/speedscope, validated with ajv) and says what the log says; the Chrome trace
// carries the samples as the V8 profile events Perfetto reads; a log without samples is refused.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src-main/api.ts';
import { ProfileCollector } from '../../src-main/core/profile/collector.ts';
import { NotProfiledError, SpeedscopeBuilder, exportSpeedscope, type SpeedscopeFile } from '../../src-main/core/runlog/speedscope.ts';
import { toChromeTrace } from '../../src-main/core/runlog/trace.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-speedscope-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/speedscope/file-format-schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

/** A profiled run: main (pid 1) and two Pool workers burning in `burn`, through the real collector. */
function profiledRun(): RunEvent[] {
  const events: RunEvent[] = [
    { t: 0, type: 'run', version: 1, scenario: '/p/burn.py', startedAt: '2025-03-01T09:30:00.000Z', interval: 100, cwd: '/p', runtime: 'python', profile: { hz: 100 } },
    { t: 1, type: 'process', pid: 1, ppid: 0, name: 'MainProcess', daemon: false },
    { t: 5, type: 'process', pid: 2, ppid: 1, name: 'ForkPoolWorker-1', daemon: true },
    { t: 5, type: 'process', pid: 3, ppid: 1, name: 'ForkPoolWorker-2', daemon: true },
  ];
  const collector = new ProfileCollector((e) => events.push(e), (_pid, why) => {
    throw new Error(why);
  });
  for (const pid of [2, 3]) {
    collector.receive(pid, {
      k: 'prof',
      fb: 0,
      f: [
        ['worker', '/usr/lib/python3/multiprocessing/pool.py', 125, 1],
        ['task', '/p/burn.py', 9, 0],
        ['burn', '/p/burn.py', 4, 0],
        ['get', '/usr/lib/python3/multiprocessing/queues.py', 364, 1],
      ],
      sb: 0,
      s: [
        [-1, 0],
        [0, 1],
        [1, 2],
        [0, 3],
      ],
      th: [[0, 'MainThread']],
      d: [20_000, 10_000, 10_000, 10_000],
      ti: [0, 0, 0, 0],
      st: [2, 2, 2, 3],
      c: '9990',
    });
  }
  collector.receive(1, {
    k: 'prof',
    fb: 0,
    f: [
      ['<module>', '/p/burn.py', 14, 0],
      ['burn', '/p/burn.py', 5, 0],
    ],
    sb: 0,
    s: [
      [-1, 0],
      [0, 1],
    ],
    th: [[0, 'MainThread'], [1, 'Thread-1 (_handle_results)']],
    d: [15_000, 10_000, 0, 10_000],
    ti: [0, 0, 1, 0],
    st: [1, 1, 0, 0],
    c: '9904',
  });
  events.push({ t: 90, type: 'end', reason: 'finished', exitcode: 0 });
  return events;
}

function writeLog(name: string, events: RunEvent[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return file;
}

describe('speedscope export', () => {
  it('is valid by speedscope’s published schema', async () => {
    const log = writeLog('burn.jsonl', profiledRun());
    const out = path.join(dir, 'burn.speedscope.json');
    const result = await exportSpeedscope(log, out, undefined, 'procscope@test');
    const file = JSON.parse(fs.readFileSync(out, 'utf8')) as SpeedscopeFile;
    const ok = validate(file);
    expect(validate.errors ?? [], 'schema errors').toEqual([]);
    expect(ok).toBe(true);
    expect(result.profiles).toBe(file.profiles.length);
    expect(file.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    expect(file.exporter).toBe('procscope@test');
  });

  it('merges the Pool workers first, then each thread on the CPU, then each in wall-clock time', () => {
    const b = new SpeedscopeBuilder();
    for (const e of profiledRun()) b.add(e);
    const file = b.build('procscope@test') as SpeedscopeFile;
    // The pool's thread only waited: it has no on-CPU profile.
    expect(file.profiles.map((p) => p.name)).toEqual([
      'ForkPoolWorker × 2 (task), merged · on-CPU',
      'ForkPoolWorker-1 (pid 2) · on-CPU',
      'ForkPoolWorker-2 (pid 3) · on-CPU',
      'MainProcess (pid 1) · on-CPU',
      'ForkPoolWorker-1 (pid 2) · wall-clock',
      'ForkPoolWorker-2 (pid 3) · wall-clock',
      'MainProcess (pid 1) · wall-clock',
      'MainProcess (pid 1) · Thread-1 (_handle_results) · wall-clock',
    ]);
    const frame = (i: number) => file.shared.frames[i].name;
    const merged = file.profiles[0];
    // Each worker: three samples in burn on the CPU (10 ms each), its get waited (0 on the CPU).
    expect(merged.samples.map((s) => s.map(frame).join(' > '))).toEqual(Array(6).fill('worker > task > burn'));
    expect(merged.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(60);
    // Main's burn is one frame though its samples ran lines 5; the sample at 4/9 weighs 4/9 of 10 ms.
    const mainWall = file.profiles.find((p) => p.name === 'MainProcess (pid 1) · wall-clock');
    expect(mainWall?.samples.map((s) => s.map(frame).join(' > '))).toEqual(['<module> > burn', '<module> > burn', '<module>']);
    const mainCpu = file.profiles.find((p) => p.name === 'MainProcess (pid 1) · on-CPU');
    expect(mainCpu?.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(10 + 10 + (10 * 4) / 9, 2);
    expect(file.shared.frames.find((f) => f.name === 'burn')).toMatchObject({ file: '/p/burn.py', line: 4 });
  });

  it('refuses a log without samples, in one line', async () => {
    const log = writeLog('plain.jsonl', [profiledRun()[0], { t: 3, type: 'end', reason: 'finished', exitcode: 0 }]);
    const out = path.join(dir, 'plain.speedscope.json');
    await expect(exportSpeedscope(log, out, undefined, 'procscope@test')).rejects.toThrow(NotProfiledError);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('the Chrome trace of a profiled run', () => {
  it('carries each thread’s samples on the CPU as a V8 Profile and ProfileChunks, and waits as slices', () => {
    const events = profiledRun();
    events.splice(-1, 0,
      { t: 30, type: 'wait', op: 'begin', pid: 2, wait: 1, kind: 'get', object: 'queue-1-1', site: { file: '/p/burn.py', line: 9, func: 'task' } },
      { t: 45, type: 'wait', op: 'end', pid: 2, wait: 1 },
    );
    const trace = toChromeTrace(events).traceEvents;
    const profiles = trace.filter((e) => e.ph === 'P' && e.name === 'Profile');
    expect(profiles.map((e) => [e.pid, e.tid])).toEqual([
      [2, 2],
      [3, 3],
      [1, 1],
      [1, expect.any(Number)],
    ]);
    const chunks = trace.filter((e) => e.ph === 'P' && e.name === 'ProfileChunk');
    const worker = chunks.find((e) => e.pid === 2) as unknown as { id: string; args: { data: { cpuProfile: { nodes: { id: number; parent?: number; callFrame: { functionName: string } }[]; samples: number[] }; timeDeltas: number[] } } };
    const { nodes, samples } = worker.args.data.cpuProfile;
    // Ancestors first, each node's parent declared before it; only the samples that ran.
    expect(nodes.map((n) => [n.callFrame.functionName, n.parent === undefined ? null : nodes.find((p) => p.id === n.parent)?.callFrame.functionName])).toEqual([
      ['worker', null],
      ['task', 'worker'],
      ['burn', 'task'],
    ]);
    expect(samples).toHaveLength(3);
    expect(worker.args.data.timeDeltas).toEqual([0, 10_000, 10_000]);
    expect(worker.id).toBe(profiles[0].id);
    const wait = trace.find((e) => e.ph === 'X' && e.name === 'get queue-1-1');
    expect(wait).toMatchObject({ pid: 2, ts: 30_000, dur: 15_000, args: { site: '/p/burn.py:9', function: 'task' } });
  });
});
