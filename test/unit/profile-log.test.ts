// The profile's path from the wire to the log: `prof` and `wait` messages are checked as the broker
// checks them, interned run-wide by the collector (two processes running one function share its
// frame and stack ids), and the log lines they become are valid run events.

import { describe, expect, it } from 'vitest';
import { parseRunEvent, parseCommand, type RunEvent, type SamplesEvent } from '../../src-main/api.ts';
import { ProfileCollector } from '../../src-main/core/profile/collector.ts';
import { profileHz } from '../../src-main/core/profile/profile-options.ts';
import { isUpMessage, type ProfMessage } from '../../src-main/protocol.ts';
import { parseArgs, UsageError } from '../../src-main/cli/args.ts';

/** A process's batch: frames main > work, a stack for each, samples in one thread. */
function batch(over: Partial<ProfMessage> = {}): ProfMessage {
  return {
    k: 'prof',
    fb: 0,
    f: [
      ['main', '/p/prog.py', 10, 0],
      ['work', '/p/prog.py', 3, 0],
    ],
    sb: 0,
    s: [
      [-1, 0],
      [0, 1],
    ],
    th: [[0, 'MainThread']],
    d: [1_000_000, 10_000, 10_000],
    ti: [0, 0, 0],
    st: [1, 1, 0],
    c: '990',
    ...over,
  };
}

function collect(): { events: RunEvent[]; warnings: string[]; c: ProfileCollector } {
  const events: RunEvent[] = [];
  const warnings: string[] = [];
  const c = new ProfileCollector((e) => events.push(e), (_pid, why) => warnings.push(why));
  return { events, warnings, c };
}

describe('prof and wait messages on the wire', () => {
  it('a well-formed batch and wait pass, a malformed one does not', () => {
    expect(isUpMessage(batch())).toBe(true);
    expect(isUpMessage(batch({ c: '99' }))).toBe(false); // one digit per sample
    expect(isUpMessage(batch({ c: '9a0' }))).toBe(false);
    expect(isUpMessage(batch({ ti: [0, 0] }))).toBe(false);
    expect(isUpMessage(batch({ d: [1, -2, 3] }))).toBe(false);
    expect(isUpMessage(batch({ f: [['x', '/f', 1, 2]] }))).toBe(false);
    expect(isUpMessage(batch({ s: [[-2, 0]] }))).toBe(false);
    expect(isUpMessage({ k: 'wait', op: 'begin', w: 1, kind: 'get', obj: 'queue-1-1', at: 12.5, site: ['/p/prog.py', 7, 'consumer'] })).toBe(true);
    expect(isUpMessage({ k: 'wait', op: 'end', w: 1, at: 13, timeout: true })).toBe(true);
    expect(isUpMessage({ k: 'wait', op: 'begin', w: 1, kind: 'sleep', at: 1, site: ['/p', 1, 'f'] })).toBe(false);
    expect(isUpMessage({ k: 'wait', op: 'begin', w: 1, kind: 'get', at: 1 })).toBe(false);
  });
});

