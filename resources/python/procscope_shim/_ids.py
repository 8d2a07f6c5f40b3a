"""What every reported object of the script shares: a run-wide id (made here, carried by the
object's pickled state to a spawned child), the check that an object is the script's own and not
one multiprocessing makes for itself, and how its operations are recorded (see _client.py).
"""

import itertools
import os

from . import _client as _c
from ._client import client

_ids = itertools.count(1)

# Modules whose calls to the context's factories are multiprocessing's own (a Queue's internal
# locks, a Pool's task queues): those objects are not the user's and are not reported.
_INTERNAL = ('multiprocessing', 'concurrent.futures')


def is_internal(frame):
    name = frame.f_globals.get('__name__', '') if frame is not None else ''
    for p in _INTERNAL:
        if name == p or name.startswith(p + '.'):
            return True
    return False


def new_id(kind):
    return '%s-%d-%d' % (kind, os.getpid(), next(_ids))


def recorder(oid):
    """(append one record, the object's code): the shared buffer, or JSON reports when this
    process's id table is full."""
    index = client.register(oid)
    if index is not None:
        return client.ops.append, index << _c.OP_BITS
    return client.reports_for(oid), 0


def wrap_state(cls, after_set=None):
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
