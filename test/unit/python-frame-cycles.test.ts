// The shim reads every thread's frames (the wait scan, the profiler's samples, Stacks). A reader
// that keeps its own frame object in a local makes a reference cycle as it returns: the frame
// object outlives its call and owns its locals, every thread's frames of that moment, which then
// own theirs as their calls end, until the cycle collector finalizes them in no order. A queue's
// feeder thread caught in `_ForkingPickler.dumps` so had its BytesIO finalized while the
// memoryview over it lived: CPython 3.13 printed "BufferError: Existing exports of data" at exit
// and 3.12.1 crashed, now and then, in profiled forking programs. Each reader must leave no
// garbage behind: this counts what the cycle collector finds after each, with the real interpreter.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonShimDir } from '../../src-main/core/paths.ts';

const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';

const CHECK = String.raw`
import gc, json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from procscope_shim import _profiler, _stacks, _waits

gc.disable()
ready, go = threading.Event(), threading.Event()

def waits_here():
    t = time.time_ns() - 10 ** 9  # what the scan reads as a wait's start
    kind = 'get'
    ready.set()
    go.wait()

_waits.waiting_wrappers.add(waits_here.__code__)
th = threading.Thread(target=waits_here, daemon=True)
th.start()
ready.wait()

def garbage_after(fn):
    gc.collect()
    fn()
    return gc.collect()

p = _profiler.Profiler(100, time.time_ns())
out = {}

readers = (
    ('scan', lambda: _waits.scan(time.time_ns())),
    ('sample', lambda: p._sample(time.monotonic_ns())),
    ('sample in a handler', lambda: p._sample(time.monotonic_ns(), sys._getframe())),
    ('stacks', _stacks.capture),
)
for name, fn in readers:
    out[name] = [garbage_after(fn) for _ in range(3)]
# From another thread, as procscope's thread reads them.
r = []
t = threading.Thread(target=lambda: r.extend(garbage_after(fn) for _, fn in readers))
t.start()
t.join()
out['from another thread'] = r
go.set()
th.join()
print(json.dumps(out))
`;

describe("the shim's frame readers", () => {
  it('leave no reference cycle behind (no frame outlives its call because of them)', () => {
    const out = JSON.parse(execFileSync(python, ['-I', '-c', CHECK, pythonShimDir()], { encoding: 'utf8', timeout: 60_000 }));
    expect(out).toEqual({
      scan: [0, 0, 0],
      sample: [0, 0, 0],
      'sample in a handler': [0, 0, 0],
      stacks: [0, 0, 0],
      'from another thread': [0, 0, 0, 0],
    });
  });
});