describe('the collector', () => {
  it('interns frames and stacks run-wide: a second process running the same code adds none', () => {
    const { events, c } = collect();
    c.receive(100, batch());
    c.receive(200, batch());
    const frames = events.filter((e) => e.type === 'frames');
    const stacks = events.filter((e) => e.type === 'stacks');
    expect(frames).toHaveLength(1);
    expect(stacks).toHaveLength(1);
    const samples = events.filter((e): e is SamplesEvent => e.type === 'samples');
    expect(samples.map((s) => s.pid)).toEqual([100, 200]);
    expect(samples[0].stacks).toEqual(samples[1].stacks);
    expect(samples[0]).toMatchObject({ t: 1000, thread: 'MainThread', dt: [0, 10_000, 10_000], cpu: '990' });
    for (const e of events) expect(parseRunEvent(e), JSON.stringify(e)).toMatchObject({ ok: true });
  });

  it("a process's later batches go on from its own tables", () => {
    const { events, c } = collect();
    c.receive(100, batch());
    c.receive(100, batch({ fb: 2, f: [['other', '/p/prog.py', 20, 1]], sb: 2, s: [[0, 2]], th: [], d: [1_100_000], ti: [0], st: [2], c: '0' }));
    const last = events[events.length - 1] as SamplesEvent;
    expect(last.stacks).toEqual([2]);
    expect(events.find((e) => e.type === 'frames' && e.first === 2)).toMatchObject({ frames: [['other', '/p/prog.py', 20, 1]] });
  });

  it('splits a batch of several threads into one line per thread, each in its own order', () => {
    const { events, c } = collect();
    c.receive(7, batch({ th: [[0, 'MainThread'], [1, 'worker']], ti: [0, 1, 0], d: [500_000, 100, 9_900] }));
    const lines = events.filter((e): e is SamplesEvent => e.type === 'samples');
    expect(lines.map((l) => [l.thread, l.t, l.dt])).toEqual([
      ['MainThread', 500, [0, 10_000]],
      ['worker', 500.1, [0]],
    ]);
  });

  it('leaves out, with a warning, a batch that names what it never defined', () => {
    const { events, warnings, c } = collect();
    c.receive(1, batch({ st: [1, 5, 0] }));
    c.receive(2, batch({ fb: 3 }));
    c.receive(3, batch({ ti: [0, 4, 0] }));
    expect(events.filter((e) => e.type === 'samples')).toEqual([]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/pid 1 .*stack 5/);
  });

  it('turns wait reports into wait lines', () => {
    const { events, c } = collect();
    c.receive(9, { k: 'wait', op: 'begin', w: 3, kind: 'join', target: 12, at: 40, site: ['/p/prog.py', 8, 'main'] });
    c.receive(9, { k: 'wait', op: 'end', w: 3, at: 52, timeout: true });
    expect(events).toEqual([
      { t: 40, type: 'wait', op: 'begin', pid: 9, wait: 3, kind: 'join', target: 12, site: { file: '/p/prog.py', line: 8, func: 'main' } },
      { t: 52, type: 'wait', op: 'end', pid: 9, wait: 3, timeout: true },
    ]);
    for (const e of events) expect(parseRunEvent(e)).toMatchObject({ ok: true });
  });
});

describe('the log lines', () => {
  it('refuse a stack whose parent is not defined before it, and a samples line out of step', () => {
    expect(parseRunEvent({ t: 1, type: 'stacks', first: 0, stacks: [[0, 0]] })).toMatchObject({ ok: false });
    expect(parseRunEvent({ t: 1, type: 'stacks', first: 4, stacks: [[3, 0], [4, 1]] })).toMatchObject({ ok: true });
    expect(parseRunEvent({ t: 1, type: 'samples', pid: 1, thread: 'm', dt: [0, 1], stacks: [0], cpu: '99' })).toMatchObject({ ok: false });
    expect(parseRunEvent({ t: 1, type: 'wait', op: 'begin', pid: 1, wait: 1, kind: 'get' })).toMatchObject({ ok: false });
    expect(parseRunEvent({ t: 1, type: 'run', version: 1, scenario: 's', startedAt: 'x', interval: 100, cwd: '/', profile: { hz: 0 } })).toMatchObject({ ok: false });
  });
});

describe('the switch', () => {
  it('run.start takes profile.hz from 1 to 1000, and the CLI --profile [--hz N]', () => {
    expect(parseCommand('run.start', { scenario: 'hello', profile: {} })).toMatchObject({ ok: true });
    expect(parseCommand('run.start', { scenario: 'hello', profile: { hz: 250 } })).toMatchObject({ ok: true });
    expect(parseCommand('run.start', { scenario: 'hello', profile: { hz: 1001 } })).toMatchObject({ ok: false });
    expect(parseCommand('run.start', { scenario: 'hello', profile: { rate: 5 } })).toMatchObject({ ok: false });
    expect(profileHz(undefined)).toBeNull();
    expect(profileHz({})).toBe(100);
    expect(() => profileHz({ hz: 0.5 })).toThrow(/from 1 to 1000/);
    expect(parseArgs(['run', 'x.py', '--profile'])).toMatchObject({ profile: { hz: 100 } });
    expect(parseArgs(['run', 'x.py', '--profile', '--hz', '250'])).toMatchObject({ profile: { hz: 250 } });
    expect(() => parseArgs(['run', 'x.py', '--hz', '250'])).toThrow(UsageError);
    expect(() => parseArgs(['run', 'x.py', '--profile', '--hz', '5000'])).toThrow(/--hz must be between 1 and 1000/);
    expect(parseArgs(['export', 'r.jsonl', '--format', 'speedscope'])).toMatchObject({ format: 'speedscope' });
  });
});
