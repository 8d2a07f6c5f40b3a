"""Queues, locks and synchronisation objects made by a manager (Manager().Queue(),
.JoinableQueue(), .Lock(), .RLock(), .Semaphore(), .BoundedSemaphore(), .Condition(), .Event(),
.Barrier()), and its shared objects (.dict(), .list(), .Namespace(), .Value(), .Array()).

The real queue is a queue.Queue inside the manager's server process; every other process holds
a proxy that sends each call over a connection. So the reports come from the proxies, from the
process that made the call, and never from the server (whose queue.Queue is not patched: it only
carries out what a proxy asked, which that proxy already reports).

A proxy that reaches a child (fork, spawn, forkserver, or a proxy passed through another queue
or proxy) carries nothing but its token (typeid, manager address, object id), so the queue's
run-wide id is derived from the token alone: every process computes the same one. The server
names an object by its address in memory, which a new queue may reuse once an old one is gone:
the new queue's create then repeats the old id, and the two stay apart only where the monitor
takes a repeated create as a new queue.

A semaphore is reported as a lock with several holders, as multiprocessing's are. A Condition,
Event or Barrier is reported as _sync.py reports multiprocessing's, from the proxies' calls, with
one difference: the proxy sees a Condition's wait end only when the call returns, once the server
took the lock again, so its `woken` is stamped then. A Condition's lock lives in the server,
unnamed: it is reported as the condition's own (an id from the condition's token), even when the
script passed a manager Lock of its own.

Each call on a shared object through its proxy is one compact record (see _client.py) naming
the object and the method (`dict-mgr-…#__setitem__`): the monitor counts reads and writes per
process and interval, and logs each call when the run asks for it.

multiprocessing.managers costs about 20 ms to import, so it is patched when the script imports
it (directly or through Manager()), not before.
"""

import os
import sys
import threading
import time
import zlib

from . import _client as _c
from . import _sync
from ._client import client
from ._lazy import when_imported

#: SyncManager's queue typeids; both are a queue.Queue in the server.
QUEUE_TYPEIDS = ('Queue', 'JoinableQueue')
#: SyncManager's typeids with acquire and release: a threading.Lock / RLock / Semaphore /
#: BoundedSemaphore in the server, and a threading.Condition (its lock's).
LOCK_TYPEIDS = ('Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition')
#: The counting ones, by the kind the monitor names them.
SEMAPHORE_TYPEIDS = {'Semaphore': 'semaphore', 'BoundedSemaphore': 'bounded-semaphore'}
#: Held again by the thread that holds it: an RLock, and a Condition's default lock (an RLock).
REENTRANT_TYPEIDS = ('RLock', 'Condition')
#: SyncManager's Condition, Event and Barrier, by the kind the monitor names them.
SYNC_TYPEIDS = {'Condition': 'condition', 'Event': 'event', 'Barrier': 'barrier'}
#: SyncManager's shared objects, by typeid: the kind the monitor names them.
SHARED_TYPEIDS = {'dict': 'dict', 'list': 'list', 'Namespace': 'namespace', 'Value': 'value', 'Array': 'array'}

_OPS = {'put': 'put', 'put_nowait': 'put', 'get': 'get', 'get_nowait': 'get'}
#: The Condition, Event and Barrier methods reported (is_set, n_waiting, broken are not).
_SYNC_METHODS = frozenset(('wait', 'notify', 'notify_all', 'set', 'clear', 'abort', 'reset'))

_MODULE = 'multiprocessing.managers'


def object_id(kind, token):
    """The same string in every process that holds a proxy for this token's object."""
    # The object's id is unique among the live objects of one server; the address tells managers
    # apart. crc32, not hash(): hash() of a str differs from process to process.
    address = zlib.crc32(repr(token.address).encode('utf-8', 'surrogatepass'))
    return '%s-mgr-%08x-%s' % (kind, address, token.id)


def queue_id(token):
    return object_id('queue', token)


def lock_id(token):
    """A lock's id, a semaphore's, or a Condition's lock's."""
    return object_id(SEMAPHORE_TYPEIDS.get(token.typeid, 'lock'), token)


