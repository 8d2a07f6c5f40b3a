"""Processes the program starts outside multiprocessing: they are processes of the run too.

- A bare os.fork(): the child introduces itself as `fork-<pid>` before fork returns in it (an
  after-fork hook), so that what it prints is its own, and its parent announces it (spawned), so
  that it has a row even if it dies before its hello is read. multiprocessing's own forks
  (Process.start, the forkserver) are left to _patch: their children introduce themselves in
  Process._bootstrap; os.spawn*'s fork execs at once, and a Python it starts introduces itself.
- What such a child prints goes to the monitor while its descriptor is the run's output; to the
  descriptor otherwise (a pipe its parent reads: capture_output, or a dup2 in a fork child).
- An interpreter the program starts (subprocess, os.exec*, os.system) inherits the shim through
  PYTHONPATH and finds PROCSCOPE_ROLE=child: unless it is one of multiprocessing's own (a spawn
  child, which waits for its Process object; the forkserver or the resource tracker, which are
  not the program's), it introduces itself at start, named by its command line. A program that is
  not Python (sleep, sh) never connects and has no row.
- How each ended: its parent's os.wait*() reaps it, and reports the exit code it got (a signal
  included). The report is `reaped`: it may name a child that never was a process of the run (a
  `sleep`), which the monitor then skips without a word. A child nobody reaps is read as a zombie
  by the monitor; an orphan (its parent died first) is reaped by init, and only its own word is
  left: the `bye` it sends from os._exit (a normal exit cannot tell its code to an atexit hook).
"""

import os
import sys
import threading

from . import _client as _c
from ._client import client
from ._output import ENV_OUTPUT_INODES

#: Set in a bare fork's child to its pid (see install).
ENV_FORKED = 'PROCSCOPE_FORK_CHILD'

#: The process that introduced itself from here (a fork or a program child): its os._exit sends
#: a bye. Compared with os.getpid(): a multiprocessing child forked from it reports its own end.
_self_reporting = None


def install(role):
    """`role`: PROCSCOPE_ROLE as this interpreter found it (main, child, or None)."""
    if not client.path:
        return
    if role != 'main':
        # A program started with stdout=PIPE, and the spawn children it starts, write to that pipe.
        route(1)
        route(2)
    started_by_program = role == 'child'
    _hook_fork()
    _hook_waits()
    _hook_exit()
    _hook_dup2()
    # A fork child of the program that exec'd this interpreter is listed already, as fork-<pid>:
    # a second hello for its pid would be refused. Its parent reports its end.
    if started_by_program and os.environ.get(ENV_FORKED) != str(os.getpid()):
        argv = _command_line()
        if argv is not None and not _multiprocessing_own(argv):
            _introduce(_program_name(argv), None)


def _introduce(name, after):
    global _self_reporting
    client.connect(os.getpid(), os.getppid(), name, False, None, after)
    if client.connected:
        _self_reporting = os.getpid()


# ---- where sys.stdout and sys.stderr go ---------------------------------------------------------


def route(fd):
    """sys.stdout (fd 1) or sys.stderr (fd 2) goes to the monitor only while that descriptor is
    the run's output, the one _output left this process (by inode): a program started with
    stdout=PIPE (capture_output) writes to its parent's pipe, and a fork child that dup2()s a pipe
    onto 1 writes to that pipe, as without procscope."""
    stream = getattr(client, 'out' if fd == 1 else 'err', None)
    run = (os.environ.get(ENV_OUTPUT_INODES) or '').split(',')
    if stream is None or len(run) != 2:
        return
    try:
        inode = str(os.fstat(fd).st_ino)
    except (OSError, ValueError):
        inode = None
    stream.routed = inode == run[fd - 1]


def _from_multiprocessing(frame):
    return frame is not None and str(frame.f_globals.get('__name__', '')).startswith('multiprocessing.')


def _not_the_programs(frame):
    """A fork that is not the program's own: multiprocessing's, or os.spawn*'s (which execs at
    once: a Python it starts introduces itself, as one started by subprocess)."""
    return _from_multiprocessing(frame) or (frame is not None and frame.f_globals.get('__name__') == 'os')


# ---- os.fork ------------------------------------------------------------------------------------

#: Between the hooks of one fork: the count the child's hello carries, or None when the fork is
#: not the program's own.
_forking_after = None


def _before_fork():
    global _forking_after
    _forking_after = None
    # Hooks run with the frame that called os.fork() as the caller: os.fork is not wrapped, so
    # that CPython's warning about forking a multi-threaded process names the program's line.
    if client.connected and not _not_the_programs(sys._getframe(1)):
        # The child is listed after what this process said before forking it (see sent_mark).
        _forking_after = client.sent_mark()


def _after_fork_child():
    after = _forking_after
    if after is None:
        return
    try:
        # Should it exec a Python, that one has its row already (see install).
        os.environ[ENV_FORKED] = str(os.getpid())
        _introduce('fork-%d' % os.getpid(), after)
    except Exception:
        pass


