"""Where the program waits: each wait that blocks is reported with its call site (the line of the
program that called acquire(), get(), put() or join(), past the shim's frames and Python's own).

Uncontended operations cost nothing more than they did: the frame is read only once an operation
is known to block.

- A join blocks when the child has not exited yet: reported at once.
- A lock acquire whose non-blocking attempt failed, and a queue's get or put, that took at least
  WAIT_NS are reported when they return (with their start): a contended lock's waits of a few
  microseconds, and a queue's quick operations, cost no message (telling a blocked get from a
  quick one beforehand would cost a system call each). One still blocked is found by procscope's
  thread on its rounds (scan(): every SCAN_SECONDS it looks for threads inside the wrappers, whose
  start is the wrapper's local `t`): a stuck consumer's get, a deadlocked acquire, are so reported
  while they last. The monitor knows of a lock wait at once regardless (its request record):
  deadlocks do not wait for this.

Messages: {k: 'wait', op: 'begin', w, kind, obj | target, at, site: [file, line, func]} and
{k: 'wait', op: 'end', w, at, timeout?}; `w` numbers the waits of this process.
"""

import itertools
import os
import sys
import threading

from ._client import client, clip

#: A queue operation that took this long (ns) waited.
WAIT_NS = 1000000
#: How often procscope's thread looks for queue operations still waiting, seconds.
SCAN_SECONDS = 0.25

_OURS = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ids = itertools.count(1)
_lock = threading.Lock()
#: Queue waits the scan has reported begun, by (thread ident, start ns): wait number.
_ongoing = {}
#: Code objects of the wrappers that may wait (a queue's put/get, a lock's acquire), set by
#: _patch: their frames hold `t` (the wait's start), `kind`, and `self` (a queue) or `lid` (a lock).
waiting_wrappers = set()
#: Library check (from _stacks), loaded on first use.
_library = None


def _is_library(filename):
    global _library
    if _library is None:
        from ._stacks import _is_library as check

        _library = check
    try:
        return _library(filename)
    except Exception:
        return False


def site(frame):
    """[file, line, function] of the first frame of the program at or above `frame`, or None when
    only Python's own code waits (a Pool's internals)."""
    f = frame
    while f is not None:
        filename = f.f_code.co_filename
        if not filename.startswith(_OURS) and not _is_library(filename):
            break
        f = f.f_back
    if f is None:
        return None
    code = f.f_code
    name = getattr(code, 'co_qualname', None) or code.co_name
    return [clip(code.co_filename, 1024), f.f_lineno or 0, clip(name, 256)]


def _begin(kind, obj, target, at, frame):
    where = site(frame)
    if where is None:
        return 0
    w = next(_ids)
    msg = {'k': 'wait', 'op': 'begin', 'w': w, 'kind': kind, 'at': at, 'site': where}
    if obj is not None:
        msg['obj'] = obj
    if target is not None:
        msg['target'] = target
    client.post(msg)
    return w


def begin(kind, obj, frame, target=None):
    """A wait starts now (known to block); returns its number for end()."""
    if client.deferred:
        client.wake_sampler()
    try:
        return _begin(kind, obj, target, client.now(), frame)
    except Exception:
        return 0


def end(w, timed_out=False):
    if not w:
        return
    try:
        msg = {'k': 'wait', 'op': 'end', 'w': w, 'at': client.now()}
        if timed_out:
            msg['timeout'] = True
        client.post(msg)
    except Exception:
        pass


def spent(kind, obj, start_ns, end_ns, frame, timed_out=False):
    """An acquire, a get or a put that took at least WAIT_NS returned (or timed out)."""
    try:
        t0 = client.t0_ns
        with _lock:
            w = _ongoing.pop((threading.get_ident(), start_ns), None)
            if w is None:
                w = _begin(kind, obj, None, (start_ns - t0) / 1e6, frame)
            if not w:
                return
            msg = {'k': 'wait', 'op': 'end', 'w': w, 'at': (end_ns - t0) / 1e6}
            if timed_out:
                msg['timeout'] = True
            client.post(msg)
    except Exception:
        pass


def other_frames(interrupted=None):
    """sys._current_frames() without the calling thread's own frame (or with `interrupted` in its
    place: a signal handler's thread is where the handler interrupted it). Every reader of all
    threads' frames (this scan, the profiler, Stacks) takes them from here.

    A function that keeps its own frame object in a local makes a cycle the moment it returns:
    the frame object outlives its call and owns its locals, here every thread's frames of that
    moment, which then outlive their calls in turn and own theirs, until the cycle collector
    finalizes them all in no order. A queue's feeder thread caught in `_ForkingPickler.dumps` so
    gets its BytesIO finalized while the memoryview over it still lives: CPython 3.13 prints
    'BufferError: Existing exports of data', 3.12.1 may crash."""
    frames = sys._current_frames()
    me = threading.get_ident()
    if interrupted is not None:
        frames[me] = interrupted
    else:
        frames.pop(me, None)
    return frames


def scan(now_ns):
    """procscope's thread: reports acquires, gets and puts blocked for WAIT_NS or more, not yet reported."""
    if not waiting_wrappers:
        return
    try:
        frames = other_frames()
    except Exception:
        return
    t0 = client.t0_ns
    for ident, frame in frames.items():
        f = frame
        while f is not None and f.f_code not in waiting_wrappers:
            f = f.f_back
        if f is None:
            continue
        try:
            local = f.f_locals
            start = local.get('t')
            kind = local.get('kind')
            obj = local.get('lid') or getattr(local.get('self'), '__dict__', {}).get('_procscope_id')
        except Exception:
            continue
        if not isinstance(start, int) or now_ns - start < WAIT_NS:
            continue
        if obj is None:
            continue
        with _lock:
            key = (ident, start)
            if key in _ongoing:
                continue
            _ongoing[key] = _begin(kind, obj, None, (start - t0) / 1e6, f.f_back)
    if len(_ongoing) > 1024:
        with _lock:
            # Waits of threads that are gone (a daemon thread killed in its get).
            for key in [k for k in _ongoing if k[0] not in frames]:
                del _ongoing[key]