def _proxy_id(proxy, attr, typeids, make_id):
    """The run-wide id of the proxy's object if its typeid is one of `typeids`, else None;
    worked out once per proxy."""
    d = proxy.__dict__
    try:
        return d[attr]
    except KeyError:
        pass
    oid = None
    token = d.get('_token')
    if token is not None and getattr(token, 'typeid', None) in typeids:
        oid = make_id(token)
    # object.__setattr__: NamespaceProxy forwards attribute writes to the referent.
    object.__setattr__(proxy, attr, oid)
    return oid


def _proxy_queue_id(proxy):
    return _proxy_id(proxy, '_procscope_qid', QUEUE_TYPEIDS, queue_id)


def _proxy_lock_id(proxy):
    return _proxy_id(proxy, '_procscope_lid', LOCK_TYPEIDS, lock_id)


def _proxy_sync(proxy):
    """(id, kind, keys) of the proxy's Condition, Event or Barrier in this process (see
    _sync.keys_for), or None; worked out once per proxy. A forked child keeps them with the id
    table it inherits; a pickled proxy arrives without them, and makes its own."""
    d = proxy.__dict__
    try:
        return d['_procscope_sync']
    except KeyError:
        pass
    s = None
    token = d.get('_token')
    kind = SYNC_TYPEIDS.get(getattr(token, 'typeid', None)) if token is not None else None
    if kind is not None:
        oid = object_id(kind, token)
        s = (oid, kind, _sync.keys_for(oid))
    object.__setattr__(proxy, '_procscope_sync', s)
    return s


def _shared_id(token):
    return object_id(SHARED_TYPEIDS[token.typeid], token)


def _shared_keys(proxy):
    """method -> (append, key) of this proxy's shared object in this process, or None when the
    proxy is not one of a shared object. The table is the proxy's own: a proxy that reaches
    another process arrives without it, and makes its own there."""
    d = proxy.__dict__
    keys = d.get('_procscope_sh')
    if keys is None:
        token = d.get('_token')
        keys = {} if token is not None and getattr(token, 'typeid', None) in SHARED_TYPEIDS else False
        object.__setattr__(proxy, '_procscope_sh', keys)
    return keys if keys is not False else None


def _shared_key(proxy, keys, name):
    k = keys.get(name)
    if k is None:
        oid = '%s#%s' % (_shared_id(proxy._token), name)
        index = client.register(oid)
        if index is None:
            k = (client.reports_for(oid), 0)
        else:
            k = (client.ops.append, _c.record_key(client.t0_ns, index << _c.OP_BITS | _c.OP_SHARED_CALL))
        keys[name] = k
    return k


#: How deep each thread of this process holds each manager RLock: only the outermost acquire
#: and release are reported, as for multiprocessing.RLock. (A manager Lock is not re-entrant: a
#: second acquire by its holder waits for itself, and the monitor calls that a deadlock.)
_depth = {}
if hasattr(os, 'register_at_fork'):
    # A forked child holds none of them: to the manager's server it is another owner.
    os.register_at_fork(after_in_child=_depth.clear)


def _lock_report(lid, op, at, **extra):
    try:
        msg = {'k': 'lrep', 'l': lid, 'op': op, 'at': at}
        msg.update(extra)
        client.post(msg)
    except Exception:
        pass


def _call_args(args, kwargs):
    """The arguments a proxy method passed to _callmethod(methodname, args=(), kwds={})."""
    return args[1] if len(args) > 1 else kwargs.get('args', ())


def _lock_call(orig, proxy, lid, name, args, kwargs):
    """A manager Lock, RLock, Semaphore or BoundedSemaphore is a threading object in the server
    (and a Condition's acquire and release are its lock's); the proxies report what their own
    process does with it. A request is reported before the call (the wait must be seen while it
    lasts: it may be a deadlock), an acquire when the call returns, a release just before the
    call (the next holder's acquire is stamped after it) but only once the server agreed: one it
    refused (a BoundedSemaphore past its value, a lock this thread does not hold) is an error."""
    reentrant = proxy._token.typeid in REENTRANT_TYPEIDS
    key = (lid, threading.get_ident())
    if name == 'release':
        at = client.now()
        try:
            result = orig(proxy, *args, **kwargs)
        except (ValueError, RuntimeError) as e:
            _lock_report(lid, 'error', client.now(), error='%s: %s' % (type(e).__name__, e))
            raise
        if reentrant:
            depth = _depth.get(key, 1) - 1
            if depth > 0:
                _depth[key] = depth
                return result
            _depth.pop(key, None)
        _lock_report(lid, 'release', at)
        return result
    if reentrant and _depth.get(key, 0) > 0:
        result = orig(proxy, *args, **kwargs)
        if result:
            _depth[key] += 1
        return result
    call_args = _call_args(args, kwargs)
    blocking = call_args[0] if len(call_args) > 0 else True
    if blocking:
        # A wait with a timeout ends by itself: never part of a deadlock.
        if len(call_args) > 1 and call_args[1] is not None:
            _lock_report(lid, 'request', client.now(), timed=True)
        else:
            _lock_report(lid, 'request', client.now())
    ok = False
    try:
        result = orig(proxy, *args, **kwargs)
        ok = bool(result)
    finally:
        at = client.now()
        if not blocking:
            _lock_report(lid, 'request', at)
        _lock_report(lid, 'acquire' if ok else 'timeout', at)
        if ok and reentrant:
            _depth[key] = 1
    return result


