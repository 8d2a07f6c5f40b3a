"""Patches multiprocessing (every context: fork, spawn, forkserver) to report to procscope.

- Processes: a Process object the script makes is announced (created) with a handle, and closed
  when its close() succeeds; the window's controls call its real members in its owner. A child
  introduces itself in Process._bootstrap (hello, with its object's handle) and reports its exit
  code (bye) before it exits; a parent reports each child it starts (spawned) and the exit code
  it observes (exited: Python's exitcode, negative for a signal).
- Queues and locks made by the user's code (not multiprocessing's own internals) get an id that
  travels with them when pickled to a spawned child; puts, gets and lock operations are reported
  with their run time. The broker counts depth and follows holders and waiters from the reports.

Each put, get, acquire and release costs one compact record (see _client.py): the object's keys
(from its index in this process's id table) are worked out once, when the object is made or
unpickled here, and a forked child keeps them with the table it inherits.
"""

import itertools
import os
import sys
import threading
import time
import weakref

from . import _client as _c
from . import _sync
from . import _waits
from ._client import client
from ._ids import is_internal as _is_internal, new_id as _new_id, recorder as _recorder, wrap_state as _wrap_state

_time_ns = time.time_ns

def _warn(message):
    client.post({'k': 'warn', 'message': message})


# ---- processes ----------------------------------------------------------------------------------


_handles = itertools.count(1)
#: This process's Process objects that the window may control, by handle. Weakly: an object the
#: script dropped is out of reach.
_objects = weakref.WeakValueDictionary()


def _announcement(proc):
    """The `created` message of a Process object, made when it is sent (a few ms later, or at
    start()): by then the script has set what it sets right after making it (p.daemon = True)."""

    def make():
        if proc.__dict__.get('_procscope_announced'):
            return None
        proc._procscope_announced = True
        return {'k': 'created', 'handle': proc._procscope_handle, 'name': _c.clip(proc.name), 'daemon': bool(proc.daemon)}

    return make


def _run_control(msg):
    """A control from the window: the real member of the real Process object, in its owner, so
    the answer (exit codes, Python's errors) is what the script itself would get."""
    p = _objects.get(msg.get('handle'))
    op = msg.get('op')
    if p is None:
        ok, text = False, 'ValueError: process object is closed'
    else:
        try:
            if op == 'start':
                p.start()
            elif op == 'join':
                p.join(msg.get('timeout'))
            elif op == 'terminate':
                p.terminate()
            elif op == 'kill':
                p.kill()
            elif op == 'close':
                p.close()
            else:
                raise ValueError('unknown control %r' % (op,))
            ok, text = True, 'None'
        except Exception as e:
            ok, text = False, ('%s: %s' % (type(e).__name__, e)) if str(e) else type(e).__name__
    exitcode, alive = None, False
    if p is not None:
        try:
            exitcode, alive = p.exitcode, p.is_alive()
        except Exception:  # closed: its members raise
            pass
    client.post_now({'k': 'ctlres', 'rid': msg.get('rid'), 'ok': ok, 'text': text, 'exitcode': exitcode, 'alive': bool(alive)})


def _on_control(msg):
    # Each in its own thread: a join() may wait long, and a terminate() must not wait behind it.
    threading.Thread(target=_run_control, args=(msg,), name='procscope-control', daemon=True).start()


