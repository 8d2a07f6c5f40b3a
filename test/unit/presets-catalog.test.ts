import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LessonView, VerdictSpec } from '../../src-main/api.ts';
import { loadPreset, loadPresets, presetById, presets } from '../../src-main/presets/catalog.ts';

const presetsDir = fileURLToPath(new URL('../../src-main/presets/', import.meta.url));

/** The presets, in the order the app lists them, with the seed example each one mirrors. */
const expected: [id: string, seed: number][] = [
  ['hello', 1],
  ['join-in-loop-wrong', 2],
  ['join-in-loop', 2],
  ['subclass', 3],
  ['pool-map', 4],
  ['members', 5],
  ['bounded-queue', 6],
  ['producer-consumer', 7],
  ['flash-sale', 8],
  ['flash-sale-unlocked', 8],
  ['parking-lot', 9],
  ['starting-gun', 9],
];

/**
 * The view that carries each preset's lesson (issue 8): lock lanes for the flash sale, the
 * timeline where lifetimes teach (flash-sale-unlocked has no lock: its race is the buyers'
 * overlapping lanes), the queue chart, and the pool's worker lanes.
 */
const lessons: Record<string, LessonView> = {
  hello: 'timeline',
  'join-in-loop-wrong': 'timeline',
  'join-in-loop': 'timeline',
  subclass: 'timeline',
  'pool-map': 'workers',
  members: 'timeline',
  'bounded-queue': 'queues',
  'producer-consumer': 'queues',
  'flash-sale': 'locks',
  'flash-sale-unlocked': 'timeline',
  'parking-lot': 'locks',
  'starting-gun': 'locks',
};

const VERDICT_KINDS: VerdictSpec['kind'][] = ['parent-waits', 'children', 'exit-codes', 'pool', 'queue', 'stock', 'holders', 'released'];
const isCount = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0;

const CJK = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]/;

// py_compile writes a .pyc; keep it out of the source tree.
const pycache = mkdtempSync(join(tmpdir(), 'procscope-pycache-'));
afterAll(() => rmSync(pycache, { recursive: true, force: true }));

describe('preset catalog', () => {
  it('lists the twelve presets in order, with unique ids and their seed numbers', () => {
    expect(presets.map((p) => [p.id, p.seed])).toEqual(expected);
    expect(new Set(presets.map((p) => p.id)).size).toBe(presets.length);
  });

  it('finds presets by id and nothing else', () => {
    for (const p of presets) expect(presetById(p.id)).toBe(p);
    expect(presetById('no-such-preset')).toBeUndefined();
    expect(() => loadPreset('no-such-preset', presetsDir)).toThrow(/unknown preset 'no-such-preset'/);
  });

  describe.each(presets.map((p) => [p.id, p] as const))('%s', (id, p) => {
    it('has a title and an explanation in English and Chinese', () => {
      for (const text of [p.title, p.explanation]) {
        expect(text.en.trim(), `${id}: empty English text`).not.toBe('');
        expect(text.zh.trim(), `${id}: empty Chinese text`).not.toBe('');
        expect(text.zh, `${id}: Chinese text without Chinese characters`).toMatch(CJK);
        expect(text.en, `${id}: English text with CJK characters`).not.toMatch(CJK);
      }
    });

    it('loads its TypeScript scenario and its Python original', () => {
      expect(p.scenarioFile).toBe(`scenarios/${id}.ts`);
      expect(p.pythonFile).toBe(`python/${id}.py`);
      expect(existsSync(join(presetsDir, p.scenarioFile)), `${p.scenarioFile} missing`).toBe(true);
      expect(existsSync(join(presetsDir, p.pythonFile)), `${p.pythonFile} missing`).toBe(true);

      const info = loadPreset(id, presetsDir);
      expect(Object.keys(info).sort()).toEqual(['explanation', 'id', 'lesson', 'python', 'seed', 'source', 'title', 'verdict']);
      expect(info).toMatchObject({ id, seed: p.seed, title: p.title, explanation: p.explanation });
      expect(info.source).toBe(readFileSync(join(presetsDir, p.scenarioFile), 'utf8'));
      expect(info.python).toBe(readFileSync(join(presetsDir, p.pythonFile), 'utf8'));
      expect(info.source, `${id}: a scenario's main is its default export`).toMatch(/^export default async function main\(\)/m);
      expect(info.source, `${id}: a scenario imports the runtime as 'procscope'`).toMatch(/from 'procscope';/);
      expect(info.python, `${id}: the Python original uses multiprocessing`).toMatch(/^from multiprocessing import /m);
    });
  });

  describe.each(presets.map((p) => [p.id, p] as const))('%s', (id, p) => {
    it('declares the view that carries its lesson', () => {
      expect(p.lesson).toBe(lessons[id]);
    });

    it('declares a verdict of a known kind, with sound parameters that match its programs', () => {
      const v = p.verdict;
      expect(VERDICT_KINDS, `${id}: verdict kind`).toContain(v.kind);
      // Plain data: it crosses IPC with the preset.
      expect(JSON.parse(JSON.stringify(v))).toEqual(v);
      const info = loadPreset(id, presetsDir);
      if (v.kind === 'parent-waits' || v.kind === 'children') expect(isCount(v.children), `${id}: children`).toBe(true);
      if (v.kind === 'pool') {
        expect(isCount(v.workers), `${id}: workers`).toBe(true);
        expect(info.python).toContain(`Pool(${v.workers})`);
        expect(info.source).toContain(`Pool.with(${v.workers},`);
      }
      if (v.kind === 'queue' && v.values) expect(v.values.every((x) => typeof x === 'string' && x !== '')).toBe(true);
      if (v.kind === 'stock') {
        expect(isCount(v.stock)).toBe(true);
        // The verdict counts the lines the buyers print: both versions must print them.
        for (const text of [info.source, info.python]) {
          expect(text).toContain(v.sold);
          expect(text).toContain(v.notSold);
          expect(text).toContain(`'${v.stock}'`);
        }
        expect(v.sold.includes(v.notSold) || v.notSold.includes(v.sold), 'one outcome text must not contain the other').toBe(false);
      }
      if (v.kind === 'holders') {
        expect(isCount(v.capacity) && isCount(v.clients) && v.clients > v.capacity, `${id}: more clients than permits`).toBe(true);
        expect(info.python).toContain(`Semaphore(${v.capacity})`);
        expect(info.source).toContain(`new Semaphore(${v.capacity})`);
        expect(info.python).toContain(`range(${v.clients})`);
        expect(info.source).toContain(`length: ${v.clients}`);
      }
      if (v.kind === 'released') {
        expect(isCount(v.waiters)).toBe(true);
        expect(info.python).toContain(`range(${v.waiters})`);
        expect(info.source).toContain(`length: ${v.waiters}`);
      }
    });
  });

  it('has Python originals that python3 compiles', () => {
    // One python3 for all files: py_compile names the file that fails.
    const files = presets.map((p) => join(presetsDir, p.pythonFile));
    try {
      execFileSync('python3', ['-m', 'py_compile', ...files], {
        env: { ...process.env, PYTHONPYCACHEPREFIX: pycache },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`python3 -m py_compile failed: ${e.stderr?.toString() || e.message}`);
    }
  });

  it('loads every preset at once, in catalogue order', () => {
    expect(loadPresets(presetsDir).map((p) => p.id)).toEqual(expected.map(([id]) => id));
  });
});