def _holds(lid):
    """This thread holds the Condition's lock `lid` (as its proxy calls told): its wait and notify
    go ahead (the server refuses them otherwise, and nothing is reported)."""
    return _depth.get((lid, threading.get_ident()), 0) > 0


def _barrier_timeout(proxy):
    """The timeout a Barrier was made with (its waits' default), from the server: asked only
    when a wait broke."""
    try:
        return proxy._callmethod('__getattribute__', ('_timeout',))
    except Exception:
        return None


def _sync_call(orig, proxy, sync, name, args, kwargs):
    """A manager Condition, Event or Barrier: the calls of this process, stamped as _sync.py
    stamps multiprocessing's (a wait before the call, its end after it; a set, clear, notify,
    abort or reset before it acts)."""
    oid, kind, k = sync
    if kind == 'condition':
        lid = _proxy_lock_id(proxy)
        if lid is None or not _holds(lid):
            return orig(proxy, *args, **kwargs)
        if name == 'wait':
            _sync.rec(k, _sync.WAIT)
            # The server's wait releases the lock, and takes it again before it returns.
            _lock_report(lid, 'release', client.now())
            result = orig(proxy, *args, **kwargs)
            _sync.rec(k, _sync.WOKEN if result else _sync.TIMEOUT)
            at = client.now()
            _lock_report(lid, 'request', at)
            _lock_report(lid, 'acquire', at)
            return result
        if name == 'notify' or name == 'notify_all':
            n = -1
            if name == 'notify':
                call_args = _call_args(args, kwargs)
                n = call_args[0] if call_args else 1
                n = -1 if n >= sys.maxsize else max(0, int(n))
            _sync.post(oid, kind, 'notify', n=n)
        return orig(proxy, *args, **kwargs)
    if name == 'wait':
        _sync.rec(k, _sync.WAIT)
        start = time.monotonic()
        try:
            result = orig(proxy, *args, **kwargs)
        except threading.BrokenBarrierError:
            if kind == 'barrier':
                call_args = _call_args(args, kwargs)
                limit = call_args[0] if call_args else None
                if limit is None:
                    limit = _barrier_timeout(proxy)
                _sync.rec(k, _sync.TIMEOUT if limit is not None and time.monotonic() - start >= limit else _sync.BROKEN)
            raise
        if kind == 'event':
            _sync.rec(k, _sync.WOKEN if result else _sync.TIMEOUT)
        return result
    if kind == 'event' and (name == 'set' or name == 'clear'):
        _sync.rec(k, _sync.SET if name == 'set' else _sync.CLEAR)
    elif kind == 'barrier' and (name == 'abort' or name == 'reset'):
        _sync.post(oid, kind, name)
    return orig(proxy, *args, **kwargs)


def _wrap_callmethod(orig):
    time_ns = time.time_ns

    def _callmethod(self, *args, **kwargs):
        name = args[0] if args else kwargs.get('methodname')
        keys = _shared_keys(self)
        if keys is not None and isinstance(name, str):
            try:
                return orig(self, *args, **kwargs)
            finally:
                # A read that raised (a KeyError) still read the object.
                append, k = _shared_key(self, keys, name)
                append(time_ns() - k)
                if client.nudge:
                    client.attend()
        if name == 'acquire' or name == 'release':
            lid = _proxy_lock_id(self)
            if lid is not None:
                return _lock_call(orig, self, lid, name, args, kwargs)
            return orig(self, *args, **kwargs)
        if name in _SYNC_METHODS:
            sync = _proxy_sync(self)
            if sync is not None:
                return _sync_call(orig, self, sync, name, args, kwargs)
        op = _OPS.get(name) if isinstance(name, str) else None
        if op is None:
            return orig(self, *args, **kwargs)
        try:
            qid = _proxy_queue_id(self)
        except Exception:
            qid = None
        # Only after the call returned: a get that raised Empty (or a put that raised Full)
        # changed nothing.
        result = orig(self, *args, **kwargs)
        if qid is not None:
            try:
                client.post({'k': 'qrep', 'q': qid, 'op': op, 'at': client.now()})
            except Exception:
                pass
        return result

    _callmethod._procscope_wrapped = True
    _callmethod.__name__ = getattr(orig, '__name__', '_callmethod')
    _callmethod.__doc__ = getattr(orig, '__doc__', None)
    return _callmethod


