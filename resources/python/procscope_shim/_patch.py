"""Patches multiprocessing (every context: fork, spawn, forkserver) to report to procscope.

- Processes: a child introduces itself in Process._bootstrap (hello) and reports its exit code
  (bye) before it exits; a parent reports each child it starts (spawned) and the exit code it
  observes (exited: Python's exitcode, negative for a signal).
- Queues and locks made by the user's code (not multiprocessing's own internals) get an id that
  travels with them when pickled to a spawned child; puts, gets and lock operations are reported
  with their run time. The broker counts depth and follows holders and waiters from the reports.
"""

import itertools
import os
import sys
import threading

from ._client import client

_ids = itertools.count(1)
_local = threading.local()

# Modules whose calls to the context's factories are multiprocessing's own (a Queue's internal
# locks, a Pool's task queues): those objects are not the user's and are not reported.
_INTERNAL = ('multiprocessing', 'concurrent.futures')


def _is_internal(frame):
    name = frame.f_globals.get('__name__', '') if frame is not None else ''
    for p in _INTERNAL:
        if name == p or name.startswith(p + '.'):
            return True
    return False


def _new_id(kind):
    return '%s-%d-%d' % (kind, os.getpid(), next(_ids))


def _warn(message):
    client.post({'k': 'warn', 'message': message})


# ---- processes ----------------------------------------------------------------------------------


def _patch_processes():
    from multiprocessing import process

    BaseProcess = process.BaseProcess
    orig_bootstrap = BaseProcess._bootstrap
    orig_start = BaseProcess.start

    def _bootstrap(self, *args, **kwargs):
        try:
            client.connect(os.getpid(), self._parent_pid, self.name, self.daemon)
        except Exception:
            pass
        exitcode = 1
        try:
            exitcode = orig_bootstrap(self, *args, **kwargs)
        finally:
            # The child ends with os._exit: atexit does not run, so flush here.
            try:
                client.post({'k': 'bye', 'exitcode': exitcode if isinstance(exitcode, int) else 1})
                client.close()
            except Exception:
                pass
        return exitcode

    def start(self):
        orig_start(self)
        try:
            popen = getattr(self, '_popen', None)
            method = getattr(popen, 'method', None)
            if method not in (None, 'fork', 'spawn', 'forkserver'):
                _warn('start method %r is not known to procscope: process %s may not be shown fully' % (method, self.name))
            client.post_now({'k': 'spawned', 'pid': int(self.pid), 'name': str(self.name)[:256], 'daemon': bool(self.daemon)})
        except Exception:
            pass

    BaseProcess._bootstrap = _bootstrap
    BaseProcess.start = start

    # Exit codes as the parent observes them (a signal cannot be self-reported).
    for modname in ('multiprocessing.popen_fork', 'multiprocessing.popen_forkserver', 'multiprocessing.popen_spawn_posix'):
        try:
            mod = __import__(modname, fromlist=['Popen'])
        except Exception:
            continue
        cls = mod.Popen
        if 'poll' in cls.__dict__:
            cls.poll = _wrap_poll(cls.__dict__['poll'])


def _wrap_poll(orig):
    def poll(self, *args, **kwargs):
        rc = orig(self, *args, **kwargs)
        if rc is not None and not self.__dict__.get('_procscope_reported'):
            self._procscope_reported = True
            try:
                client.post({'k': 'exited', 'pid': int(self.pid), 'exitcode': int(rc)})
            except Exception:
                pass
        return rc

    return poll


# ---- identity across pickling -------------------------------------------------------------------


def _wrap_state(cls, after_set=None):
    """The object's id travels with its pickled state (outermost class only: JoinableQueue's
    __getstate__ calls Queue's)."""
    orig_get = cls.__dict__['__getstate__']
    orig_set = cls.__dict__['__setstate__']

    def __getstate__(self):
        state = orig_get(self)
        if type(self).__getstate__ is __getstate__:
            return ('procscope', state, self.__dict__.get('_procscope_id'))
        return state

    def __setstate__(self, state):
        if type(self).__setstate__ is __setstate__ and isinstance(state, tuple) and len(state) == 3 and state[0] == 'procscope':
            orig_set(self, state[1])
            if state[2] is not None:
                self._procscope_id = state[2]
                if after_set is not None:
                    after_set(self)
        else:
            orig_set(self, state)

    cls.__getstate__ = __getstate__
    cls.__setstate__ = __setstate__


# ---- queues -------------------------------------------------------------------------------------


def _report_after(orig, op):
    def method(self, *args, **kwargs):
        qid = self.__dict__.get('_procscope_id')
        if qid is None or getattr(_local, 'busy', False):
            return orig(self, *args, **kwargs)
        _local.busy = True
        try:
            result = orig(self, *args, **kwargs)
        finally:
            _local.busy = False
        client.post({'k': 'qrep', 'q': qid, 'op': op, 'at': client.now()})
        return result

    return method


