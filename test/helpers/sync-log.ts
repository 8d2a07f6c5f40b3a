// What the synchronisation-object tests of both runtimes share: a "go" file a program waits for
// (written by the test once the log shows the block it must be in: no sleeps), and lookups of a
// run's lock and sync lines.

import fs from 'node:fs';
import path from 'node:path';
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
