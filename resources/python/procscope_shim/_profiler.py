"""The sampling profiler of Python mode (on with `procscope run --profile`, PROCSCOPE_PROFILE = Hz).

It needs no thread of its own: procscope's one thread (see _client._run) calls sample() when a
sample is due, so the program keeps exactly the threads it has without procscope, and a fork
stops the sampling with the thread and a child starts its own with its connection.

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
import sys
import threading
import time

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


class Profiler(object):
    def __init__(self, hz, t0_ns):
        self.interval_ns = int(1e9 / hz)
        self.t0_ns = t0_ns
        self.due = time.monotonic_ns()
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
        self._names = {}
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
        # The next one an interval after this one was due, or after now if it fell behind
        # (a busy monitor, a thread stopped for a fork): no burst of samples to catch up.
        self.due += self.interval_ns
        if self.due <= now:
            self.due = now + self.interval_ns
        with self._lock:
            self._sample()

    def _sample(self):
        me = threading.get_ident()
        wall = time.time_ns()
        at = (wall - self.t0_ns) // 1000
        frames = sys._current_frames()
        for ident, frame in frames.items():
            if ident == me:
                continue
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
            stack = self._intern(frame)
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
        del frames

    def _new_thread(self, ident):
        name = self._names.get(ident)
        if name is None:
            self._names = {t.ident: t.name for t in threading.enumerate()}
            name = self._names.get(ident, 'Thread-%d' % ident)
        if name.startswith('procscope-'):
            return None
        index = self._thread_count
        self._thread_count += 1
        # [index, CPU clock, previous CPU ns, previous wall ns, its previous sample in this batch]
        th = [index, _thread_clock(ident), None, None, -1]
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
