// The Backend both window shells share: real sessions, real processes, real run logs on disk.
// Pushes are compared with the run log itself, the one record every shell and export reads.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_MAX_BYTES, type PastRun, type PushMessage, type RunEvent, type RunStatus } from '../../src-main/api.ts';
import { Backend, BATCH_MS, type PushListener } from '../../src-main/core/backend.ts';
import { parseRunLogText } from '../../src-main/core/runlog/reader.ts';
import { CSV_HEADER } from '../../src-main/core/runlog/csv.ts';
import { scenarioFile, tmpRoot } from '../helpers/run.ts';
import { burstScenario } from '../helpers/scenarios.ts';

const home = path.join(tmpRoot, 'backend-home');
const runsDir = path.join(home, 'runs');
const settingsFile = path.join(home, 'settings.json');
const exportsDir = path.join(home, 'exports');

const BURST = burstScenario();

/** Runs until stopped. */
const FOREVER = scenarioFile(`
import { Process } from 'procscope';
export async function sleeper(): Promise<void> {
  await new Promise((r) => setTimeout(r, 60_000));
}
export default async function main(): Promise<void> {
  const p = new Process({ target: sleeper, name: 'sleeper' });
  p.start();
  await p.join();
}
`, 'forever.ts');

const backend = new Backend({ shell: 'electron', runsDir, settingsFile, exportsDir });

beforeAll(() => fs.mkdirSync(runsDir, { recursive: true }));
afterAll(async () => {
  await backend.dispose();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** A subscriber that records every push. */
function recorder(b: Backend = backend) {
  const pushes: PushMessage[] = [];
  const listener: PushListener = (m) => {
    pushes.push(m);
  };
  const off = b.subscribe(listener);
  return { pushes, listener, off };
}

function loggedEvents(logPath: string): RunEvent[] {
  return parseRunLogText(fs.readFileSync(logPath, 'utf8')).events;
}

function eventsOf(pushes: PushMessage[], runId: string): RunEvent[] {
  return pushes.flatMap((m) => (m.type === 'events' && m.runId === runId ? m.events : []));
}

/** Resolves once the pushes so far satisfy `cond` (checked as pushes arrive). */
function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 20);
    };
    check();
  });
}

const processNamed = (pushes: PushMessage[], name: string) =>
  pushes.some((m) => m.type === 'events' && m.events.some((e) => e.type === 'process' && e.name === name));

/** Resolves once a `run` push says `runId` ended (the ended status comes after the last events). */
function ended(pushes: PushMessage[], runId: string, timeoutMs = 30_000): Promise<RunStatus> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = () => {
      const m = pushes.find((p) => p.type === 'run' && p.status.runId === runId && p.status.state === 'ended');
      if (m && m.type === 'run') return resolve(m.status);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`run ${runId} should have ended within ${timeoutMs} ms`));
      setTimeout(check, 20);
    };
    check();
  });
}


/** Runs `scenario` to its end through the backend; resolves with the ended status. */
async function runToEnd(scenario: string, interval?: number): Promise<RunStatus> {
  const rec = recorder();
  try {
    const info = await backend.handle('run.start', { scenario, ...(interval ? { interval } : {}) });
    return await ended(rec.pushes, info.runId);
  } finally {
    rec.off();
  }
}

/** Starts FOREVER and stops it once its child runs: a run that ended as `stopped`. */
async function runStopped(): Promise<RunStatus> {
  const rec = recorder();
  try {
    const info = await backend.handle('run.start', { scenario: FOREVER });
    await until('the sleeper to start', () => processNamed(rec.pushes, 'sleeper'));
    await backend.handle('run.stop', {});
    return await ended(rec.pushes, info.runId);
  } finally {
    rec.off();
  }
}

/**
 * A past run that ended with `reason` (of BURST when finished): one the folder has already, or a
 * new one. Each test makes what it needs, so that any of them passes alone (vitest -t).
 */
async function pastRun(reason: 'finished' | 'stopped'): Promise<PastRun> {
  const matches = (r: PastRun) => r.reason === reason && (reason === 'stopped' || r.scenario === BURST);
  const found = (await backend.handle('runs.list', {})).find(matches);
  if (found) return found;
  const status = reason === 'finished' ? await runToEnd(BURST, 100) : await runStopped();
  const listed = (await backend.handle('runs.list', {})).find((r) => r.runId === status.runId);
  if (!listed || !matches(listed)) throw new Error(`run ${status.runId} should be listed as ${reason}`);
  return listed;
}

