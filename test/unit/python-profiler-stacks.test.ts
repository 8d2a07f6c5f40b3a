// The Python profiler's stack cache (resources/python/procscope_shim/_profiler.py, _stack_of): a
// thread whose frames are all where they were (the same code at the same instruction) is given
// its last stack without a look-up per frame. This runs the real interpreter on threads that wait,
// compute, recurse and resume one generator from two lines, and checks every cached answer
// against a full look (_intern), including the case a frame's identity alone would get wrong.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonShimDir } from '../../src-main/core/paths.ts';

const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';

const CHECK = String.raw`
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from procscope_shim._profiler import Profiler

p = Profiler(100, time.time_ns())
stop = threading.Event()
gate = [threading.Event(), threading.Event()]
parked = [threading.Event(), threading.Event()]

def waits(d):
    return waits(d - 1) if d else stop.wait()

def computes():
    x = 0
    while not stop.is_set():
        x = (x + 1) % 1000003

def parked_gen():
    for i in range(2):
        parked[i].set()
        gate[i].wait()  # the same instruction both times
        yield i

g = parked_gen()

def resumes():
    next(g)  # first caller line
    next(g)  # second caller line

threads = [threading.Thread(target=waits, args=(12,)), threading.Thread(target=computes), threading.Thread(target=resumes)]
for t in threads:
    t.start()

hits = mismatches = 0
stacks_at = []
def look(rounds):
    global hits, mismatches
    for _ in range(rounds):
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            th = p._threads.get(ident) or p._new_thread(ident)
            if th is None:
                continue
            before = th[7]
            full = p._intern(frame)
            cached = p._stack_of(frame, th)
            # A thread that ran meanwhile (the computing one) is compared only when it did not move.
            if p._intern(frame) != full:
                continue
            if cached != full:
                mismatches += 1
            elif cached == before:
                hits += 1

resumer = threads[2].ident

def in_gate_wait():
    f = sys._current_frames().get(resumer)
    while f is not None and f.f_code.co_name != 'parked_gen':
        if f.f_code.co_name == 'wait' and f.f_back is not None and f.f_back.f_code.co_name == 'parked_gen':
            return True
        f = f.f_back
    return False

parked[0].wait()

while not in_gate_wait():
    time.sleep(0.001)
look(50)
first = p._intern(sys._current_frames()[resumer])
gate[0].set()
parked[1].wait()
while not in_gate_wait():  # parked[1] is set just before the gate's wait
    time.sleep(0.001)
look(50)
second = p._intern(sys._current_frames()[resumer])
gate[1].set()
stop.set()
for t in threads:
    t.join()
print(json.dumps({'hits': hits, 'mismatches': mismatches, 'generator_stacks_differ': first != second}))
`;

describe('python profiler: the stack cache', () => {
  it('gives what a full look gives, and is used for threads that wait', () => {
    const out = execFileSync(python, ['-c', CHECK, pythonShimDir()], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { hits: number; mismatches: number; generator_stacks_differ: boolean };
    expect(r.mismatches).toBe(0);
    expect(r.hits, 'waiting threads are answered from the cache').toBeGreaterThan(50);
    expect(r.generator_stacks_differ, 'one generator frame resumed from two lines: two stacks').toBe(true);
  });
});