def _creates_new(manager, typeid):
    """True when the typeid's callable makes a new object per call (SyncManager: queue.Queue,
    threading.Lock, threading.RLock, dict, list, and its own Namespace, Value, Array); a registered
    function may hand out one shared object, whose create would be reported again."""
    try:
        make = manager._registry[typeid][0]
    except Exception:
        return True
    if typeid in SHARED_TYPEIDS and getattr(make, '__module__', None) == 'multiprocessing.managers':
        return True
    return isinstance(make, type) or make is threading.Lock or make is threading.RLock


def _create_sync(token, kind, rest, kwds):
    oid = object_id(kind, token)
    if kind == 'condition':
        lid = lock_id(token)
        _lock_report(lid, 'create', client.now())
        _sync.post(oid, kind, 'create', lock=lid)
    elif kind == 'barrier':
        parties = rest[0] if rest else kwds.get('parties', 1)
        try:
            parties = max(1, int(parties))
        except (TypeError, ValueError):
            parties = 1
        _sync.post(oid, kind, 'create', parties=parties)
    else:
        _sync.post(oid, kind, 'create')


def _wrap_create(orig):
    def _create(self, *args, **kwds):
        result = orig(self, *args, **kwds)
        try:
            if args:
                typeid, rest = args[0], args[1:]
            else:
                typeid, rest = kwds.get('typeid'), ()
            if typeid in SEMAPHORE_TYPEIDS and _creates_new(self, typeid):
                value = rest[0] if rest else kwds.get('value', 1)
                try:
                    value = max(0, int(value))
                except (TypeError, ValueError):
                    value = 1
                _lock_report(lock_id(result[0]), 'create', client.now(), kind=SEMAPHORE_TYPEIDS[typeid], value=value)
            elif typeid in SYNC_TYPEIDS and _creates_new(self, typeid):
                _create_sync(result[0], SYNC_TYPEIDS[typeid], rest, kwds)
            elif typeid in LOCK_TYPEIDS and _creates_new(self, typeid):
                _lock_report(lock_id(result[0]), 'create', client.now())
            elif typeid in SHARED_TYPEIDS and _creates_new(self, typeid):
                client.post({'k': 'shrep', 'o': _shared_id(result[0]), 'op': 'create', 'kind': SHARED_TYPEIDS[typeid], 'at': client.now()})
            elif typeid in QUEUE_TYPEIDS and _creates_new(self, typeid):
                token = result[0]
                maxsize = rest[0] if rest else kwds.get('maxsize', 0)
                try:
                    maxsize = int(maxsize)
                except (TypeError, ValueError):
                    maxsize = 0
                client.post({'k': 'qrep', 'q': queue_id(token), 'op': 'create', 'maxsize': maxsize if maxsize > 0 else 0, 'at': client.now()})
        except Exception:
            pass
        return result

    _create._procscope_wrapped = True
    _create.__name__ = getattr(orig, '__name__', '_create')
    _create.__doc__ = getattr(orig, '__doc__', None)
    return _create


def patch(managers):
    """Patches an imported multiprocessing.managers module (once)."""
    BaseManager = managers.BaseManager
    BaseProxy = managers.BaseProxy
    create = BaseManager.__dict__['_create']
    callmethod = BaseProxy.__dict__['_callmethod']
    if not getattr(create, '_procscope_wrapped', False):
        BaseManager._create = _wrap_create(create)
    if not getattr(callmethod, '_procscope_wrapped', False):
        BaseProxy._callmethod = _wrap_callmethod(callmethod)


def install():
    when_imported(_MODULE, patch)
