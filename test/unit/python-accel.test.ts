// The C recorder (resources/python/procscope_shim/_accel.c): built here with the interpreter's
// own settings, as the monitor builds it in its shim cache, and driven on a real mp.Lock's
// semaphore. It must record exactly what the Python recorder would (the same int64 records, the
// same order of stamp and call) and hand every other case to the Python code it was given.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonShimDir } from '../../src-main/core/paths.ts';

const python = process.env.PROCSCOPE_TEST_PYTHON ?? 'python3';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'procscope-accel-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const CHECK = String.raw`
import json, multiprocessing as mp, struct, sys, time
from importlib.machinery import ExtensionFileLoader, EXTENSION_SUFFIXES
from importlib.util import module_from_spec, spec_from_loader
import os
folder = sys.argv[1]
so = [f for f in os.listdir(folder) if f.startswith('_accel.') and any(f.endswith(s) for s in EXTENSION_SUFFIXES)][0]
spec = spec_from_loader('procscope_shim._accel', ExtensionFileLoader('procscope_shim._accel', os.path.join(folder, so)))
accel = module_from_spec(spec)
spec.loader.exec_module(accel)
out = {}

r = accel.Records()
values = [0, 1, -1, (5 << 47) + 123456789, -(1 << 63), (1 << 63) - 1]
for v in values:
    r.append(v)
r.append(1 << 63)  # past int64: counted, not raised
out['len'] = len(r)
raw = r.take()
out['roundtrip'] = list(struct.unpack('<%dq' % (len(raw) // 8), raw)) == values
out['after_take'] = len(r)
out['lost'] = [r.lost(), r.lost()]
r.append(7)
r.clear()
out['after_clear'] = len(r)
try:
    r.append('x')
    out['append_str'] = 'accepted'
except TypeError:
    out['append_str'] = 'TypeError'

lock = mp.Lock()
sl = lock._semlock
calls = []
client = {'nudge': False}
def slow_acquire(*a, **k):
    calls.append(('slow_acquire', a, k))
    return sl.acquire(*a, **k)
def slow_release():
    calls.append(('slow_release',))
    sl.release()
def contended():
    calls.append(('contended',))
    return 'contended'
def waiting(t):
    calls.append(('waiting',))
    out['waiting_t_in_call'] = before_wait <= t <= time.time_ns()
    return 'waited'
def spent(t, now):
    calls.append(('spent',))
def attend():
    calls.append(('attend',))
    client['nudge'] = False
T0 = time.time_ns()
k_at_once = T0 - ((3 << 4 | 2) << 47)
k_release = T0 - ((3 << 4 | 3) << 47)
k_request = T0 - ((3 << 4 | 0) << 47)
k_acquire = T0 - ((3 << 4 | 1) << 47)
m = accel.LockMethods(r, sl.acquire, sl.release, slow_acquire, slow_release, contended, waiting, spent, client, attend, k_at_once, k_release, k_request, k_acquire, 1000000)

before = time.time_ns()
out['acquire'] = m.acquire()
out['held_after_acquire'] = sl._count() == 1 or not sl.acquire(False)
m.release()
after = time.time_ns()
recs = struct.unpack('<2q', r.take())
# Each record is (code << 47) + ns since T0: the code says which op, the stamp when.
out['codes'] = [x >> 47 for x in recs]
out['stamps_in_call'] = all(before - T0 <= (x & ((1 << 47) - 1)) <= after - T0 for x in recs)
out['free_after_release'] = sl.acquire(False)
sl.release()

# Arguments go to the Python acquire, untouched.
out['with_args'] = m.acquire(True, 1.0)
m.release()
out['kw'] = m.acquire(block=False)
m.release()
r.take()
# Held (by this thread: a Lock is not reentrant): the request is recorded, the first ms waited
# here, and the rest of the wait handed to waiting(t).
sl.acquire()
before_wait = time.time_ns()
out['contended'] = m.acquire()
recs = struct.unpack('<%dq' % len(r), r.take())
out['contended_codes'] = [x >> 47 for x in recs]
# While the profiler's handler samples (deferred), the whole wait is the Python one's.
client['deferred'] = True
out['deferred'] = m.acquire()
client['deferred'] = False
out['records_when_deferred'] = len(r)
sl.release()
# A release the semaphore refuses: the Python release runs (it reports, then raises).
try:
    m.release()
    out['refused'] = 'no error'
except ValueError as e:
    out['refused'] = 'ValueError'
# nudge set: attend() after the record (attend() clears it, as the client's does).
client['nudge'] = True
m.acquire()
m.release()
out['calls'] = [c[0] for c in calls]
out['with_lock'] = True
print(json.dumps(out))
`;

describe('the C recorder', () => {
  it('builds with the interpreter, keeps int64 records and takes its lock calls as the Python recorder does', () => {
    const pkg = path.join(work, 'procscope_shim');
    fs.cpSync(path.join(pythonShimDir(), 'procscope_shim'), pkg, { recursive: true, filter: (f) => path.basename(f) !== '__pycache__' && !/^_accel\..*\.so$/.test(path.basename(f)) });
    execFileSync(python, ['-I', path.join(pkg, '_build_accel.py'), pkg], { stdio: 'pipe' });
    const out = JSON.parse(execFileSync(python, ['-I', '-c', CHECK, pkg], { encoding: 'utf8' }));
    expect(out.len).toBe(6);
    expect(out.roundtrip).toBe(true);
    expect(out.after_take).toBe(0);
    expect(out.lost).toEqual([1, 0]);
    expect(out.after_clear).toBe(0);
    expect(out.append_str).toBe('TypeError');
    expect(out.acquire).toBe(true);
    expect(out.held_after_acquire).toBe(true);
    expect(out.codes).toEqual([(3 << 4) | 2, (3 << 4) | 3]);
    expect(out.stamps_in_call).toBe(true);
    expect(out.free_after_release).toBe(true);
    expect(out.with_args).toBe(true);
    expect(out.kw).toBe(true);
    expect(out.contended).toBe('waited');
    expect(out.waiting_t_in_call).toBe(true);
    expect(out.contended_codes).toEqual([(3 << 4) | 0]);
    expect(out.deferred).toBe('contended');
    expect(out.records_when_deferred).toBe(0);
    expect(out.refused).toBe('ValueError');
    expect(out.calls).toEqual(['slow_acquire', 'slow_acquire', 'waiting', 'contended', 'slow_release', 'attend']);
  });
});