def _patch_processes():
    from multiprocessing import process

    BaseProcess = process.BaseProcess
    orig_init = BaseProcess.__init__
    orig_bootstrap = BaseProcess._bootstrap
    orig_start = BaseProcess.start
    orig_close = BaseProcess.close

    def __init__(self, *args, **kwargs):
        orig_init(self, *args, **kwargs)
        try:
            # The script's own objects (a subclass's __init__ counts), not a Pool's workers or
            # a manager's server.
            if not _is_internal(sys._getframe(1)):
                handle = '%d.%d' % (os.getpid(), next(_handles))
                self._procscope_handle = handle
                _objects[handle] = self
                client.post(_announcement(self))
        except Exception:
            pass

    def close(self):
        orig_close(self)
        handle = self.__dict__.get('_procscope_handle')
        if handle is not None and _objects.pop(handle, None) is not None:
            try:
                client.post({'k': 'closed', 'handle': handle})
            except Exception:
                pass

    def _bootstrap(self, *args, **kwargs):
        try:
            d = self.__dict__
            client.connect(os.getpid(), self._parent_pid, self.name, self.daemon, d.get('_procscope_handle'), d.get('_procscope_after'))
        except Exception:
            pass
        exitcode = 1
        try:
            exitcode = orig_bootstrap(self, *args, **kwargs)
        finally:
            # The child ends with os._exit: atexit does not run, so flush here.
            try:
                # What the parent will see: the status's low 8 bits (sys.exit(True) is 1,
                # sys.exit(256) is 0; a text or a list was made 1 by _bootstrap already).
                bye = {'k': 'bye', 'exitcode': _c.exit_status(exitcode)}
                # What it used, from itself: once its parent reaps it, nobody else can read it.
                bye.update(_c.own_usage())
                client.post(bye)
                client.close()
            except Exception:
                pass
        return exitcode

    def start(self):
        try:
            if client.connected:
                # Travels to the child with this object (in memory for fork, pickled otherwise).
                self._procscope_after = client.sent_mark()
        except Exception:
            pass
        orig_start(self)
        # A fork stopped procscope's thread; on 3.13+ it comes back here, after CPython's
        # multi-threaded fork check (see _client._after_fork_parent).
        client.resume()
        try:
            popen = getattr(self, '_popen', None)
            method = getattr(popen, 'method', None)
            if method not in (None, 'fork', 'spawn', 'forkserver'):
                _warn('start method %r is not known to procscope: process %s may not be shown fully' % (method, self.name))
            spawned = {'k': 'spawned', 'pid': int(self.pid), 'name': _c.clip(self.name), 'daemon': bool(self.daemon)}
            handle = self.__dict__.get('_procscope_handle')
            if handle is not None:
                spawned['handle'] = handle
            # Sent at once, after this object's pending announcement.
            client.post_now(spawned)
        except Exception:
            pass

    orig_join = BaseProcess.join

    def join(self, timeout=None):
        w = 0
        try:
            popen = self.__dict__.get('_popen')
            # Blocks only while the child runs (poll() reaps it, and reports its exit, if not).
            if popen is not None and popen.poll() is None and (timeout is None or timeout > 0):
                w = _waits.begin('join', None, sys._getframe(1), target=int(popen.pid))
        except Exception:
            pass
        try:
            return orig_join(self, timeout)
        finally:
            if w:
                popen = self.__dict__.get('_popen')
                _waits.end(w, popen is not None and popen.returncode is None)

    BaseProcess.join = join
    if _c.PROFILE_HZ:
        from . import _profiler

        _profiler.roots.add(orig_bootstrap.__code__)
    BaseProcess.__init__ = __init__
    BaseProcess._bootstrap = _bootstrap
    BaseProcess.start = start
    BaseProcess.close = close
    client.on_control = _on_control
    if hasattr(os, 'register_at_fork'):
        # A forked child's copies of its parent's objects are not its own to control.
        os.register_at_fork(after_in_child=_objects.clear)

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
                # At once: the script may start the next child right after join(), and that
                # child's hello must not overtake this on its own connection.
                client.post_now({'k': 'exited', 'pid': int(self.pid), 'exitcode': int(rc)})
            except Exception:
                pass
        return rc

    return poll


# ---- compact records ----------------------------------------------------------------------------

#: A queue's key when this process's id table was full: its operations go as JSON reports.
_AS_REPORTS = object()
#: Instance attributes holding a queue's record key for each op (see _client.record_key).
_QUEUE_KEYS = {_c.OP_QUEUE_PUT: '_procscope_kput', _c.OP_QUEUE_GET: '_procscope_kget'}


# ---- queues -------------------------------------------------------------------------------------


def _get_blocks(q, args, kwargs):
    """'get' when this get is about to block on an empty queue, else None. A look, not a promise:
    another consumer may take the item first (the get then waits, unreported).

    A Queue counts its items in its semaphore (put takes a permit, get gives it back: qsize()),
    which counts an item put but still in the feeder thread's buffer; its pipe would look empty
    then. A SimpleQueue has no count (nor bound): only its pipe tells."""
    if not (args[0] if args else kwargs.get('block', True)):
        return None
    try:
        free = q.__dict__.get('_procscope_free')
        if free is None:
            return None if q._poll() else 'get'
        return 'get' if free() >= q._maxsize else None
    except Exception:
        return None


def _put_blocks(q, args, kwargs):
    """'put' when this put is about to block on a full queue, else None. Only a bounded Queue's
    can: an unbounded one's semaphore starts at SEM_VALUE_MAX, and its puts cost no look."""
    free = q.__dict__.get('_procscope_room')
    if free is None or not (args[1] if len(args) > 1 else kwargs.get('block', True)):
        return None
    try:
        return 'put' if free() == 0 else None
    except Exception:
        return None


