"""Pool workers report each task they finish (Python's own count, as `maxtasksperchild` counts:
one `apply`, or one chunk of a `map`), and whether it raised.

The worker loop is multiprocessing's own; only the queue it answers on is wrapped, so every result
it sends is one finished task. The wrapper keeps the name `multiprocessing.pool.worker`, so a
spawned worker unpickles its target by reference to the (equally patched) function in the child.
"""

import functools
import threading

from ._client import client


class _CountingOutqueue(object):
    def __init__(self, queue):
        self._procscope_queue = queue
        self._procscope_done = 0
        self._procscope_failed = 0

    def put(self, obj):
        try:
            ok = bool(obj[2][0])  # (job, i, (success, value))
        except Exception:
            return self._procscope_queue.put(obj)
        self._procscope_done += 1
        if not ok:
            self._procscope_failed += 1
        # Sent before the result: once the last result is in, the pool may SIGTERM this worker
        # at once, and this also sends what the task printed.
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


def install():
    from multiprocessing import pool

    orig = pool.worker
    if getattr(orig, '_procscope', False):
        return

    @functools.wraps(orig)
    def worker(inqueue, outqueue, *args, **kwargs):
        # A ThreadPool runs the same loop in threads of one process: those are not processes.
        if threading.current_thread() is not threading.main_thread():
            return orig(inqueue, outqueue, *args, **kwargs)
        return orig(inqueue, _CountingOutqueue(outqueue), *args, **kwargs)

    worker._procscope = True
    pool.worker = worker
