"""Where each thread of this process is now, for the window's Stacks tab: what a stuck program
waits in. Read from sys._current_frames() by procscope's controls thread; procscope's own
threads and frames are left out (a wait inside the shim's lock wrapper shows as the script's
`lock.acquire()` line)."""

import linecache
import os
import sys
import threading

from ._client import clip
from ._waits import other_frames

#: Limits of one answer (STACK_MAX_THREADS / STACK_MAX_FRAMES in src-main/protocol.ts).
MAX_THREADS = 64
MAX_FRAMES = 64

_OURS = os.path.dirname(os.path.abspath(__file__))


def _library_dirs():
    import sysconfig

    dirs = set()
    paths = sysconfig.get_paths()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        if paths.get(key):
            dirs.add(os.path.abspath(paths[key]) + os.sep)
    return tuple(dirs)


_LIBRARY = None


def _is_library(filename):
    """Python's own modules and installed packages (and frozen ones, like <frozen runpy>)."""
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _library_dirs()
    if filename.startswith('<'):
        return True
    return os.path.abspath(filename).startswith(_LIBRARY)


def _cut(text, n):
    """At most `n` UTF-16 code units, as the monitor counts them (see _client.clip)."""
    whole = clip(text, 1 << 30)
    short = clip(whole, n)
    return short if short == whole else clip(short, n - 1) + '\u2026'


def _frames(frame):
    out = []
    f = frame
    while f is not None:
        code = f.f_code
        filename = code.co_filename
        if not os.path.abspath(filename).startswith(_OURS + os.sep):
            out.append(f)
        f = f.f_back
    # Innermost first here; the deepest MAX_FRAMES are the ones that say where it waits.
    out = out[:MAX_FRAMES]
    out.reverse()
    result = []
    for f in out:
        code = f.f_code
        line = f.f_lineno or 0
        result.append({
            'file': _cut(code.co_filename, 1024),
            'line': line,
            'func': _cut(code.co_name, 256),
            'code': _cut(linecache.getline(code.co_filename, line).strip(), 1024),
            'lib': _is_library(code.co_filename),
        })
    return result


def capture():
    """[{name, frames}], the main thread first."""
    names = {}
    for t in threading.enumerate():
        names[t.ident] = t.name
    main = threading.main_thread().ident
    stacks = []
    for ident, frame in other_frames().items():
        name = names.get(ident, 'Thread-%d' % ident)
        if name.startswith('procscope-'):
            continue
        stacks.append((ident != main, name, _frames(frame)))
    stacks.sort(key=lambda s: (s[0], s[1]))
    return [{'name': _cut(name, 256), 'frames': frames} for _, name, frames in stacks[:MAX_THREADS]]
