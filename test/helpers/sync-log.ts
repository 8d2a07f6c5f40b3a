// What the synchronisation-object tests of both runtimes share: a "go" file a program waits for
// (written by the test once the log shows the block it must be in: no sleeps), and lookups of a
// run's lock and sync lines.

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { LockEvent, RunEvent, SyncEvent } from '../../src-main/api.ts';
import type { Session } from '../../src-main/core/session.ts';
import { scenarioFile, waitFor, type RunResult } from './run.ts';

/** A fresh path for a go file (nothing is there until `letGo` writes it). */
export function goPath(): string {
  return path.join(path.dirname(scenarioFile('', 'go-dir-marker')), 'go');
}

/** A run's `during` that writes `go` once an event matching `block` is seen. */
export function letGo(go: string, block: (e: RunEvent) => boolean): (s: Session, events: RunEvent[]) => Promise<void> {
  return async (s, events) => {
    await waitFor(s, events, block);
    fs.writeFileSync(go, '');
  };
}

const ofType = <T extends RunEvent['type']>(r: RunResult, type: T) => r.logged.filter((e) => e.type === type) as Extract<RunEvent, { type: T }>[];

/** Every line of the first lock of `kind` (`semaphore`, `bounded-semaphore`). */
export function locksOf(r: RunResult, kind: string): LockEvent[] {
  const create = ofType(r, 'lock').find((e) => e.op === 'create' && e.kind === kind);
  if (!create) throw new Error(`no ${kind} in the log`);
  return ofType(r, 'lock').filter((e) => e.lock === create.lock);
}

export const syncsOf = (r: RunResult, kind: string): SyncEvent[] => ofType(r, 'sync').filter((e) => e.kind === kind);

export const sorted = (pids: readonly number[]): number[] => [...pids].sort((a, b) => a - b);

/** The log of a lock's lines for one process: its acquires and releases, in order. */
const holdsBy = (r: RunResult, lock: string | undefined, pid: number): string[] =>
  ofType(r, 'lock')
    .filter((e) => e.lock === lock && e.pid === pid && (e.op === 'acquire' || e.op === 'release'))
    .map((e) => e.op);

/**
 * A Condition's waiter ran wait_for three times while holding its lock: a predicate true at once
 * (no wait), one the main made true and notified (woken by the main), one never true (waits that
 * time out). Each wait released the lock and took it again.
 */
export function expectWaitFor(r: RunResult, cond: readonly SyncEvent[], child: number): void {
  expect(cond.slice(0, 5).map((e) => [e.op, e.pid])).toEqual([
    ['create', r.root],
    ['wait', child],
    ['notify', r.root],
    ['woken', child],
    ['wait', child],
  ]);
  expect(cond[2]).toMatchObject({ n: 1, waiters: [child] });
  expect(cond[3]).toMatchObject({ by: r.root, waiters: [] });
  // The predicate never true: waits that each time out (one, or more if a wait ends early), nothing else.
  const rest = cond.slice(4);
  expect(rest.length % 2).toBe(0);
  expect(rest.map((e) => e.op)).toEqual(rest.map((_, i) => (i % 2 === 0 ? 'wait' : 'timeout')));
  expect(rest.every((e) => e.pid === child)).toBe(true);
  expect(cond.at(-1)?.waiters).toEqual([]);
  const waits = cond.filter((e) => e.op === 'wait').length;
  expect(holdsBy(r, cond[0].lock, child)).toEqual(['acquire', ...Array.from({ length: waits }, () => ['release', 'acquire']).flat(), 'release']);
}

/** Three waiters: the main's notify(2) woke exactly two, its notify_all the one left, each woken by the main. */
export function expectNotifyTwoThenAll(r: RunResult, cond: readonly SyncEvent[], kids: readonly number[]): void {
  expect(kids).toHaveLength(3);
  expect(cond.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'wait', 'notify', 'woken', 'woken', 'notify', 'woken']);
  expect(sorted(cond.slice(1, 4).map((e) => e.pid))).toEqual(sorted(kids));
  expect(sorted(cond[3].waiters)).toEqual(sorted(kids));
  expect(cond[4]).toMatchObject({ pid: r.root, n: 2 });
  const firstTwo = [cond[5].pid, cond[6].pid];
  expect(new Set(firstTwo).size).toBe(2);
  expect(cond[6].waiters).toHaveLength(1);
  // notify_all woke the one left, and only it.
  const last = kids.find((k) => !firstTwo.includes(k));
  expect(cond[7]).toMatchObject({ pid: r.root, n: 1, waiters: [last] });
  expect(cond[8]).toMatchObject({ pid: last, by: r.root, waiters: [] });
  for (const e of cond.filter((x) => x.op === 'woken')) expect(e.by, 'woken by the notifier').toBe(r.root);
}

/**
 * A Barrier(3): two children waited and the main aborted it (both got BrokenBarrierError), the
 * main's own wait was refused, it reset it, two more waited and it reset it again.
 */
export function expectAbortThenReset(r: RunResult, bar: readonly SyncEvent[], kids: readonly number[]): void {
  expect(kids).toHaveLength(4);
  expect(bar.map((e) => e.op)).toEqual(['create', 'wait', 'wait', 'abort', 'broken', 'reset', 'wait', 'wait', 'reset']);
  expect(bar[0]).toMatchObject({ parties: 3, broken: false });
  expect(sorted(bar.slice(1, 3).map((e) => e.pid))).toEqual(sorted(kids.slice(0, 2)));
  expect(bar[3]).toMatchObject({ pid: r.root, broken: true, waiters: [] });
  expect(sorted(bar[3].released ?? [])).toEqual(sorted(kids.slice(0, 2)));
  // A wait on the broken barrier is refused at once.
  expect(bar[4]).toMatchObject({ pid: r.root, broken: true, waiters: [] });
  expect(bar[5]).toMatchObject({ pid: r.root, broken: false, released: [] });
  expect(sorted(bar.slice(6, 8).map((e) => e.pid))).toEqual(sorted(kids.slice(2)));
  expect(bar[8]).toMatchObject({ pid: r.root, broken: false, waiters: [] });
  expect(sorted(bar[8].released ?? [])).toEqual(sorted(kids.slice(2)));
}

/**
 * A Condition's one waiter: it waited (releasing the lock it took), the main took the lock and
 * notified, the waiter was woken by the main and took the lock again.
 */
export function expectNotifiedOnce(r: RunResult, cond: readonly SyncEvent[], child: number): void {
  expect(cond.map((e) => e.op)).toEqual(['create', 'wait', 'notify', 'woken']);
  expect(cond[1]).toMatchObject({ pid: child, waiters: [child] });
  expect(cond[2]).toMatchObject({ pid: r.root, n: 1 });
  expect(cond[3]).toMatchObject({ pid: child, by: r.root, waiters: [] });
  expect(cond[0].lock).toBeTruthy();
  const lock = ofType(r, 'lock').filter((e) => e.lock === cond[0].lock);
  const at = (op: string, pid: number) => lock.findIndex((e) => e.op === op && e.pid === pid);
  // The waiter released it on entering wait, before the main took it to notify.
  expect(at('release', child)).toBeGreaterThan(at('acquire', child));
  expect(at('acquire', r.root)).toBeGreaterThan(at('release', child));
  expect(holdsBy(r, cond[0].lock, child)).toEqual(['acquire', 'release', 'acquire', 'release']);
}