def _report_wait(q, side, how):
    client.post({'k': 'qrep', 'q': q._procscope_id, 'op': how, 'side': side, 'at': client.now()})
    if how == 'wait':
        client.attend()  # the wait must be seen while it lasts
        if client.deferred:
            client.wake_sampler()


def _report_after(orig, op):
    rec = client.ops.append
    c = client
    attr = _QUEUE_KEYS[op]
    # Read by _waits.scan from a waiting call's frame, with its locals `t` and `self`.
    kind = 'put' if op == _c.OP_QUEUE_PUT else 'get'
    blocks = _put_blocks if op == _c.OP_QUEUE_PUT else _get_blocks
    wait_ns = _waits.WAIT_NS
    getframe = sys._getframe

    def method(self, *args, **kwargs):
        k = self.__dict__.get(attr)
        t = _time_ns()
        # Blocked now (an empty queue's get, a full one's put): the wait is reported while it lasts.
        side = None if k is None else blocks(self, args, kwargs)
        if side is not None:
            _report_wait(self, side, 'wait')
        # No wrapped put/get calls another (3.8 to 3.13): one report per call, after it returned.
        try:
            result = orig(self, *args, **kwargs)
        except BaseException:
            # Empty or Full once its timeout passed (or the call was interrupted): a wait that
            # ended without the item.
            if side is not None:
                _report_wait(self, side, 'timeout')
            now = _time_ns()
            if k is not None and now - t >= wait_ns:
                _waits.spent(kind, self._procscope_id, t, now, getframe(1), True)
            raise
        if side is not None:
            _report_wait(self, side, 'woken')
        if k is None:
            return result
        now = _time_ns()
        if now - t >= wait_ns:
            _waits.spent(kind, self._procscope_id, t, now, getframe(1))
        if k is _AS_REPORTS:
            c.post_record(self._procscope_id, op, c.now())
            return result
        rec(now - k)
        if c.nudge:
            c.attend()
        return result

    _waits.waiting_wrappers.add(method.__code__)
    return method


def _fast_put(orig, slow):
    """Queue.put and JoinableQueue.put with their own signature: an unbounded queue's put (the
    common one) cannot wait (its semaphore starts at SEM_VALUE_MAX, the feeder thread sends), so
    it costs one stamp and one record, taken after the item is in; a bounded one's goes the
    general way (`slow`), which looks before it may block."""
    rec = client.ops.append
    c = client
    time_ns = _time_ns
    as_reports = _AS_REPORTS

    def put(self, obj, block=True, timeout=None):
        d = self.__dict__
        k = d.get('_procscope_kput')
        if k is None:
            return orig(self, obj, block, timeout)
        if k is as_reports or '_procscope_room' in d:
            return slow(self, obj, block, timeout)
        orig(self, obj, block, timeout)
        rec(time_ns() - k)
        if c.nudge:
            c.attend()

    return put


def _fast_get(orig, slow):
    """Queue.get (and JoinableQueue's) with its own signature: one look at the queue's count
    (does it hold an item?) instead of the general wrapper's call; a get about to block, or a
    queue without a count, goes the general way (`slow`), which reports the wait while it lasts."""
    rec = client.ops.append
    c = client
    time_ns = _time_ns
    as_reports = _AS_REPORTS
    wait_ns = _waits.WAIT_NS
    getframe = sys._getframe
    kind = 'get'

    def get(self, block=True, timeout=None):
        d = self.__dict__
        k = d.get('_procscope_kget')
        if k is None:
            return orig(self, block, timeout)
        free = d.get('_procscope_free')
        if k is as_reports or free is None or not block:
            return slow(self, block, timeout)
        try:
            empty = free() >= self._maxsize
        except Exception:
            empty = False
        if empty:
            return slow(self, block, timeout)
        # Read by _waits.scan from a waiting call's frame, with its locals `t`, `kind` and `self`:
        # the item it counted may still be in another process's feeder, or another consumer
        # may take it first.
        t = time_ns()
        try:
            result = orig(self, block, timeout)
        except BaseException:
            now = time_ns()
            if now - t >= wait_ns:
                _waits.spent(kind, self._procscope_id, t, now, getframe(1), True)
            raise
        now = time_ns()
        if now - t >= wait_ns:
            _waits.spent(kind, self._procscope_id, t, now, getframe(1))
        rec(now - k)
        if c.nudge:
            c.attend()
        return result

    _waits.waiting_wrappers.add(get.__code__)
    return get


