"""The sampling profiler of Python mode (on with `procscope run --profile`, PROCSCOPE_PROFILE = Hz).

It needs no thread of its own, and takes the samples where they cost the program least:

- While the main thread runs Python, SIGPROF samples: an ITIMER_PROF timer fires every interval
  of the process's CPU time, and Python runs the handler in the main thread between two
  bytecodes. Sampling from procscope's thread would take the GIL from the busy thread 100 times a
  second, a switch between threads each time (and a wait for the scheduler when four workers
  share two cores): that, not the sampling, was most of what profiling cost a CPU-bound process.
- Otherwise procscope's one thread (see _client._run) samples, every interval of wall time: the
  main thread waits (its handler cannot run), another thread of the program computes, or the
  program took SIGPROF for its own profiler. While the handler samples, that thread only looks
  now and then (WATCH_INTERVALS) whether it still does.

The timer is procscope's only while the program leaves SIGPROF alone: a program that sets a
handler for it or an ITIMER_PROF timer gets them as Python would give them (procscope's thread
samples instead), and an exec stops the timer first (an exec keeps timers, and the new program
would die of a SIGPROF it does not handle). A fork's child has no timer: it arms its own as it
connects, with its own profiler; a fork stops procscope's thread, and the child starts its own.

A sample reads every thread's frames (sys._current_frames()), leaves out procscope's threads and
the shim's own frames, and interns what it finds in this process: a frame is (function, file,
line being run), a stack is (parent stack, frame), so a sample is one int. How much the thread
was on a CPU is read from its CPU-time clock (pthread_getcpuclockid): the share of the time since
its previous sample that it ran, in ninths (one digit, 0: waited all along, 9: ran all along), so
an on-CPU profile weighs each sample by the CPU time it stands for, and four busy workers sharing
two cores show the CPU time they really got. A sample's share is the smaller of the time before it
and the time after it (up to the next sample): a thread that forked five children and then waited
is waiting when sampled, and the forks' CPU time must not be put on its wait. A thread's state in /proc would not do: a thread
that waits for the GIL while this one samples sleeps on a futex, and a CPU-bound thread would
always read as waiting. A forked child's stacks start at its process's bootstrap: the frames
above it are its parent's, copied by fork.

The monitor receives the samples in `prof` messages about twice a second (see batch()), with the
frames and stacks they use for the first time; it interns them again run-wide.
"""

import os
import signal
import sys
import threading
import time

from . import _waits
from ._client import clip

#: Most samples a message carries; a batch that reaches it is sent at once.
MAX_BATCH = 4096
#: How often a batch is sent, seconds.
BATCH_SECONDS = 0.5
#: Deepest stack a sample keeps (innermost frames): a runaway recursion does not grow a message.
MAX_DEPTH = 256

_OURS = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: procscope's sitecustomize: a sample taken while it installs the shim is procscope's, not the
#: program's (its imports would show under Python's own startup).
_SITE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sitecustomize.py')
_DIGITS = '0123456789'
#: Code objects where a process's own stack starts (multiprocessing's BaseProcess._bootstrap, set
#: by _patch): in a forked child, the frames above are the parent's.
roots = set()


def _thread_clock(ident):
    try:
        return time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError, OverflowError, ValueError):
        return None


#: While the signal samples, procscope's thread looks every this many intervals whether it still
#: does (the main thread may have blocked, or the program taken SIGPROF for itself). Each look
#: takes the GIL from the busy main thread: every 5 intervals cost a CPU-bound Pool ~8% of its
#: speed. A wait the shim sees begin (a lock, a queue, a join, an Event, a sleep) wakes the
#: thread at once instead (see wake_sampler).
WATCH_INTERVALS = 25
#: The signal samples no more once it has not run for this many intervals of wall time: a busy
#: process that shares its core with three others gets an interval of CPU time in about four.
QUIET_INTERVALS = 5

#: The profiler whose handler SIGPROF runs, if any (one per process: a fork's child arms its own).
_armed = None
#: os.execv and os.execve as they were (the exec wrappers disarm the timer first).
_exec_originals = None
#: signal's own, for procscope's timer (the program's calls go through _wrap_os's).
_real_signal = signal.signal
_real_setitimer = getattr(signal, 'setitimer', None)