def _patch_queues():
    from multiprocessing import queues

    for cls in (queues.Queue, queues.JoinableQueue, queues.SimpleQueue):
        for name, op in (('put', 'put'), ('get', 'get')):
            if name in cls.__dict__:
                setattr(cls, name, _report_after(cls.__dict__[name], op))
        _wrap_state(cls)


def _track_queue(q, maxsize):
    qid = _new_id('queue')
    q._procscope_id = qid
    try:
        maxsize = int(maxsize)
    except (TypeError, ValueError):
        maxsize = 0
    client.post({'k': 'qrep', 'q': qid, 'op': 'create', 'maxsize': maxsize if maxsize > 0 else 0, 'at': client.now()})


# ---- locks --------------------------------------------------------------------------------------


def _wrap_lock_methods(lock):
    """Replaces the instance's acquire/release (SemLock binds them per instance)."""
    sl = lock._semlock
    raw_acquire = sl.acquire
    raw_release = sl.release
    lid = lock._procscope_id
    recursive = type(lock).__name__ == 'RLock' or getattr(sl, 'kind', 1) == 0
    post = client.post
    now = client.now

    def acquire(block=True, timeout=None):
        if recursive and sl._is_mine():
            return raw_acquire(block, timeout)
        # Uncontended: taken at once, one stamp for request and acquire.
        if raw_acquire(False):
            at = now()
            post({'k': 'lrep', 'l': lid, 'op': 'request', 'at': at})
            post({'k': 'lrep', 'l': lid, 'op': 'acquire', 'at': at})
            return True
        post({'k': 'lrep', 'l': lid, 'op': 'request', 'at': now()})
        if not block:
            post({'k': 'lrep', 'l': lid, 'op': 'timeout', 'at': now()})
            return False
        ok = raw_acquire(True, timeout)
        # Stamped after the semaphore is taken: sorts after the previous holder's release.
        post({'k': 'lrep', 'l': lid, 'op': 'acquire' if ok else 'timeout', 'at': now()})
        return ok

    def release():
        if recursive and sl._count() > 1:
            return raw_release()
        # Stamped before the semaphore is released: sorts before the next holder's acquire.
        post({'k': 'lrep', 'l': lid, 'op': 'release', 'at': now()})
        return raw_release()

    lock.acquire = acquire
    lock.release = release


def _patch_locks():
    from multiprocessing import synchronize

    SemLock = synchronize.SemLock
    orig_enter = SemLock.__enter__
    orig_exit = SemLock.__exit__

    def __enter__(self):
        if '_procscope_id' in self.__dict__:
            return self.acquire()
        return orig_enter(self)

    def __exit__(self, *args):
        if '_procscope_id' in self.__dict__:
            return self.release()
        return orig_exit(self, *args)

    SemLock.__enter__ = __enter__
    SemLock.__exit__ = __exit__
    _wrap_state(SemLock, after_set=_wrap_lock_methods)


def _track_lock(lock):
    lock._procscope_id = _new_id('lock')
    _wrap_lock_methods(lock)
    client.post({'k': 'lrep', 'l': lock._procscope_id, 'op': 'create', 'at': client.now()})


# ---- factories: what the user's code creates ----------------------------------------------------


def _patch_factories():
    import multiprocessing
    from multiprocessing import context

    BaseContext = context.BaseContext

    def wrap(name, track):
        orig = BaseContext.__dict__[name]

        def factory(self, *args, **kwargs):
            obj = orig(self, *args, **kwargs)
            try:
                if not _is_internal(sys._getframe(1)):
                    track(obj, args, kwargs)
            except Exception:
                pass
            return obj

        factory.__name__ = name
        factory.__doc__ = orig.__doc__
        setattr(BaseContext, name, factory)

    def queue(obj, args, kwargs):
        _track_queue(obj, args[0] if args else kwargs.get('maxsize', 0))

    wrap('Queue', queue)
    wrap('JoinableQueue', queue)
    wrap('SimpleQueue', lambda obj, a, kw: _track_queue(obj, 0))
    wrap('Lock', lambda obj, a, kw: _track_lock(obj))
    wrap('RLock', lambda obj, a, kw: _track_lock(obj))

    # `from multiprocessing import Queue` binds the default context's methods at import time.
    for name in ('Queue', 'JoinableQueue', 'SimpleQueue', 'Lock', 'RLock'):
        setattr(multiprocessing, name, getattr(context._default_context, name))


def install():
    for step in (_patch_processes, _patch_queues, _patch_locks, _patch_factories):
        try:
            step()
        except Exception as e:  # an interpreter we do not know: run anyway, say so
            _warn('procscope could not instrument multiprocessing (%s): %r' % (step.__name__, e))
