"""procscope's instrumentation of multiprocessing (Python mode).

Active only when procscope started the interpreter (PROCSCOPE_SOCKET is set). It never edits the
user's script: it patches multiprocessing so that each process introduces itself to procscope's
broker and reports what it does with queues and locks; the real objects keep working unchanged.
Reports are JSON frames on a Unix socket, batched by a background thread.
"""

import os

from ._client import ENV_ROLE, client
from . import _children, _patch

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    # Read before client.install() sets it for the processes this one starts.
    role = os.environ.get(ENV_ROLE)
    client.install()
    try:
        _children.install(role)
    except Exception as e:  # an interpreter we do not know: run anyway, say so
        client.post({'k': 'warn', 'message': 'procscope could not instrument processes outside multiprocessing: %r' % (e,)})
    _patch.install()
    for name in ('_managers', '_pool'):
        try:
            __import__(__name__ + '.' + name, fromlist=['install']).install()
        except Exception as e:  # an interpreter we do not know: run anyway, say so
            client.post({'k': 'warn', 'message': 'procscope could not instrument %s: %r' % (name.strip('_'), e)})