class Profiler(object):
    def __init__(self, hz, t0_ns, owner=None):
        self.interval_ns = int(1e9 / hz)
        self.t0_ns = t0_ns
        self.due = time.monotonic_ns()
        #: monotonic ns of the last sample, whoever took it.
        self.last = 0
        #: monotonic ns of the last time the signal handler ran (0: never).
        self.signalled = 0
        self.armed = False
        #: The client whose `deferred` says that procscope's thread leaves the sampling to the
        #: handler (read by the shim's waits: see wake_sampler).
        self.owner = owner
        self._lock = threading.Lock()
        self._frames = {}
        self._stacks = {}
        self._new_frames = []
        self._new_stacks = []
        self._frames_sent = 0
        self._stacks_sent = 0
        #: thread ident -> [index, clock, previous cpu ns, previous wall ns]
        self._threads = {}
        self._new_threads = []
        self._thread_count = 0
        self._at = []
        self._thread = []
        self._stack = []
        self._cpu = []
        self._last_batch = time.monotonic()
        self._library = None

    # ---- sampling (procscope's thread) ---------------------------------------------------------

    def timeout_ms(self):
        """Milliseconds until the next sample is due (0: now)."""
        return max(0, (self.due - time.monotonic_ns()) // 1000000)

    def sample_if_due(self):
        now = time.monotonic_ns()
        if now < self.due:
            return
        if self.armed and now - self.signalled < QUIET_INTERVALS * self.interval_ns:
            # The main thread runs and samples on SIGPROF: this thread keeps out of its way
            # (taking the GIL from a busy thread 100 times a second is what costs the most)
            # and only looks now and then whether it still does.
            self.due = now + WATCH_INTERVALS * self.interval_ns
            self._defer(True)
            return
        self._defer(False)
        # The next one an interval after this one was due, or after now if it fell behind
        # (a busy monitor, a thread stopped for a fork): no burst of samples to catch up.
        self.due += self.interval_ns
        if self.due <= now:
            self.due = now + self.interval_ns
        with self._lock:
            self._sample(now)

    def _defer(self, deferred):
        owner = self.owner
        if owner is not None and owner.deferred != deferred:
            owner.deferred = deferred

    def wake(self):
        """The main thread is about to wait: procscope's thread samples from now on (the handler
        will not run while it waits), without waiting for its next look."""
        self.due = 0
        # Its handler will not run while it waits: procscope's thread must not take the last run
        # for a sign that it still does. It runs again once the main thread computes again.
        self.signalled = 0
        self._defer(False)

    # ---- sampling (the main thread, on SIGPROF) --------------------------------------------------

    def arm(self):
        """Samples on SIGPROF in the main thread, every interval of the process's CPU time
        (ITIMER_PROF), where the samples cost the program no switch between threads; True if
        armed. Only from the main thread, and only if the program has no SIGPROF use of its own."""
        global _armed
        if not hasattr(signal, 'setitimer') or threading.current_thread() is not threading.main_thread():
            return False
        try:
            handler = signal.getsignal(signal.SIGPROF)
            ours = getattr(handler, '__func__', None) is Profiler._on_signal
            if _armed is None and ((handler not in (signal.SIG_DFL, None) and not ours) or signal.getitimer(signal.ITIMER_PROF)[0] > 0):
                return False  # the program's own profiler, or a timer it set
            self._is_library('')  # imported now: never from the handler
            _real_signal(signal.SIGPROF, self._on_signal)
            # Restarted, not failed with EINTR: a thread in a system call may take the signal.
            signal.siginterrupt(signal.SIGPROF, False)
            seconds = self.interval_ns / 1e9
            _real_setitimer(signal.ITIMER_PROF, seconds, seconds)
        except (OSError, ValueError, AttributeError):
            return False
        _armed = self
        _wrap_os()
        self.armed = True
        return True

    def _on_signal(self, signum, frame):
        now = time.monotonic_ns()
        self.signalled = now
        # At most one sample an interval of wall time: two busy threads spend two intervals of
        # CPU time in one.
        if now - self.last < self.interval_ns * 3 // 4:
            return
        # Never waits: the main thread may be inside batch() itself.
        if self._lock.acquire(False):
            try:
                self._sample(now, frame)
            finally:
                self._lock.release()

    def _sample(self, now, interrupted=None):
        """One sample of every thread. `interrupted`: in the SIGPROF handler, the frame it
        interrupted (the main thread's, where the program is)."""
        self.last = now
        wall = time.time_ns()
        at = (wall - self.t0_ns) // 1000
        frames = _waits.other_frames(interrupted)
        for ident, frame in frames.items():
            th = self._threads.get(ident)
            if th is None:
                th = self._new_thread(ident)
                if th is None:
                    continue
            clock = th[1]
            on_cpu = 9
            share = None
            if clock is not None:
                try:
                    cpu = time.clock_gettime_ns(clock)
                except OSError:
                    cpu = None
                if cpu is not None:
                    prev_cpu, prev_wall = th[2], th[3]
                    th[2], th[3] = cpu, wall
                    if prev_cpu is None:
                        continue  # the first look at a thread sets its baseline
                    span = wall - prev_wall
                    share = (cpu - prev_cpu) * 9 // span if span > 0 else 0
                    share = 9 if share > 9 else (0 if share < 0 else share)
                    on_cpu = share
            stack = self._stack_of(frame, th)
            if stack < 0:
                continue
            prev = th[4]
            if share is not None and prev >= 0 and share < self._cpu[prev]:
                self._cpu[prev] = share
            th[4] = len(self._at)
            self._at.append(at)
            self._thread.append(th[0])
            self._stack.append(stack)
            self._cpu.append(on_cpu)
        if len(self._threads) > len(frames) + 8:
            # Threads that ended: their idents may be reused by new threads.
            for ident in [i for i in self._threads if i not in frames]:
                del self._threads[ident]

    def _new_thread(self, ident):
        # threading._active, not enumerate(): that takes a lock the interrupted main thread may hold.
        t = threading._active.get(ident)
        name = t.name if t is not None else 'Thread-%d' % ident
        if name.startswith('procscope-'):
            return None
        index = self._thread_count
        self._thread_count += 1
        # [index, CPU clock, previous CPU ns, previous wall ns, its previous sample in this batch,
        #  its last stack's code objects and instructions, and that stack (see _stack_of)]
        th = [index, _thread_clock(ident), None, None, -1, None, None, -1]
        self._threads[ident] = th
        self._new_threads.append([index, clip(name, 256)])
        return th

    def _is_library(self, filename):
        if self._library is None:
            from ._stacks import _is_library

            self._library = _is_library
        try:
            return self._library(filename)
        except Exception:
            return False

    def _stack_of(self, frame, th):
        """_intern(frame), or the thread's last stack when each of its frames is where it was then
        (the same code at the same instruction: the same function and line all the way down). A
        waiting thread, most threads of most processes, then costs a walk of its frames, not a
        look-up per frame (a sixth of the time). No frame is kept: the program's objects are
        freed when the program lets them go, never later by procscope."""
        codes, lastis = th[5], th[6]
        f = frame
        if codes is not None:
            i = 0
            n = len(codes)
            while f is not None and i < n and f.f_code is codes[i] and f.f_lasti == lastis[i]:
                f = f.f_back
                i += 1
            if f is None and i == n:
                return th[7]
            f = frame
        codes = []
        lastis = []
        while f is not None:
            codes.append(f.f_code)
            lastis.append(f.f_lasti)
            f = f.f_back
        stack = self._intern(frame)
        th[5], th[6], th[7] = codes, lastis, stack
        return stack

    def _intern(self, frame):
        path = []
        f = frame
        while f is not None:
            code = f.f_code
            filename = code.co_filename
            if filename == _SITE:
                return -1
            if not filename.startswith(_OURS):
                path.append((code, f.f_lineno or 0))
                if code in roots:
                    break
            f = f.f_back
        if not path:
            return -1
        if len(path) > MAX_DEPTH:
            del path[MAX_DEPTH:]
        frames = self._frames
        stacks = self._stacks
        parent = -1
        for key in reversed(path):
            fid = frames.get(key)
            if fid is None:
                code, line = key
                fid = len(frames)
                frames[key] = fid
                name = getattr(code, 'co_qualname', None) or code.co_name
                self._new_frames.append([clip(name, 256), clip(code.co_filename, 1024), line, 1 if self._is_library(code.co_filename) else 0])
            skey = (parent, fid)
            sid = stacks.get(skey)
            if sid is None:
                sid = len(stacks)
                stacks[skey] = sid
                self._new_stacks.append([parent, fid])
            parent = sid
        return parent

    # ---- sending -------------------------------------------------------------------------------

    def batch_due(self):
        n = len(self._at)
        return n >= MAX_BATCH or (n > 0 and time.monotonic() - self._last_batch >= BATCH_SECONDS)

    def batch(self):
        """The `prof` message of the samples taken since the last one, or None."""
        with self._lock:
            self._last_batch = time.monotonic()
            if not self._at:
                return None
            at = self._at
            deltas = [at[0]]
            for i in range(1, len(at)):
                deltas.append(at[i] - at[i - 1])
            msg = {
                'k': 'prof',
                'fb': self._frames_sent,
                'f': self._new_frames,
                'sb': self._stacks_sent,
                's': self._new_stacks,
                'th': self._new_threads,
                'd': deltas,
                'ti': self._thread,
                'st': self._stack,
                'c': ''.join(_DIGITS[c] for c in self._cpu),
            }
            self._frames_sent += len(self._new_frames)
            self._stacks_sent += len(self._new_stacks)
            self._new_frames, self._new_stacks, self._new_threads = [], [], []
            for th in self._threads.values():
                th[4] = -1
            self._at, self._thread, self._stack, self._cpu = [], [], [], []
            return msg


def disarm():
    """Stops the timer (a process about to run another program: an exec keeps it, and the new
    program would die of the SIGPROF it does not handle)."""
    global _armed
    if _armed is None:
        return
    _armed.armed = False
    _armed = None
    try:
        _real_setitimer(signal.ITIMER_PROF, 0)
    except (OSError, ValueError, AttributeError):
        pass


def _step_aside():
    """The program takes SIGPROF or ITIMER_PROF for itself (its own profiler): procscope's timer
    stops and the signal is as Python left it, so the program sees what it would see without
    procscope; procscope's thread samples instead."""
    p = _armed
    if p is None:
        return
    disarm()
    try:
        if signal.getsignal(signal.SIGPROF) == p._on_signal:
            _real_signal(signal.SIGPROF, signal.SIG_DFL)
    except (OSError, ValueError, AttributeError):
        pass




def _wrap_os():
    """os.execv and os.execve (which execl, execlp, execvp … call) disarm first, and arm again if
    the exec failed; signal.signal and signal.setitimer step aside for a program that uses SIGPROF;
    time.sleep wakes procscope's thread to sample (see WATCH_INTERVALS)."""
    global _exec_originals
    if _exec_originals is not None:
        return
    _exec_originals = (os.execv, os.execve)

    def wrap(real):
        def exec_(*args, **kwargs):
            p = _armed
            try:
                # What this process sampled and reported until now: the connection closes with
                # the exec.
                from ._client import client

                client.take_samples()
                client.flush_unless_stuck()
            except Exception:
                pass
            disarm()
            try:
                return real(*args, **kwargs)
            except BaseException:
                if p is not None:
                    p.arm()
                raise

        exec_.__name__ = real.__name__
        exec_.__doc__ = real.__doc__
        return exec_

    os.execv = wrap(_exec_originals[0])
    os.execve = wrap(_exec_originals[1])

    def signal_(signalnum, handler):
        if signalnum == signal.SIGPROF:
            _step_aside()
        return _real_signal(signalnum, handler)

    def setitimer(which, seconds, interval=0.0):
        if which == signal.ITIMER_PROF:
            _step_aside()
        return _real_setitimer(which, seconds, interval)

    real_sleep = time.sleep

    def sleep(seconds):
        from ._client import client

        if client.deferred:
            client.wake_sampler()
        return real_sleep(seconds)

    sleep.__doc__ = real_sleep.__doc__
    time.sleep = sleep

    signal_.__doc__ = _real_signal.__doc__
    setitimer.__doc__ = _real_setitimer.__doc__
    signal.signal = signal_
    signal.setitimer = setitimer
