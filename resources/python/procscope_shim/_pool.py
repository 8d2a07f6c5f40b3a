"""Pool workers report each task they finish (Python's own count, as `maxtasksperchild` counts:
one `apply`, or one chunk of a `map`; for a ProcessPoolExecutor, one `submit` or one chunk of its
`map`), and whether it raised.

The worker loop is multiprocessing's own; only the queue it answers on is wrapped, so every result
it sends is one finished task. The wrapper keeps the name `multiprocessing.pool.worker`, so a
spawned worker unpickles its target by reference to the (equally patched) function in the child.
"""

import functools
import threading

from ._client import client
from ._lazy import when_imported


def _outcome(obj):
    """True/False for a finished task's result (raised or not), None for anything else."""
    if isinstance(obj, tuple) and len(obj) == 3 and isinstance(obj[2], tuple) and len(obj[2]) == 2:
        return bool(obj[2][0])  # Pool: (job, i, (success, value))
    if getattr(obj, 'work_id', None) is not None and hasattr(obj, 'exception'):
        return obj.exception is None  # ProcessPoolExecutor: _ResultItem
    return None


class _CountingOutqueue(object):
    def __init__(self, queue):
        self._procscope_queue = queue
        self._procscope_done = 0
        self._procscope_failed = 0

    def put(self, obj):
        ok = _outcome(obj)
        if ok is None:  # not a task's result (a worker saying it exits)
            return self._procscope_queue.put(obj)
        self._procscope_done += 1
        if not ok:
            self._procscope_failed += 1
        # Sent before the result: once the last result is in, the pool may SIGTERM this worker
        # at once, and this also sends what the task printed (and the samples it made).
        client.take_samples()
        client.post_now({'k': 'task', 'done': self._procscope_done, 'failed': self._procscope_failed})
        try:
            self._procscope_queue.put(obj)
        except BaseException:
            # Not sent (a result that cannot be pickled): the worker sends an error instead,
            # which counts as this task, failed.
            self._procscope_done -= 1
            if not ok:
                self._procscope_failed -= 1
            raise

    def __getattr__(self, name):
        # _reader, _writer, close...: everything else is the real queue's.
        return getattr(self._procscope_queue, name)


def _wrap_worker(module, name, queue_arg):
    """Wraps module.<name>, a worker loop whose argument number `queue_arg` is the queue it
    sends results on, keeping its name (spawned workers unpickle their target by reference)."""
    orig = getattr(module, name)
    if getattr(orig, '_procscope', False):
        return

    @functools.wraps(orig)
    def worker(*args, **kwargs):
        # A ThreadPool runs the same loop in threads of one process: those are not processes.
        if threading.current_thread() is threading.main_thread() and len(args) > queue_arg:
            args = args[:queue_arg] + (_CountingOutqueue(args[queue_arg]),) + args[queue_arg + 1 :]
        return orig(*args, **kwargs)

    worker._procscope = True
    setattr(module, name, worker)


def install():
    # multiprocessing.Pool: worker(inqueue, outqueue, ...), results as (job, i, (ok, value)).
    when_imported('multiprocessing.pool', lambda m: _wrap_worker(m, 'worker', 1))
    # concurrent.futures.ProcessPoolExecutor: _process_worker(call_queue, result_queue, ...),
    # results as _ResultItem(work_id, exception, result).
    when_imported('concurrent.futures.process', lambda m: _wrap_worker(m, '_process_worker', 1))
