// Sentences built from run data, language-neutral: the caller passes its translate function.

import type { DeadlockEdge } from '../../src-main/api.ts';
import type { MessageKey } from '../i18n/en.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/**
 * "Deadlock: process 123 waits for Lock 1 held by 456, which waits for Lock 2 held by 123. None of
 * them can go on." Each edge's holder is the next edge's waiter, so the chain reads as one
 * sentence. `lockName` turns a lock id into the name the charts use ("Lock 1").
 */
export function describeDeadlock(cycle: readonly DeadlockEdge[], t: Translate, lockName: (id: string) => string): string {
  if (cycle.length === 0) return '';
  const parts = cycle.map((e, i) =>
    t(i === 0 ? 'deadlock.first' : 'deadlock.next', { pid: e.pid, lock: lockName(e.lock), holder: e.holder }),
  );
  return t('status.deadlock', { chain: parts.join('') + t('deadlock.end') });
}
