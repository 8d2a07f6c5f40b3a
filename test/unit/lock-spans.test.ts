import { describe, expect, it } from 'vitest';
import type { LockEvent, LockOp, Pid } from '../../src-main/api.ts';
import { LockSpans } from '../../src-main/common/lock-spans.ts';

// The one reading of a lock's events into holds and waits, that the window's lanes and the trace
// export share: logs of both runtimes, new and old.

const lock = (t: number, op: LockOp, pid: Pid, holder: Pid | null, waiters: Pid[] = []): LockEvent => ({ t, type: 'lock', lock: 'L', op, pid, holder, waiters });

function spans(feed: (s: LockSpans) => void): string[] {
  const out: string[] = [];
  const s = new LockSpans({
    waitStarted: (pid, t) => out.push(`wait ${pid} from ${t}`),
    waitEnded: (pid, t, how) => out.push(`wait ${pid} to ${t} ${how}`),
    holdStarted: (pid, t) => out.push(`hold ${pid} from ${t}`),
    holdEnded: (pid, t, how) => out.push(`hold ${pid} to ${t} ${how}`),
  });
  feed(s);
  return out;
}

const sem = (t: number, op: LockOp, pid: Pid, holders: Pid[], waiters: Pid[] = []): LockEvent => ({
  t,
  type: 'lock',
  lock: 'S',
  op,
  pid,
  holder: holders[0] ?? null,
  waiters,
  holders,
  value: 2 - holders.length,
});

describe('lock spans', () => {
  it('a semaphore: each holder has its own hold, at once; a request waits only when it lists its process', () => {
    expect(
      spans((s) => {
        s.apply(sem(1, 'request', 1, []));
        s.apply(sem(1, 'acquire', 1, [1]));
        // Held by 1, a permit left: 2 is granted at once.
        s.apply(sem(2, 'request', 2, [1]));
        s.apply(sem(2, 'acquire', 2, [1, 2]));
        s.apply(sem(3, 'request', 3, [1, 2], [3]));
        s.apply(sem(4, 'release', 1, [2], [3]));
        s.apply(sem(4, 'acquire', 3, [2, 3]));
        s.apply(sem(5, 'release', 2, [3]));
      }),
    ).toEqual([
      'hold 1 from 1',
      'hold 2 from 2',
      'wait 3 from 3',
      'hold 1 to 4 released',
      'wait 3 to 4 acquired',
      'hold 3 from 4',
      'hold 2 to 5 released',
    ]);
  });

  it('a request that lists its process waits; one granted or refused at once does not', () => {
    expect(
      spans((s) => {
        s.apply(lock(1, 'request', 1, null));
        s.apply(lock(1, 'acquire', 1, 1));
        s.apply(lock(2, 'request', 2, 1, [2]));
        s.apply(lock(3, 'request', 3, 1));
        s.apply(lock(3, 'timeout', 3, 1, [2]));
        s.apply(lock(4, 'release', 1, null, [2]));
        s.apply(lock(4, 'acquire', 2, 2));
      }),
    ).toEqual(['hold 1 from 1', 'wait 2 from 2', 'wait 3 from 3', 'wait 3 to 3 timeout', 'hold 1 to 4 released', 'wait 2 to 4 acquired', 'hold 2 from 4']);
  });

  it('older logs: a Python request listed for an instant before its acquire is no wait; one whose acquire comes later is', () => {
    expect(
      spans((s) => {
        s.apply(lock(1, 'request', 1, null, [1]));
        s.apply(lock(1, 'acquire', 1, 1));
        s.apply(lock(2, 'release', 1, null));
        s.apply(lock(3, 'request', 2, null, [2]));
        s.apply(lock(5, 'acquire', 2, 2));
      }),
    ).toEqual(['hold 1 from 1', 'hold 1 to 2 released', 'wait 2 from 3', 'wait 2 to 5 acquired', 'hold 2 from 5']);
  });

  it('a release by another process ends the holder’s hold (multiprocessing.Lock allows it)', () => {
    expect(
      spans((s) => {
        s.apply(lock(1, 'acquire', 1, 1));
        s.apply(lock(2, 'release', 2, null));
      }),
    ).toEqual(['hold 1 from 1', 'hold 1 to 2 released']);
  });

  it('reports stamped before a process’s exit but logged after it still count; later ones open nothing', () => {
    expect(
      spans((s) => {
        s.exited(7, 10);
        s.apply(lock(8, 'acquire', 7, 7));
        s.apply(lock(9, 'release', 7, null));
        s.apply(lock(9.5, 'request', 7, 3, [7]));
        s.apply(lock(11, 'request', 7, 3, [7]));
        s.apply(lock(12, 'release', 3, null));
      }),
    ).toEqual(['hold 7 from 8', 'hold 7 to 9 released', 'wait 7 from 9.5', 'hold 3 from 9.5', 'wait 7 to 10 exited', 'hold 3 to 12 released']);
  });

  it('a holder that exited holding it: its hold ends at `abandoned`, and nobody holds it after', () => {
    expect(
      spans((s) => {
        s.apply(lock(1, 'acquire', 4, 4));
        s.exited(4, 2);
        s.apply(lock(3, 'abandoned', 4, 4));
        s.apply(lock(4, 'request', 5, 4, [5]));
      }),
    ).toEqual(['hold 4 from 1', 'hold 4 to 3 abandoned', 'wait 5 from 4']);
  });
});
