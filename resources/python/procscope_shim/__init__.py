"""procscope's instrumentation of multiprocessing (Python mode).

Active only when procscope started the interpreter (PROCSCOPE_SOCKET is set). It never edits the
user's script: it patches multiprocessing so that each process introduces itself to procscope's
broker and reports what it does with queues and locks; the real objects keep working unchanged.
Reports are JSON frames on a Unix socket, batched by a background thread.
"""

from ._client import client
from . import _patch

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    client.install()
    _patch.install()
    for name in ('_managers', '_pool'):
        try:
            __import__(__name__ + '.' + name, fromlist=['install']).install()
        except Exception as e:  # an interpreter we do not know: run anyway, say so
            client.post({'k': 'warn', 'message': 'procscope could not instrument %s: %r' % (name.strip('_'), e)})
