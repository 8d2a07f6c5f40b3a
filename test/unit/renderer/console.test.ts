import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import type { RunEvent } from '../../../src-main/api.ts';
import { out, proc, run } from './events.ts';

describe('console lines', () => {
  it('keeps each line with its process name and color, and filters by pid', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), proc(2, 101, 100, 'Worker', 'h1'), out(3, 100, 'hello'), out(4, 101, 'hi'), out(5, 100, 'bye')]);
    expect(m.console().map((l) => `${l.name}: ${l.text}`)).toEqual(['MainProcess: hello', 'Worker: hi', 'MainProcess: bye']);
    expect(m.console(new Set([101])).map((l) => l.text)).toEqual(['hi']);
    expect(m.console(new Set()).length).toBe(0);
    const worker = m.processes().find((r) => r.pid === 101);
    expect(m.console()[1].color).toBe(worker?.color);
  });

  it('keeps only the newest lines once the bound is reached, oldest first', () => {
    const m = new RunModel({ maxConsoleLines: 20_000 });
    const events: RunEvent[] = [run(), proc(1, 100, 1, 'MainProcess')];
    for (let i = 0; i < 25_000; i++) events.push(out(2 + i, 100, `line ${i}`));
    m.ingest(events);
    const lines = m.console();
    expect(lines).toHaveLength(20_000);
    expect(lines[0].text).toBe('line 5000');
    expect(lines[19_999].text).toBe('line 24999');
  });
});
