// A process whose every task waits for a Lock the process holds itself can never go on: nothing
// is left to release it. Python's thread that acquires a Lock it holds blocks forever (a Lock is
// not re-entrant); so does ours, instead of letting Node end the process, its event loop empty,
// with exit code 0 as if all had gone well. The monitor is told (`stuck`): its wait joins the
// wait-for graph, and the run logs a deadlock of this one process, as it does for Python's.
//
// While a task of the process holds the lock, another task waiting for it is an ordinary wait (the
// holder will release it): only when the event loop is about to empty ('beforeExit') is it sure
// that no task can.

import { broker } from './connection.ts';

/** Lock id -> whether a task of this process still waits for it. */
const waits = new Map<string, () => boolean>();
let installed = false;
let stuck: NodeJS.Timeout | null = null;

export function watchOwnLockWait(lock: string, waiting: () => boolean): void {
  waits.set(lock, waiting);
  if (installed) return;
  installed = true;
  process.on('beforeExit', () => {
    if (stuck) return;
    const locks = [...waits].filter(([, waiting]) => waiting()).map(([id]) => id);
    if (locks.length === 0) return;
    // Blocks forever, as Python's acquire() would; a stop or a kill still ends it.
    stuck = setInterval(() => undefined, 1 << 30);
    const client = broker();
    for (const l of locks) client.send({ k: 'stuck', l });
    client.flush();
  });
}