# The signatures the fast wrappers were written for (the same from 3.8 to 3.13): another one
# gets the general wrapper.
_PUT_PARAMS = ('self', 'obj', 'block', 'timeout')
_GET_PARAMS = ('self', 'block', 'timeout')


#: inspect.CO_VARARGS | inspect.CO_VARKEYWORDS (inspect itself costs every process ~10 ms to import).
_CO_STAR_ARGS = 0x04 | 0x08


def _params(fn):
    code = getattr(fn, '__code__', None)
    if code is None or code.co_flags & _CO_STAR_ARGS:
        return None
    return code.co_varnames[:code.co_argcount]


def _patch_queues():
    from multiprocessing import queues

    for cls in (queues.Queue, queues.JoinableQueue, queues.SimpleQueue):
        for name, op, params, fast in (('put', _c.OP_QUEUE_PUT, _PUT_PARAMS, _fast_put), ('get', _c.OP_QUEUE_GET, _GET_PARAMS, _fast_get)):
            orig = cls.__dict__.get(name)
            if orig is None:
                continue
            method = _report_after(orig, op)
            if cls is not queues.SimpleQueue and _params(orig) == params:
                method = fast(orig, method)
            setattr(cls, name, method)
        _wrap_state(cls, after_set=_index_queue)


def _index_queue(q):
    index = client.register(q._procscope_id)
    sem = q.__dict__.get('_sem')
    if sem is not None:
        # What a get or put looks at before it may block (see _get_blocks), bound once: the
        # queue's free slots, a semaphore's value.
        try:
            from _multiprocessing import SemLock

            q._procscope_free = sem._semlock._get_value
            if q._maxsize < SemLock.SEM_VALUE_MAX:
                q._procscope_room = q._procscope_free
        except Exception:
            pass
    for op, attr in _QUEUE_KEYS.items():
        setattr(q, attr, _AS_REPORTS if index is None else _c.record_key(client.t0_ns, index << _c.OP_BITS | op))


def _track_queue(q, maxsize):
    qid = _new_id('queue')
    q._procscope_id = qid
    _index_queue(q)
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
    is_mine = sl._is_mine
    count = sl._count
    c = client
    getframe = sys._getframe
    time_ns = _time_ns
    kind = 'acquire'
    wait_ns = _waits.WAIT_NS
    rec, base = _recorder(lid)

    def key(op):
        return _c.record_key(client.t0_ns, base | op)

    k_request = key(_c.OP_LOCK_REQUEST)
    k_request_timed = key(_c.OP_LOCK_REQUEST_TIMED)
    k_acquire = key(_c.OP_LOCK_ACQUIRE)
    k_at_once = key(_c.OP_LOCK_REQUEST_ACQUIRE)
    k_release = key(_c.OP_LOCK_RELEASE)
    k_timeout = key(_c.OP_LOCK_TIMEOUT)
    k_refused = key(_c.OP_LOCK_REQUEST_TIMEOUT)

    # Stamps are taken after the semaphore is taken (an acquire sorts after the previous
    # holder's release) and before it is released (a release sorts before the next acquire).
    def acquire(block=True, timeout=None):
        if recursive and is_mine():
            return raw_acquire(block, timeout)
        if raw_acquire(False):
            # Uncontended: taken at once, one stamp for request and acquire.
            rec(time_ns() - k_at_once)
            if c.nudge:
                c.attend()
            return True
        if not block:
            rec(time_ns() - k_refused)
            if c.nudge:
                c.attend()
            return False
        return contended(timeout)

    def contended(timeout=None):
        """A blocking acquire whose attempt failed: it says so first, then waits."""
        # A wait with a timeout ends by itself: it is never part of a deadlock.
        t = time_ns()
        rec(t - (k_request if timeout is None else k_request_timed))
        if c.nudge:
            c.attend()  # the wait must reach the monitor now: it may be a deadlock
        if c.deferred:
            c.wake_sampler()
        return waiting(t, timeout)

    def waiting(t, timeout=None):
        """A wait begun at `t`, its request recorded (by contended, or by the C recorder past its
        first WAIT_NS). Read by _waits.scan from a waiting acquire's frame, with its locals `t`,
        `lid`, `kind`."""
        ok = raw_acquire(True, timeout)
        now = time_ns()
        rec(now - (k_acquire if ok else k_timeout))
        # A wait of WAIT_NS or more has its call site reported, as a queue's (_waits.py): the
        # frame is read only then. A contended lock's waits of a few microseconds cost nothing more.
        if now - t >= wait_ns:
            _waits.spent(kind, lid, t, now, getframe(1), not ok)
        if c.nudge:
            c.attend()
        return ok

    def release():
        if recursive and count() > 1:
            return raw_release()
        # Recorded once released: the lock is held no longer than it must be.
        record = time_ns() - k_release
        try:
            raw_release()
        except ValueError as e:
            # Python's own refusal (a BoundedSemaphore past its value, a free Lock): shown, then raised.
            c.post({'k': 'lrep', 'l': lid, 'op': 'error', 'at': c.now(), 'error': '%s: %s' % (type(e).__name__, e)})
            raise
        rec(record)
        if c.nudge:
            c.attend()

    def spent(t, now):
        """A wait of the C recorder's that took WAIT_NS or more, though it ended there."""
        _waits.spent(kind, lid, t, now, getframe(1))

    _waits.waiting_wrappers.add(waiting.__code__)
    if _c._accel is not None and not recursive and rec == c.ops.append:  # not JSON reports (a full id table)
        # The C recorder takes the calls without arguments (what `with lock:` makes), and hands
        # the rest to the functions above.
        methods = _c._accel.LockMethods(
            c.ops, raw_acquire, raw_release, acquire, release, contended, waiting, spent, c.__dict__, c.attend,
            k_at_once, k_release, k_request, k_acquire, wait_ns,
        )
        lock.acquire = methods.acquire
        lock.release = methods.release
    else:
        lock.acquire = acquire
        lock.release = release


