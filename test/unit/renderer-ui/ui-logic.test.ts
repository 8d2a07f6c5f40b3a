import { describe, expect, it } from 'vitest';
import type { PresetInfo } from '../../../src-main/api.ts';
import { en, type MessageKey } from '../../../src-renderer/i18n/en.ts';
import { interpolate } from '../../../src-renderer/i18n/translate.ts';
import { zh } from '../../../src-renderer/i18n/zh.ts';
import { tokenize } from '../../../src-renderer/lib/code-tokens.ts';
import { describeDeadlock } from '../../../src-renderer/lib/describe.ts';
import { groupPresets, topicOfSeed } from '../../../src-renderer/lib/preset-groups.ts';
import { actionDisabled, type ActionRow } from '../../../src-renderer/lib/row-actions.ts';

const preset = (id: string, seed: number, en: string, zh: string): PresetInfo => ({
  id,
  seed,
  title: { en, zh },
  explanation: { en: '', zh: '' },
  lesson: 'timeline',
  verdict: { kind: 'exit-codes' },
  source: '',
  python: '',
});

describe('preset picker groups', () => {
  const presets = [
    preset('flash-sale', 8, 'Flash sale with a Lock', '用锁实现抢购'),
    preset('hello', 1, 'Create a process', '创建一个进程'),
    preset('join-in-loop-wrong', 2, 'join() inside the loop (wrong)', '在循环里 join()（错误）'),
    preset('join-in-loop', 2, 'join() after the loop (right)', '循环结束后再 join()（正确）'),
    preset('members', 5, 'Process object members', '进程对象的成员'),
  ];

  it('follows the tutorial sections', () => {
    expect([1, 4, 5, 6, 7, 8, 9].map(topicOfSeed)).toEqual(['processes', 'processes', 'members', 'ipc', 'ipc', 'lock', 'other']);
  });

  it('numbers by seed, with letters when a seed has several presets, in the chosen language', () => {
    const groups = groupPresets(presets, 'zh');
    expect(groups.map((g) => g.topic)).toEqual(['processes', 'members', 'lock']);
    expect(groups[0].options.map((o) => o.label)).toEqual(['1. 创建一个进程', '2a. 在循环里 join()（错误）', '2b. 循环结束后再 join()（正确）']);
    expect(groupPresets(presets, 'en')[2].options[0]).toEqual({ id: 'flash-sale', number: '8', label: '8. Flash sale with a Lock' });
  });
});

describe('row controls', () => {
  const row = (state: ActionRow['state'], handle: string | null = 'h1', pid: number | null = 42): ActionRow => ({ state, handle, pid });

  it('start() only on an object not started yet', () => {
    expect(actionDisabled('start', row('created', 'h1', null), true)).toBeNull();
    expect(actionDisabled('start', row('running'), true)).toBe('state');
  });

  it('terminate() and kill() only on a running process', () => {
    for (const a of ['terminate', 'kill'] as const) {
      expect(actionDisabled(a, row('running'), true)).toBeNull();
      expect(actionDisabled(a, row('exited'), true)).toBe('state');
      expect(actionDisabled(a, row('created', 'h1', null), true)).toBe('state');
    }
  });

  it('close() stays enabled on a running process: Python raises ValueError, which is the lesson', () => {
    expect(actionDisabled('close', row('running'), true)).toBeNull();
    expect(actionDisabled('close', row('exited'), true)).toBeNull();
    expect(actionDisabled('close', row('closed'), true)).toBe('state');
    expect(actionDisabled('close', row('running', null), true)).toBe('no-object');
  });

  it('join() once started; the main process can be joined by pid', () => {
    expect(actionDisabled('join', row('running', null, 7), true)).toBeNull();
    expect(actionDisabled('join', row('exited'), true)).toBeNull();
    expect(actionDisabled('join', row('created', 'h1', null), true)).toBe('state');
  });

  it('nothing acts on a run that is not live', () => {
    expect(actionDisabled('kill', row('running'), false)).toBe('not-live');
  });
});

describe('deadlock in words', () => {
  const tr = (dict: Record<MessageKey, string>) => (key: MessageKey, params?: Record<string, string | number>) =>
    interpolate(dict[key], params);
  const cycle = [
    { pid: 123, lock: 'lock-1-1', holder: 456 },
    { pid: 456, lock: 'lock-1-2', holder: 123 },
  ];
  const name = (id: string) => (id === 'lock-1-1' ? 'Lock 1' : 'Lock 2');

  it('reads as one English sentence', () => {
    expect(describeDeadlock(cycle, tr(en), name)).toBe(
      'Deadlock: process 123 waits for Lock 1 held by 456, and 456 waits for Lock 2 held by 123. None of them can go on.',
    );
  });

  it('reads as one Chinese sentence', () => {
    expect(describeDeadlock(cycle, tr(zh), name)).toBe(
      '死锁：进程 123 在等待 Lock 1，而它被进程 456 持有；进程 456 又在等待 Lock 2，而它被进程 123 持有。它们谁都无法继续。',
    );
  });

  it('is empty without a cycle', () => {
    expect(describeDeadlock([], tr(en), name)).toBe('');
  });
});

describe('code tokens', () => {
  it('colors comments, strings, numbers and keywords without changing the text', () => {
    const code = "from multiprocessing import Process # the class\nprint(f'name: {name}', 3)\n";
    const lines = tokenize(code, 'py');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.map((t) => t.text).join(''))).toEqual(code.trimEnd().split('\n'));
    expect(lines[0].find((t) => t.kind === 'comment')?.text).toBe('# the class');
    expect(lines[0].filter((t) => t.kind === 'keyword').map((t) => t.text)).toEqual(['from', 'import']);
    expect(lines[1].find((t) => t.kind === 'string')?.text).toBe("f'name: {name}'");
    expect(lines[1].find((t) => t.kind === 'number')?.text).toBe('3');
  });

  it('carries a TypeScript block comment across lines and keeps // inside strings', () => {
    const lines = tokenize("/** a\n b */ const url = 'http://x'; // c", 'ts');
    expect(lines[0]).toEqual([{ kind: 'comment', text: '/** a' }]);
    expect(lines[1][0]).toEqual({ kind: 'comment', text: ' b */' });
    expect(lines[1].find((t) => t.kind === 'string')?.text).toBe("'http://x'");
    expect(lines[1].at(-1)).toEqual({ kind: 'comment', text: '// c' });
  });
});