def _after_fork_parent():
    global _forking_after
    if _forking_after is None:
        return
    _forking_after = None
    # The child is announced at once, so that the run lists it even if it ends before its hello
    # is read (its parent gone by then, say). The hook is not told its pid: the newest child of
    # this thread is it (the kernel lists a thread's children oldest first; none is reaped yet).
    try:
        with open('/proc/self/task/%d/children' % threading.get_native_id(), 'rb') as f:
            pid = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError, AttributeError):
        return
    try:
        # Sent now, without waking procscope's thread (3.13 counts threads after this hook).
        client.post_now({'k': 'spawned', 'pid': pid, 'name': 'fork-%d' % pid, 'daemon': False})
    except Exception:
        pass


def _hook_fork():
    if hasattr(os, 'register_at_fork'):
        # Registered after _client's: its before-fork hook (which stops procscope's thread) runs
        # after this one, its after-fork hooks (a clean client in the child) before.
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)


# ---- os.wait* -----------------------------------------------------------------------------------


def _exitcode(status):
    """Python's exit code (negative: the signal) of a wait status; None if it is no end (stopped, continued)."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return None


def _reaped(pid, code, frame):
    # multiprocessing's Popen.poll reports its own children (see _patch._wrap_poll).
    if code is None or pid <= 0 or not client.connected or _from_multiprocessing(frame):
        return
    try:
        client.post({'k': 'exited', 'pid': pid, 'exitcode': code, 'reaped': True})
        # Now, as multiprocessing's: a child started next must not be listed before it. Not
        # from a signal handler that interrupted this thread's own send (flush_unless_stuck).
        client.flush_unless_stuck()
    except Exception:
        pass


def _hook_waits():
    getframe = sys._getframe
    wrapped = {}

    def wrap(name, make):
        real = getattr(os, name, None)
        if real is None:
            return
        hook = make(real)
        hook.__name__ = name
        hook.__doc__ = real.__doc__
        wrapped[real] = hook
        setattr(os, name, hook)

    def status_first(real):
        # waitpid, wait, wait3, wait4: (pid, status, ...)
        def hook(*args, **kwargs):
            result = real(*args, **kwargs)
            _reaped(result[0], _exitcode(result[1]), getframe(1))
            return result

        return hook

    for name in ('waitpid', 'wait', 'wait3', 'wait4'):
        wrap(name, status_first)

    def waitid(real):
        def hook(*args, **kwargs):
            result = real(*args, **kwargs)
            options = args[2] if len(args) > 2 else kwargs.get('options', 0)
            if result is not None and not options & getattr(os, 'WNOWAIT', 0):
                code = {os.CLD_EXITED: result.si_status, os.CLD_KILLED: -result.si_status, os.CLD_DUMPED: -result.si_status}.get(result.si_code)
                _reaped(result.si_pid, code, getframe(1))
            return result

        return hook

    if hasattr(os, 'CLD_EXITED'):
        wrap('waitid', waitid)
    # subprocess binds os.waitpid when it is imported: imported already (by the user's own
    # sitecustomize, say), it gets the hook too.
    sub = sys.modules.get('subprocess')
    if sub is not None:
        try:
            if getattr(sub, '_waitpid', None) in wrapped:
                sub._waitpid = wrapped[sub._waitpid]
            poll = sub.Popen._internal_poll
            if poll.__defaults__:
                poll.__defaults__ = tuple(wrapped.get(d, d) if callable(d) else d for d in poll.__defaults__)
        except Exception:
            pass


# ---- os._exit -----------------------------------------------------------------------------------


def _hook_exit():
    flushing_exit = os._exit

    def _exit(status):
        # Its own word on its end, for when no parent reports it (an orphan). The flushing
        # os._exit of _client sends it.
        if _self_reporting == os.getpid() and client.connected:
            try:
                bye = {'k': 'bye', 'exitcode': _c.exit_status(status)}
                bye.update(_c.own_usage())
                client.post(bye)
            except Exception:
                pass
        flushing_exit(status)

    _exit.__doc__ = flushing_exit.__doc__
    os._exit = _exit


# ---- os.dup2 ------------------------------------------------------------------------------------


def _hook_dup2():
    real_dup2 = getattr(os, 'dup2', None)
    if real_dup2 is None:
        return

    def dup2(fd, fd2, *args, **kwargs):
        result = real_dup2(fd, fd2, *args, **kwargs)
        # Not _output's own: it puts the run's descriptors in place (and says so after).
        if fd2 in (1, 2) and client.connected and not str(sys._getframe(1).f_globals.get('__name__')).startswith(__package__):
            route(fd2)
        return result

    dup2.__doc__ = real_dup2.__doc__
    os.dup2 = dup2


# ---- the command line ---------------------------------------------------------------------------


def _command_line():
    """This interpreter's command line, or None where it cannot be read (before 3.10, no /proc)."""
    argv = getattr(sys, 'orig_argv', None)
    if argv:
        return list(argv)
    try:
        with open('/proc/self/cmdline', 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    return [os.fsdecode(a) for a in raw.split(b'\0')[:-1]] or None


def _multiprocessing_own(argv):
    """Whether this is an interpreter multiprocessing started itself: spawn children, the
    forkserver and the resource tracker all run `python [flags] -c 'from multiprocessing.…'`."""
    try:
        i = argv.index('-c')
    except ValueError:
        return False
    return i + 1 < len(argv) and argv[i + 1].lstrip().startswith('from multiprocessing.')


def _program_name(argv):
    words = [os.path.basename(argv[0])] + list(argv[1:])
    return _c.clip(' '.join(' '.join(w.split()) for w in words))