/** No process of a finished run is alive (zombies count as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

describe('Backend: live runs', () => {
  it('run.start pushes the whole run, from its `run` event to its `end`, in batches, then an ended status', async () => {
    const rec = recorder();
    const info = await backend.handle('run.start', { scenario: BURST, interval: 100 });
    expect(info.logPath, 'the log goes into the backend runs folder').toBe(path.join(runsDir, `${info.runId}.jsonl`));
    const status = await ended(rec.pushes, info.runId);
    rec.off();

    const logged = loggedEvents(info.logPath);
    const pushed = eventsOf(rec.pushes, info.runId);
    expect(pushed.length, 'every logged event is pushed').toBe(logged.length);
    expect(pushed, 'pushed events are the log, in order, none lost or repeated').toEqual(logged);
    expect(pushed[0].type).toBe('run');
    expect(pushed[pushed.length - 1].type).toBe('end');
    expect(status.end?.type).toBe('end');

    const batches = rec.pushes.filter((m) => m.type === 'events');
    expect(batches.every((m) => m.type === 'events' && m.replay === undefined), 'live pushes are not replays').toBe(true);
    // ~6000 events over ~2-3 s: batches every 50 ms mean at most a few dozen pushes, never thousands.
    expect(logged.length).toBeGreaterThan(5000);
    expect(batches.length, `${logged.length} events should come in batches (one push per ~${BATCH_MS} ms)`).toBeLessThan(logged.length / 20);

    const first = rec.pushes[0];
    expect(first.type === 'run' && first.status.state, 'the first push is the running status').toBe('running');
    expect(rec.pushes[rec.pushes.length - 1].type, 'the ended status is the last push').toBe('run');
  });

  it('run.current replays the run so far, then live events continue: no event lost or repeated', async () => {
    const early = recorder();
    const info = await backend.handle('run.start', { scenario: BURST, interval: 50 });
    // Three pages ask at different moments; each also received live pushes before asking.
    const pages = [recorder(), recorder(), recorder()];
    const marks: number[] = [];
    const answers: (RunStatus | null)[] = [];
    for (const [i, page] of pages.entries()) {
      // Ask at three points of the run, told by how far its events have come.
      await until(`${(i + 1) * 1500} events`, () => eventsOf(early.pushes, info.runId).length >= (i + 1) * 1500);
      marks.push(page.pushes.length);
      answers.push(await backend.handle('run.current', {}, page.listener));
    }
    await ended(early.pushes, info.runId);
    await Promise.all(pages.map((p) => ended(p.pushes, info.runId)));
    for (const r of [early, ...pages]) r.off();

    const logged = loggedEvents(info.logPath);
    for (const [i, page] of pages.entries()) {
      expect(answers[i]?.runId).toBe(info.runId);
      expect(answers[i]?.state, 'asked mid-run').toBe('running');
      const after = page.pushes.slice(marks[i]);
      const got = eventsOf(after, info.runId);
      expect(got.length, `page ${i}: replay + live should hold exactly the ${logged.length} logged events`).toBe(logged.length);
      expect(got, `page ${i}: replay then live equals the log`).toEqual(logged);
      // The replay comes first, and is marked; live pushes follow, unmarked.
      const evs = after.filter((m) => m.type === 'events');
      const firstLive = evs.findIndex((m) => m.type === 'events' && !m.replay);
      expect(evs[0].type === 'events' && evs[0].replay, `page ${i}: the first push after asking is a replay`).toBe(true);
      expect(firstLive, `page ${i}: live pushes continue after the replay`).toBeGreaterThan(0);
      expect(evs.slice(firstLive).every((m) => m.type === 'events' && !m.replay), `page ${i}: no replay after live resumed`).toBe(true);
    }
    // The page that did not ask saw no replay at all.
    expect(early.pushes.some((m) => m.type === 'events' && m.replay)).toBe(false);
    expect(eventsOf(early.pushes, info.runId)).toEqual(logged);
  });

  it('run.current after the end replays the whole log; without a requester every page gets it', async () => {
    const { runId } = await runToEnd('hello');
    const page = recorder();
    const status = await backend.handle('run.current', {});
    expect(status?.runId).toBe(runId);
    expect(status?.state).toBe('ended');
    // The replay is read after a turn; wait for it to complete (its last event is the end).
    await until('the replayed end', () => eventsOf(page.pushes, status!.runId).some((e) => e.type === 'end'));
    page.off();
    expect(eventsOf(page.pushes, status!.runId)).toEqual(loggedEvents(status!.logPath));
  });

  it('a second run.start while one runs is refused; controls answer; run.stop ends it as stopped', async () => {
    const rec = recorder();
    const info = await backend.handle('run.start', { scenario: FOREVER });
    await expect(backend.handle('run.start', { scenario: 'hello' })).rejects.toThrow('a run is already running: stop it first');
    // Wait until the child shows up, then ask the session about it through the backend.
    await until('the sleeper to start', () => processNamed(rec.pushes, 'sleeper'));
    const rows = await backend.handle('process.list', {});
    const sleeper = rows.find((r) => r.name === 'sleeper');
    expect(sleeper?.state, 'the sleeper child should be running').toBe('running');
    const joined = await backend.handle('process.join', { target: { pid: sleeper!.pid! }, timeout: 0.1 });
    expect(joined.alive, 'join(timeout=0.1) returns while the child still runs').toBe(true);
    await expect(backend.handle('process.kill', { target: { pid: 999_999_999 } })).rejects.toMatchObject({ name: 'ControlError' });

    const stopped = await backend.handle('run.stop', {});
    expect(stopped.reason).toBe('stopped');
    await ended(rec.pushes, info.runId);
    rec.off();
    await expect(backend.handle('process.kill', { target: { pid: sleeper!.pid! } })).rejects.toThrow('the run has ended');
    await expect(backend.handle('process.join', { target: { pid: sleeper!.pid! } })).rejects.toThrow('the run has ended');
    expect((await backend.handle('run.stop', {})).reason, 'nothing to stop').toBeNull();
    const pids = (await backend.handle('process.list', {})).map((r) => r.pid).filter((p): p is number => p !== null);
    expect(pids.filter(alive), 'no process of the stopped run survives').toEqual([]);
  });

  it('two run.start at once: exactly one wins', async () => {
    const rec = recorder();
    const results = await Promise.allSettled([backend.handle('run.start', { scenario: 'hello' }), backend.handle('run.start', { scenario: 'hello' })]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won.length).toBe(1);
    expect(String(lost[0]?.reason?.message)).toContain('a run is already running');
    await ended(rec.pushes, (won[0] as PromiseFulfilledResult<{ runId: string }>).value.runId);
    rec.off();
  });
});

describe('Backend: past runs', () => {
  it('runs.list lists the logs newest first, with how each ended, from head and tail only', async () => {
    // A log cut off mid-run (no end line, torn last line) and files that are not run logs.
    const finished = await pastRun('finished');
    await pastRun('stopped');
    const text = fs.readFileSync(finished.logPath, 'utf8');
    const cut = text.split('\n').slice(0, 3).join('\n') + '\n{"t":1,"type":"samp';
    const cutId = '2999-01-01T00-00-00-000Z-cut-000000';
    fs.writeFileSync(path.join(runsDir, `${cutId}.jsonl`), cut.replace(/"startedAt":"[^"]+"/, '"startedAt":"2999-01-01T00:00:00.000Z"'));
    fs.writeFileSync(path.join(runsDir, 'not-a-log.jsonl'), 'hello\n');
    fs.writeFileSync(path.join(runsDir, 'notes.txt'), 'not a log either\n');

    const list = await backend.handle('runs.list', {});
    expect(list[0].runId, 'the newest (by startedAt) comes first').toBe(cutId);
    expect(list[0].reason, 'a log without an end line has no reason').toBeNull();
    expect(list[0].tornBytes, 'its torn last line, in bytes').toBe('{"t":1,"type":"samp'.length);
    expect(list.filter((r) => r.tornBytes !== undefined).map((r) => r.runId), 'only that one is torn').toEqual([cutId]);
    expect(list.map((r) => r.runId)).not.toContain('not-a-log');
    const starts = list.map((r) => r.startedAt);
    expect(starts, 'newest first').toEqual([...starts].sort().reverse());
    const reasons = new Set(list.map((r) => r.reason));
    expect(reasons.has('finished') && reasons.has('stopped'), `reasons seen: ${[...reasons].join(', ')}`).toBe(true);
    for (const r of list) {
      expect(r.bytes).toBe(fs.statSync(r.logPath).size);
      expect(path.dirname(r.logPath)).toBe(runsDir);
    }
    fs.rmSync(path.join(runsDir, `${cutId}.jsonl`));
  });

  it('runs.open replays a past log as replay pushes to the page that asked, and answers the count', async () => {
    const past = await pastRun('finished');
    const asker = recorder();
    const other = recorder();
    const answer = await backend.handle('runs.open', { runId: past.runId }, asker.listener);
    asker.off();
    other.off();
    const logged = loggedEvents(past.logPath);
    expect(answer).toEqual({ runId: past.runId, events: logged.length });
    expect(eventsOf(asker.pushes, past.runId)).toEqual(logged);
    expect(asker.pushes.every((m) => m.type === 'events' && m.replay === true)).toBe(true);
    expect(asker.pushes.length, 'in batches').toBeLessThan(logged.length / 100);
    expect(other.pushes, 'a page that did not ask gets nothing').toEqual([]);
  });

  it('run.export writes jsonl (the log), csv and a Chrome trace, with progress pushes', async () => {
    const past = await pastRun('finished');
    const logged = loggedEvents(past.logPath);

    const rec = recorder();
    const jsonl = await backend.handle('run.export', { runId: past.runId, format: 'jsonl' }, rec.listener);
    rec.off();
    expect(jsonl.savedTo && path.dirname(jsonl.savedTo)).toBe(exportsDir);
    expect(fs.readFileSync(jsonl.savedTo!, 'utf8')).toBe(fs.readFileSync(past.logPath, 'utf8'));
    const progress = rec.pushes.filter((m): m is Extract<PushMessage, { type: 'progress' }> => m.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0].fraction).toBe(0);
    expect(progress[progress.length - 1].fraction).toBe(1);
    expect(progress.every((p, i) => i === 0 || p.fraction >= progress[i - 1].fraction), 'progress never goes back').toBe(true);
    expect(progress[0].task).toBe(`export:${past.runId}:jsonl`);

    const csv = await backend.handle('run.export', { runId: past.runId, format: 'csv' });
    const rows = fs.readFileSync(csv.savedTo!, 'utf8').split('\r\n');
    expect(rows[0]).toBe(CSV_HEADER);
    expect(rows.filter((r) => r !== '').length - 1, 'one row per sample').toBe(logged.filter((e) => e.type === 'sample').length);

    const trace = await backend.handle('run.export', { runId: past.runId, format: 'trace' });
    expect(trace.savedTo?.endsWith(`${past.runId}.trace.json`)).toBe(true);
    const parsed = JSON.parse(fs.readFileSync(trace.savedTo!, 'utf8')) as { traceEvents: { ph: string; pid: number }[] };
    const pids = new Set(logged.filter((e) => e.type === 'process').map((e) => (e as { pid: number }).pid));
    expect(parsed.traceEvents.filter((e) => e.ph === 'X' && pids.has(e.pid)).length, 'a lifetime slice per process').toBeGreaterThanOrEqual(pids.size);

    // What the program printed is in them: the folder is private, and so is every export.
    const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);
    expect(mode(exportsDir), 'the exports folder').toBe('700');
    for (const f of [jsonl.savedTo!, csv.savedTo!, trace.savedTo!]) expect(mode(f), path.basename(f)).toBe('600');
  });

  it('run.export hands the file to saveExport, and deletes it when the person cancels or saved elsewhere', async () => {
    const past = await pastRun('finished');
    const handed: string[] = [];
    const elsewhere = path.join(home, 'saved-by-dialog.jsonl');
    let answer: 'copy' | 'cancel' = 'copy';
    const b = new Backend({
      shell: 'electron',
      runsDir,
      settingsFile,
      exportsDir,
      saveExport: async (name, tempPath) => {
        handed.push(tempPath);
        expect(name).toBe(`${past.runId}.jsonl`);
        if (answer === 'cancel') return { cancelled: true };
        fs.copyFileSync(tempPath, elsewhere);
        return { savedTo: elsewhere };
      },
    });
    expect(await b.handle('run.export', { runId: past.runId, format: 'jsonl' })).toEqual({ savedTo: elsewhere });
    answer = 'cancel';
    expect(await b.handle('run.export', { runId: past.runId, format: 'jsonl' })).toEqual({ cancelled: true });
    expect(handed.length).toBe(2);
    expect(handed.filter((f) => fs.existsSync(f)), 'temp files are gone').toEqual([]);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe(fs.readFileSync(past.logPath, 'utf8'));
    await b.dispose();
  });

  it('a run id is only ever a file directly in the runs folder', async () => {
    const outside = path.join(home, 'outside.jsonl');
    fs.copyFileSync((await pastRun('finished')).logPath, outside);
    fs.symlinkSync(outside, path.join(runsDir, 'linked.jsonl'));
    for (const runId of ['../outside', '../../etc/passwd', '..', '.', '/etc/passwd', 'a/../../outside', '', 'x'.repeat(300)]) {
      await expect(backend.handle('runs.open', { runId }), `runs.open ${JSON.stringify(runId)}`).rejects.toThrow();
      await expect(backend.handle('run.export', { runId, format: 'jsonl' }), `run.export ${JSON.stringify(runId)}`).rejects.toThrow();
    }
    await expect(backend.handle('runs.open', { runId: 'linked' }), 'a symlink leading out is not a run').rejects.toThrow('no run linked');
    await expect(backend.handle('runs.open', { runId: 'no-such-run' })).rejects.toThrow('no run no-such-run');
    expect((await backend.handle('runs.list', {})).map((r) => r.runId)).not.toContain('linked');
    fs.rmSync(path.join(runsDir, 'linked.jsonl'));
  });
});

describe('Backend: settings, presets, app', () => {
  it('settings are validated, persisted, and read back by a new backend', async () => {
    expect(await backend.handle('settings.get', {})).toEqual({ interval: 100, python: 'python3' });
    expect(await backend.handle('settings.set', { interval: 250 })).toEqual({ interval: 250, python: 'python3' });
    expect(JSON.parse(fs.readFileSync(settingsFile, 'utf8'))).toEqual({ interval: 250, python: 'python3' });
    for (const bad of [20, 10_001, 12.5, '300', null]) {
      await expect(backend.handle('settings.set', { interval: bad as number }), `interval ${JSON.stringify(bad)}`).rejects.toMatchObject({ name: 'CommandError' });
    }
    await expect(backend.handle('settings.set', { theme: 'dark' } as never)).rejects.toThrow('invalid arguments');
    for (const bad of ['', ' python3', 'py\0thon', 42]) {
      await expect(backend.handle('settings.set', { python: bad as string }), `python ${JSON.stringify(bad)}`).rejects.toThrow();
    }
    expect(JSON.parse(fs.readFileSync(settingsFile, 'utf8')), 'refused values are not written').toEqual({ interval: 250, python: 'python3' });
    expect(await backend.handle('settings.set', { python: '/usr/bin/python3' })).toEqual({ interval: 250, python: '/usr/bin/python3' });

    const again = new Backend({ shell: 'web', runsDir, settingsFile });
    expect(await again.handle('settings.get', {})).toEqual({ interval: 250, python: '/usr/bin/python3' });
    await again.handle('settings.set', { python: 'python3' });
    await again.dispose();

    fs.writeFileSync(path.join(home, 'broken.json'), '{"interval": "fast"');
    const broken = new Backend({ shell: 'web', runsDir, settingsFile: path.join(home, 'broken.json') });
    expect(await broken.handle('settings.get', {}), 'a damaged file gives the defaults').toEqual({ interval: 100, python: 'python3' });
    await broken.dispose();
  });

  it('the default settings file is next to the runs folder', async () => {
    const b = new Backend({ shell: 'web', runsDir: path.join(home, 'other', 'runs') });
    await b.handle('settings.set', { interval: 1000 });
    expect(fs.existsSync(path.join(home, 'other', 'settings.json'))).toBe(true);
    await b.dispose();
  });

  it('presets.list has every preset with both sources; app.info and scenario.pick answer', async () => {
    const presets = await backend.handle('presets.list', {});
    expect(presets.map((p) => p.id)).toContain('hello');
    expect(presets.every((p) => p.source.length > 0 && p.python.length > 0)).toBe(true);
    expect(await backend.handle('app.info', {})).toMatchObject({ shell: 'electron', platform: process.platform, runsDir });
    expect(await backend.handle('scenario.pick', {})).toEqual({ path: null });
    const picking = new Backend({ shell: 'electron', runsDir, pickScenario: async () => '/some/file.ts' });
    expect(await picking.handle('scenario.pick', {})).toEqual({ path: '/some/file.ts' });
    await picking.dispose();
  });

  it("run.start with runtime python runs a preset's Python original with the interpreter from settings", async () => {
    const b = new Backend({ shell: 'web', runsDir, settingsFile: path.join(home, 'py-settings.json') });
    await b.handle('settings.set', { python: process.env.PROCSCOPE_TEST_PYTHON ?? 'python3' });
    const rec = recorder(b);
    const info = await b.handle('run.start', { scenario: 'hello', runtime: 'python' });
    expect(info.runtime).toBe('python');
    expect(path.basename(info.logPath)).toMatch(/-hello-py-[0-9a-f]{6}\.jsonl$/);
    await until('the run to end', () => eventsOf(rec.pushes, info.runId).some((e) => e.type === 'end'));
    const events = loggedEvents(info.logPath);
    expect(events[0]).toMatchObject({ type: 'run', scenario: 'hello', runtime: 'python' });
    expect(events.at(-1)).toMatchObject({ type: 'end', reason: 'finished', exitcode: 0 });
    const listed = (await b.handle('runs.list', {})).find((r) => r.runId === info.runId);
    expect(listed?.runtime).toBe('python');
    await expect(b.handle('run.start', { scenario: 'hello', runtime: 'perl' as never })).rejects.toThrow('invalid arguments');
    await expect(b.handle('run.start', { scenario: 'hello', args: [1] as never })).rejects.toThrow('invalid arguments');
    await b.dispose();
  });

  it("scenario.source reads a program file to show; never a preset's, a non-program or an oversized file", async () => {
    const py = scenarioFile("print('hello')\n", 'mine.py');
    expect(await backend.handle('scenario.source', { path: py })).toEqual({ path: py, runtime: 'python', text: "print('hello')\n" });
    const ts = scenarioFile('export default function main(): void {}\n', 'mine.ts');
    expect(await backend.handle('scenario.source', { path: ts })).toMatchObject({ runtime: 'typescript' });
    await expect(backend.handle('scenario.source', { path: 'hello' })).rejects.toThrow('is a preset');
    await expect(backend.handle('scenario.source', { path: scenarioFile('secret', 'notes.txt') })).rejects.toThrow('unsupported scenario type');
    await expect(backend.handle('scenario.source', { path: path.join(home, 'missing.py') })).rejects.toThrow('not found');
    const big = scenarioFile('#'.repeat(SOURCE_MAX_BYTES + 1), 'big.py');
    await expect(backend.handle('scenario.source', { path: big })).rejects.toThrow('too large');
    await expect(backend.handle('scenario.source', { path: '' })).rejects.toThrow('invalid arguments');
  });

  it('commands are checked again inside the backend', async () => {
    await expect(backend.handle('nope' as never, {} as never)).rejects.toMatchObject({ name: 'CommandError' });
    await expect(backend.handle('run.start', { scenario: '' })).rejects.toThrow('invalid arguments');
    await expect(backend.handle('run.start', { scenario: 'no-such-preset' })).rejects.toMatchObject({ name: 'ScenarioError' });
  });

  it('dispose stops a running run and leaves no process behind', async () => {
    const b = new Backend({ shell: 'web', runsDir, settingsFile });
    const rec = recorder(b);
    const info = await b.handle('run.start', { scenario: FOREVER });
    await until('the sleeper to start', () => processNamed(rec.pushes, 'sleeper'));
    const rows = await b.handle('process.list', {});
    await b.dispose();
    const pids = rows.map((r) => r.pid).filter((p): p is number => p !== null);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    expect(pids.filter(alive), 'disposed: every process of the run is gone').toEqual([]);
    const last = loggedEvents(info.logPath).at(-1);
    expect(last?.type === 'end' && last.reason).toBe('stopped');
    expect(rec.pushes.length).toBeGreaterThan(0);
    await expect(b.handle('app.info', {})).rejects.toThrow('shutting down');
  });
});