def _patch_locks():
    from multiprocessing import synchronize

    SemLock = synchronize.SemLock

    # `with lock:` goes through the instance's acquire/release: the raw semaphore's for a lock
    # procscope does not watch (SemLock binds them per instance), the reporting ones otherwise.
    def __enter__(self):
        return self.acquire()

    def __exit__(self, *args):
        self.release()

    SemLock.__enter__ = __enter__
    SemLock.__exit__ = __exit__
    _wrap_state(SemLock, after_set=_wrap_lock_methods)


def _track_lock(lock, kind='lock', semaphore=None, value=1):
    """Reports a lock of the script (or a Semaphore: `semaphore` is its kind, `value` its initial value)."""
    lock._procscope_id = _new_id(kind)
    _wrap_lock_methods(lock)
    msg = {'k': 'lrep', 'l': lock._procscope_id, 'op': 'create', 'at': client.now()}
    if semaphore is not None:
        msg['kind'] = semaphore
        msg['value'] = value
    client.post(msg)


def _semaphore(kind):
    def track(obj, args, kwargs):
        try:
            value = int(args[0] if args else kwargs.get('value', 1))
        except (TypeError, ValueError):
            value = 1
        _track_lock(obj, 'semaphore', kind, max(0, value))

    return track


def _track_shared(obj, kind):
    """The lock of a synchronized Value or Array: `with v.get_lock(): v.value += 1` is how a
    race on shared memory is fixed, so its holders and waiters are worth seeing. sharedctypes
    makes that RLock itself (internal, not reported); it is reported here, from the user's call."""
    get_lock = getattr(obj, 'get_lock', None)
    if get_lock is None:  # lock=False: a raw ctypes object, nothing to watch
        return
    lock = get_lock()
    if '_procscope_id' in lock.__dict__:  # the user's own Lock, passed as lock=: already seen
        return
    _track_lock(lock, kind)
    # SynchronizedBase copied the unwrapped methods when it was made.
    obj.acquire = lock.acquire
    obj.release = lock.release


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
    wrap('Semaphore', _semaphore('semaphore'))
    wrap('BoundedSemaphore', _semaphore('bounded-semaphore'))
    wrap('Condition', lambda obj, a, kw: _sync.track_condition(obj, _track_lock))
    wrap('Event', lambda obj, a, kw: _sync.track_event(obj))
    wrap('Barrier', lambda obj, a, kw: _sync.track_barrier(obj))
    wrap('Value', lambda obj, a, kw: _track_shared(obj, 'value-lock'))
    wrap('Array', lambda obj, a, kw: _track_shared(obj, 'array-lock'))

    # `from multiprocessing import Queue` binds the default context's methods at import time.
    for name in _FACTORIES:
        setattr(multiprocessing, name, getattr(context._default_context, name))


#: The context factories whose objects are reported.
_FACTORIES = ('Queue', 'JoinableQueue', 'SimpleQueue', 'Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier', 'Value', 'Array')


def install():
    for step in (_patch_processes, _patch_queues, _patch_locks, _sync.patch, _patch_factories):
        try:
            step()
        except Exception as e:  # an interpreter we do not know: run anyway, say so
            _warn('procscope could not instrument multiprocessing (%s): %r' % (step.__name__, e))
