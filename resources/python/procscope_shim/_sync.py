"""The script's Conditions, Events and Barriers (multiprocessing.synchronize), reported as the
monitor's `sync` objects. (Its Semaphores and BoundedSemaphores are SemLocks, reported as locks
with several holders: see _patch._wrap_lock_methods.)

Only objects the script made are reported: multiprocessing builds an Event and a Barrier out of
a Condition and semaphores of its own, and those stay silent. Each wait, wake, set and clear is
one compact record (see _client.py), stamped where it happens:

- Condition.wait(): the wait before the lock is released (so it sorts before the release), its
  end right after the internal semaphore lets it go, before the lock is taken again (the waiter
  was woken then, and waits for the lock after: that is a lock wait). notify(n) is a message
  (it carries n) sent before anyone wakes. A Condition's own lock (an RLock it made) is reported
  as a lock, so the waiter's release and re-acquire show there.
- Event: set() and clear() before they act; wait() before and after.
- Barrier: each arrival, and each wait that raised BrokenBarrierError (after its own timeout: a
  timeout, which breaks the barrier). abort() and reset() are messages sent before they act. The
  monitor releases a generation when its last party arrives.
"""

import sys
import threading
import time

from . import _client as _c
from ._client import client
from ._ids import new_id, recorder, wrap_state

_time_ns = time.time_ns

#: Record ops, by their place in an object's keys (see _keys).
_OPS = (_c.OP_SYNC_WAIT, _c.OP_SYNC_WOKEN, _c.OP_SYNC_TIMEOUT, _c.OP_EVENT_SET, _c.OP_EVENT_CLEAR, _c.OP_SYNC_BROKEN)
WAIT, WOKEN, TIMEOUT, SET, CLEAR, BROKEN = range(1, 7)


def keys_for(oid):
    """(append, key of each op in _OPS) of the object `oid` in this process."""
    append, base = recorder(oid)
    t0 = client.t0_ns
    return (append,) + tuple(_c.record_key(t0, base | op) for op in _OPS)


def _keys(obj):
    """keys_for the object, made on its first use here; None for an object procscope does not
    report."""
    d = obj.__dict__
    k = d.get('_procscope_k')
    if k is None:
        oid = d.get('_procscope_id')
        if oid is None:
            return None
        k = d['_procscope_k'] = keys_for(oid)
    return k


def rec(k, i):
    """Records op `i` (WAIT, WOKEN, …) of the object whose keys_for are `k`, now."""
    k[0](_time_ns() - k[i])
    if client.nudge:
        client.attend()
    if i == WAIT and client.deferred:
        client.wake_sampler()



def post(oid, kind, op, **extra):
    """An op a compact record cannot hold (a notify's n, a create's lock or parties)."""
    msg = {'k': 'srep', 's': oid, 'kind': kind, 'op': op, 'at': client.now()}
    msg.update(extra)
    client.post(msg)


def _post(obj, kind, op, **extra):
    post(obj._procscope_id, kind, op, **extra)


# ---- what the script makes --------------------------------------------------------------------


def track_condition(cond, track_lock):
    cond._procscope_id = new_id('condition')
    lock = cond._lock
    if '_procscope_id' not in lock.__dict__:
        # The RLock it made itself: shown as the lock its waiters release and take again.
        track_lock(lock)
        cond._make_methods()
    _watch_wait(cond)
    _post(cond, 'condition', 'create', lock=lock._procscope_id)


def track_event(ev):
    ev._procscope_id = new_id('event')
    _post(ev, 'event', 'create')


def track_barrier(b):
    b._procscope_id = new_id('barrier')
    _post(b, 'barrier', 'create', parties=max(1, int(b._parties)))


def _watch_wait(cond):
    """A Condition's waiter is woken when its internal semaphore lets it go (the notifier's
    release): that moment, not its return (after taking the lock again), ends its wait."""
    ws = cond._wait_semaphore
    raw = ws.__dict__.get('acquire') or ws._semlock.acquire

    def acquire(block=True, timeout=None):
        ok = raw(block, timeout)
        if block:  # the wait's own; notify() only tries without blocking
            k = _keys(cond)
            if k is not None:
                rec(k, WOKEN if ok else TIMEOUT)
        return ok

    ws.acquire = acquire


# ---- the classes ------------------------------------------------------------------------------


def patch():
    from multiprocessing import synchronize

    Condition, Event, Barrier = synchronize.Condition, synchronize.Event, synchronize.Barrier
    wrap_state(Condition, after_set=_watch_wait)
    wrap_state(Barrier)
    if '__getstate__' not in Event.__dict__:
        # An Event pickles its __dict__: its keys (this process's) must not travel with it.
        def __getstate__(self):
            state = dict(self.__dict__)
            state.pop('_procscope_k', None)
            return state

        Event.__getstate__ = __getstate__

    cond_wait, cond_notify = Condition.wait, Condition.notify

    def wait(self, timeout=None):
        k = _keys(self)
        if k is not None and self._lock._semlock._is_mine():
            rec(k, WAIT)
        return cond_wait(self, timeout)

    def notify(self, n=1):
        if '_procscope_id' in self.__dict__ and self._lock._semlock._is_mine():
            _post(self, 'condition', 'notify', n=-1 if n >= sys.maxsize else max(0, int(n)))
        return cond_notify(self, n)

    Condition.wait = wait
    Condition.notify = notify

    ev_set, ev_clear, ev_wait = Event.set, Event.clear, Event.wait

    def set_(self):
        k = _keys(self)
        if k is not None:
            rec(k, SET)
        return ev_set(self)

    def clear(self):
        k = _keys(self)
        if k is not None:
            rec(k, CLEAR)
        return ev_clear(self)

    def ev_wait_(self, timeout=None):
        k = _keys(self)
        if k is None:
            return ev_wait(self, timeout)
        rec(k, WAIT)
        ok = ev_wait(self, timeout)
        rec(k, WOKEN if ok else TIMEOUT)
        return ok

    Event.set = set_
    Event.clear = clear
    Event.wait = ev_wait_

    b_wait, b_abort, b_reset = Barrier.wait, Barrier.abort, Barrier.reset

    def b_wait_(self, timeout=None):
        k = _keys(self)
        if k is None:
            return b_wait(self, timeout)
        rec(k, WAIT)
        start = time.monotonic()
        try:
            return b_wait(self, timeout)
        except threading.BrokenBarrierError:
            limit = timeout if timeout is not None else self._timeout
            rec(k, TIMEOUT if limit is not None and time.monotonic() - start >= limit else BROKEN)
            raise

    def abort(self):
        if '_procscope_id' in self.__dict__:
            _post(self, 'barrier', 'abort')
        return b_abort(self)

    def reset(self):
        if '_procscope_id' in self.__dict__:
            _post(self, 'barrier', 'reset')
        return b_reset(self)

    Barrier.wait = b_wait_
    Barrier.abort = abort
    Barrier.reset = reset
