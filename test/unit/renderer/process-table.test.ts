import { describe, expect, it } from 'vitest';
import { RunModel } from '../../../src-renderer/lib/model/run-model.ts';
import { treeOrder } from '../../../src-renderer/lib/model/tree.ts';
import { closed, created, exit, proc, run, sample } from './events.ts';

describe('process rows', () => {
  it('lists parents above their children, children in start order, with their depth', () => {
    const m = new RunModel();
    m.ingest([
      run(),
      proc(1, 100, 1, 'MainProcess'),
      proc(2, 101, 100, 'A', 'h1'),
      proc(3, 102, 100, 'B', 'h2'),
      proc(4, 103, 101, 'A.1', 'h3'),
      proc(5, 104, 102, 'B.1', 'h4'),
      proc(6, 105, 101, 'A.2', 'h5'),
    ]);
    const rows = m.processes();
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.name}`)).toEqual([
      'MainProcess',
      '  A',
      '    A.1',
      '    A.2',
      '  B',
      '    B.1',
    ]);
  });

  it('keys a row by its handle, and the main process (no handle) by pid:<pid>', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), proc(2, 101, 100, 'Process-1', 'h1')]);
    expect(m.processes().map((r) => r.key)).toEqual(['pid:100', 'h1']);
  });

  it('goes created -> running -> exited -> closed, keeping one row', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), created(5, 'h1', 100, 'Process-1')]);
    let row = m.processes()[1];
    expect(row).toMatchObject({ key: 'h1', state: 'created', pid: null, ppid: 100, startedAt: null });

    m.ingest([proc(10, 101, 100, 'Process-1', 'h1')]);
    row = m.processes()[1];
    expect(row).toMatchObject({ key: 'h1', state: 'running', pid: 101, startedAt: 10 });

    m.ingest([sample(50, 101, 12.5, 1000), exit(90, 101, -15)]);
    row = m.processes()[1];
    expect(row).toMatchObject({ state: 'exited', exitcode: -15, endedAt: 90, cpu: null, rss: null });

    m.ingest([closed(95, 'h1', 101)]);
    row = m.processes()[1];
    expect(row).toMatchObject({ state: 'closed', exitcode: -15 });
    expect(m.processes()).toHaveLength(2);
  });

  it('places a created (not started) Process object under its owner', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), proc(2, 101, 100, 'A', 'h1'), created(3, 'h2', 101, 'A.child')]);
    expect(m.processes().map((r) => [r.name, r.depth])).toEqual([
      ['MainProcess', 0],
      ['A', 1],
      ['A.child', 2],
    ]);
  });

  it('gives each process a stable color from the order it appeared', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), proc(2, 101, 100, 'A', 'h1')]);
    const before = m.processes().map((r) => r.color);
    m.ingest([proc(3, 102, 100, 'B', 'h2'), exit(4, 101)]);
    const after = m.processes().map((r) => r.color);
    expect(after.slice(0, 2)).toEqual(before);
    expect(new Set(after).size).toBe(3);
  });

  it('returns a new array when something changed and the same one when nothing did', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess')]);
    const a = m.processes();
    expect(m.processes()).toBe(a);
    m.ingest([sample(100, 100, 5)]);
    expect(m.processes()).not.toBe(a);
    expect(m.processes()[0].cpu).toBe(5);
  });

  it('makes a new row when a pid is reused after its process exited', () => {
    const m = new RunModel();
    m.ingest([run(), proc(1, 100, 1, 'MainProcess'), proc(2, 200, 100, 'first'), exit(3, 200), proc(4, 200, 100, 'second')]);
    const rows = m.processes();
    expect(rows.map((r) => [r.name, r.state])).toEqual([
      ['MainProcess', 'running'],
      ['first', 'exited'],
      ['second', 'running'],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(3);
  });

  it('tree order survives a parent cycle in a hand-made log', () => {
    const { order, depth } = treeOrder([
      { pid: 1, ppid: 2 },
      { pid: 2, ppid: 1 },
    ]);
    expect(order.sort()).toEqual([0, 1]);
    expect(depth).toHaveLength(2);
  });
});
