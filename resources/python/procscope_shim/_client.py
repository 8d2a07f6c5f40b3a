"""The connection to procscope's broker: framing, batching, output capture, process identity.

Wire: [u32 LE length of what follows][u8 codec = 1 (JSON)][UTF-8 JSON body] (src-main/protocol.ts).

Lock and queue operations are the hot path: a program may do millions a second, so each is ONE
int appended to `client.ops`: time_ns() - k, where k = T0 ns - (code << 47) was worked out when
the object came to this process (code = object index << 4 | op). That is one subtraction:

    record = (code << 47) + stamp     stamp = ns since the run's t = 0 (ENV_T0)

The low 47 bits hold the stamp modulo 2**47 (39 hours), and a stamp outside [0, 2**47) carries
into (or borrows from) the code. Whoever reads a record resolves that against a time close to its
stamp (split_record; the monitor uses the `t` its batch carries). One list append is atomic under
the GIL, so threads of a process may interleave freely without a lock. The sender thread packs the
records into int64s and ships them base64-encoded in `ops` messages with the object ids the
indices name. Everything else (process lifecycle, output, creates) is one JSON message each.
"""

import atexit
import base64
import collections
import io
import json
import os
import select
import socket
import struct
import sys
import threading
import time
from array import array
from ._output import own_output

_accel = None
if os.environ.get('PROCSCOPE_RECORDER') != 'python':  # the Python recorder asked for (tests, bench)
    try:
        # The recorder in C (_accel.c), built once per interpreter where it can be: Records is a
        # buffer of int64s with a list's append, LockMethods a lock's acquire and release.
        from . import _accel
    except ImportError:
        pass

ENV_SOCKET = 'PROCSCOPE_SOCKET'
ENV_ROLE = 'PROCSCOPE_ROLE'
ENV_T0 = 'PROCSCOPE_T0'

#: How long the sender thread waits to gather a batch, seconds.
FLUSH_DELAY = 0.004

#: Op codes of the compact records (OpCode in src-main/protocol.ts).
OP_LOCK_REQUEST = 0
OP_LOCK_ACQUIRE = 1
#: Taken at once: request and acquire share one stamp.
OP_LOCK_REQUEST_ACQUIRE = 2
OP_LOCK_RELEASE = 3
OP_LOCK_TIMEOUT = 4
#: A non-blocking attempt that failed: request and timeout share one stamp.
OP_LOCK_REQUEST_TIMEOUT = 5
OP_QUEUE_PUT = 6
OP_QUEUE_GET = 7
#: A blocking request with a timeout (a timed wait ends by itself: never a deadlock).
OP_LOCK_REQUEST_TIMED = 8
#: A Condition, Event or Barrier wait begins (a Barrier: an arrival), ends woken, ends timed out.
OP_SYNC_WAIT = 9
OP_SYNC_WOKEN = 10
OP_SYNC_TIMEOUT = 11
OP_EVENT_SET = 12
OP_EVENT_CLEAR = 13
#: A Barrier's wait raised BrokenBarrierError.
OP_SYNC_BROKEN = 14
#: A call on a manager's shared object: its id in the table is '<object id>#<method>'.
OP_SHARED_CALL = 15
#: Bits of a record's code that hold the op.
OP_BITS = 4

#: Objects one process can name in records: codes stay below 2**15, so that a record (code and
#: carry included) fits an int64.
MAX_OBJECTS = 1 << (15 - OP_BITS)
_STAMP_BITS = 47
_STAMP_MASK = (1 << _STAMP_BITS) - 1
#: Unsent records past which the hot path waits for the sender (~50 MB as Python ints): a
#: monitor slower than the program slows the program down instead of letting memory grow.
MAX_BUFFERED = 1 << 20
#: Records per `ops` message, so that the monitor handles a backlog a bounded piece at a time.
CHUNK_RECORDS = 1 << 16


def record_key(t0_ns, code):
    """k such that time_ns() - k is the record of `code` now."""
    return t0_ns - (code << _STAMP_BITS)


def split_record(record, ref):
    """(code, stamp ns) of a record; `ref` (ns since t = 0) is within 19 hours of its stamp."""
    stamp = record & _STAMP_MASK
    wraps = (ref - stamp + (1 << (_STAMP_BITS - 1))) >> _STAMP_BITS
    return (record >> _STAMP_BITS) - wraps, stamp + (wraps << _STAMP_BITS)


# The same operations as JSON reports (for objects past MAX_OBJECTS).
_REPORTS = {
    OP_LOCK_REQUEST: (('lrep', 'request'),),
    OP_LOCK_ACQUIRE: (('lrep', 'acquire'),),
    OP_LOCK_REQUEST_ACQUIRE: (('lrep', 'request'), ('lrep', 'acquire')),
    OP_LOCK_RELEASE: (('lrep', 'release'),),
    OP_LOCK_TIMEOUT: (('lrep', 'timeout'),),
    OP_LOCK_REQUEST_TIMEOUT: (('lrep', 'request'), ('lrep', 'timeout')),
    OP_QUEUE_PUT: (('qrep', 'put'),),
    OP_QUEUE_GET: (('qrep', 'get'),),
    OP_LOCK_REQUEST_TIMED: (('lrep', 'request'),),
    OP_SYNC_WAIT: (('srep', 'wait'),),
    OP_SYNC_WOKEN: (('srep', 'woken'),),
    OP_SYNC_TIMEOUT: (('srep', 'timeout'),),
    OP_EVENT_SET: (('srep', 'set'),),
    OP_EVENT_CLEAR: (('srep', 'clear'),),
    OP_SYNC_BROKEN: (('srep', 'broken'),),
    OP_SHARED_CALL: (('shrep', None),),
}

if hasattr(select, 'poll'):

    def _wait(sock, readable, timeout):
        """Waits until `sock` can be read (or written); True if it can. Raises ValueError or
        OSError once it is closed."""
        # poll, not select: select() refuses descriptors past 1023, which a busy program has.
        p = select.poll()
        p.register(sock, select.POLLIN if readable else select.POLLOUT)
        return bool(p.poll(timeout * 1000))

else:

    def _wait(sock, readable, timeout):
        r, w, _ = select.select([sock] if readable else [], [] if readable else [sock], [], timeout)
        return bool(r or w)


_JSON = 1
_dumps = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False).encode
_header = struct.Struct('<IB').pack
_unheader = struct.Struct('<IB').unpack_from
_time_ns = time.time_ns


#: How long a frame may wait for the monitor to take a single byte of it before the monitor
#: counts as not reading (stopped, or stuck): from then on the program goes on without waiting,
#: what it reports is dropped (counted), and a warning says so once the monitor reads again.
#: Until then a monitor slower than the program slows the program down (see attend).
#: PROCSCOPE_STALL_SECONDS sets another (the tests do, to wait less).
STALL_SECONDS = 5.0
try:
    STALL_SECONDS = float(os.environ.get('PROCSCOPE_STALL_SECONDS') or STALL_SECONDS)
except ValueError:
    pass
#: How long a fork waits for procscope's thread to stop (see _before_fork).
STOP_SECONDS = 1.0


def _profile_hz():
    """PROCSCOPE_PROFILE: the sampling profiler's rate (Hz), 0 when off (see _profiler.py)."""
    try:
        hz = int(os.environ.get('PROCSCOPE_PROFILE') or 0)
    except ValueError:
        return 0
    return hz if 1 <= hz <= 1000 else 0


PROFILE_HZ = _profile_hz()


def _os_thread_count():
    """Linux: field 20 of /proc/self/stat, the count CPython's fork warning reads first."""
    try:
        with open('/proc/self/stat', 'rb') as f:
            data = f.read()
        return int(data[data.rindex(b')') + 2 :].split()[17])
    except (OSError, ValueError, IndexError):
        return None


def clip(text, limit=256):
    """`text` as the monitor takes a name: at most `limit` UTF-16 code units (a character past
    U+FFFF counts two, as in JavaScript), lone surrogates (undecodable bytes) spelled out."""
    text = str(text)
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    if len(text) * 2 <= limit:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
    return text


def exit_status(code):
    """What a parent sees of a process that exits with `code` (an int, as _bootstrap returns it):
    the low 8 bits of the status (a bool is an int)."""
    try:
        return int(code) & 0xFF
    except (TypeError, ValueError, OverflowError):
        return 1


def own_usage():
    """This process's CPU time (s) and peak resident size (bytes), as a `bye` carries them; {}
    where the platform cannot tell."""
    try:
        import resource

        u = resource.getrusage(resource.RUSAGE_SELF)
    except (ImportError, OSError, ValueError):
        return {}
    # ru_maxrss is KiB on Linux and the BSDs, bytes on macOS.
    return {'cpu': u.ru_utime + u.ru_stime, 'maxrss': u.ru_maxrss * (1 if sys.platform == 'darwin' else 1024)}


class _Records(list):
    """The Python recorder's buffer, where the C one (_accel.Records) cannot be built: a list of
    ints, whose append costs a fraction of an array's, with the C buffer's take() and lost()."""

    _lost = 0

    def take(self):
        """Every record so far, as little-endian int64 bytes; empties the buffer."""
        # Appends only ever happen at the end: the first n records are ours to take.
        n = len(self)
        chunk = self[:n]
        del self[:n]
        try:
            packed = array('q', chunk)
        except OverflowError:  # a stamp millennia away from the run's start
            self._lost += n
            return b''
        if sys.byteorder != 'little':
            packed.byteswap()
        return packed.tobytes()

    def lost(self):
        """How many records did not fit an int64 since the last call."""
        lost, self._lost = self._lost, 0
        return lost


class _Client(object):
    def __init__(self):
        self.path = os.environ.get(ENV_SOCKET)
        try:
            self.t0 = float(os.environ.get(ENV_T0) or 0.0)
        except ValueError:
            self.t0 = 0.0
        # Whole microseconds: t0 * 1e6 in floating point would be off by up to ~100 ns.
        self.t0_ns = int(round(self.t0 * 1000.0)) * 1000
        #: The compact records not sent yet: the C recorder's buffer, else a list of ints (a list
        #: append costs a fraction of an array's, and the sender packs them). Never replaced,
        #: only emptied in place: the hot paths hold its bound `append`.
        self.ops = _accel.Records() if _accel is not None else _Records()
        #: Object ids by index. A forked child inherits them, as its objects keep their codes.
        self.ids = []
        self._index = {}
        #: The main process's pid: only its own uncaught exception is the run's error.
        self.main_pid = None
        self._wake = None
        self._reset()

    def _reset(self):
        self.sock = None
        self.connected = False
        self.pending = collections.deque()
        self.ops.clear()
        self.send_lock = threading.Lock()
        #: The thread that holds send_lock (a signal handler on it must not wait for itself).
        self.send_owner = None
        self.ids_lock = threading.Lock()
        self.drained = threading.Condition(threading.Lock())
        #: procscope's one thread in this process: it sends what is posted and reads what the
        #: monitor asks (controls, stacks), and sees the monitor go away.
        self.thread = None
        #: Asks the thread to stop (a fork is coming); it stops between two messages.
        self._stop = False
        #: True when a fork stopped the thread and it is to come back in this process.
        self._fork_resume = False
        #: Between the before-fork and after-fork hooks: the thread stays stopped.
        self._forking = False
        #: Starting and stopping the thread: two reports must not start two.
        self._thread_lock = threading.Lock()
        # The wake pipe of the thread, made with the thread; a forked child closes its copies.
        self._wake = None
        self.pid = os.getpid()
        #: Ids this connection has: a new connection (a forked child's) gets them all again.
        self.ids_sent = 0
        #: Messages written on this connection (the monitor counts what it reads the same way):
        #: a child started now is listed once the monitor has read this many (see sent_mark).
        self.sent = 0
        #: Read by the hot path after each record: True asks it to call attend() (the thread is
        #: idle, or is not running, or too much is unsent). One attribute read when False.
        self.nudge = True
        #: The rest of a frame the monitor has not taken yet: written first by the next flush.
        self._carry = None
        #: Since when (monotonic) the monitor has not read, or None while it reads.
        self.stalled = None
        self._dropped_ops = 0
        self._dropped_msgs = 0
        #: The sampling profiler of this process (PROFILE_HZ), made as it connects (see _profiler).
        self.profiler = None
        #: True while procscope's thread leaves the samples to the main thread's SIGPROF handler:
        #: a wait that begins then calls wake_sampler(). One attribute read when False.
        self.deferred = False
        self._next_scan = time.monotonic()

    # ---- clock ------------------------------------------------------------------------------

    def now(self):
        """Run time, ms, by this process's clock (the run's t = 0 is ENV_T0, epoch ms)."""
        # From t0_ns, as records are: a report and a record of one moment keep their order.
        return (_time_ns() - self.t0_ns) / 1e6

    # ---- lifecycle --------------------------------------------------------------------------

    def install(self):
        self.out = _Output(self, 0, sys.stdout)
        self.err = _Output(self, 1, sys.stderr)
        sys.stdout = self.out
        sys.stderr = self.err
        main = os.environ.get(ENV_ROLE) == 'main'
        # Every process started from here on (spawn, forkserver) waits for its Process object.
        os.environ[ENV_ROLE] = 'child'
        if hasattr(os, 'register_at_fork'):
            os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork_parent, after_in_child=self._after_fork_child)
        # Registered before multiprocessing's own exit handler, so it runs after it (children
        # joined): the last reports go out and the connection closes, before the interpreter
        # stops the reporter thread wherever it is.
        atexit.register(self.close)
        real_exit = os._exit

        def _exit(status):
            try:
                # os._exit skips atexit and finally blocks: what is unsent goes out first.
                self.flush_unless_stuck()
            except Exception:
                pass
            real_exit(status)

        _exit.__doc__ = real_exit.__doc__
        os._exit = _exit
        if main:
            from . import _run_end

            _run_end.remember_run(os.getpid())
            self.main_pid = os.getpid()
            self._prev_hook = sys.excepthook
            sys.excepthook = self._excepthook
            self.connect(os.getpid(), os.getppid(), 'MainProcess', False)

    # A fork must not copy a procscope thread's half-done work, and on 3.12+ CPython warns when a
    # process with other threads forks: procscope's thread stops before every fork, so the
    # program forks with exactly its own threads (the warning then comes only from those), and
    # comes back after it.

    def _before_fork(self):
        self._fork_resume = False
        self._forking = True
        try:
            t = self.thread
            if t is None or t is threading.current_thread() or not t.is_alive():
                return
            before = _os_thread_count()
            if not self._stop_thread(STOP_SECONDS):
                return
            self._fork_resume = True
            if before is not None:
                # join() returns before the OS thread is gone (3.12: as soon as it stopped
                # running Python); the warning counts OS threads.
                deadline = time.monotonic() + 0.05
                while (_os_thread_count() or 0) >= before and time.monotonic() < deadline:
                    time.sleep(0.0002)
        except Exception:
            pass

    def _after_fork_parent(self):
        self._forking = False
        if not self._fork_resume:
            return
        self._fork_resume = False
        # 3.12 has warned already; 3.13+ warns after this hook, counting the threads alive then,
        # so the thread comes back only if the program's own threads make it warn anyway.
        # Otherwise it comes back with the next report (attend), or when Process.start()
        # returns (see _patch.start).
        if sys.version_info < (3, 13) or (_os_thread_count() or 1) > 1:
            self.resume()

    def _after_fork_child(self):
        # The parent's connection and unsent reports are the parent's: start clean. A child of
        # multiprocessing introduces itself in Process._bootstrap (see _patch.py).
        old, wake = self.sock, self._wake
        self._reset()
        for closing in ((old,) if old is not None else ()):
            try:
                closing.close()  # our copy of the descriptor only; the parent's stays open
            except OSError:
                pass
        for fd in wake or ():
            try:
                os.close(fd)
            except OSError:
                pass

    def resume(self):
        """Starts procscope's thread (again, if a fork stopped it)."""
        with self._thread_lock:
            t = self.thread
            if self.connected and not self._forking and (t is None or not t.is_alive()):
                self._start_thread()

    def sent_mark(self):
        """Everything posted so far is sent; returns how many messages this connection has
        written. A child started next carries it in its hello, so the monitor lists the child
        only after reading them: the exit of the sibling this process joined just before
        comes first, though the two processes report on different connections."""
        # Not from a signal handler that interrupted this thread's own send: it would wait for
        # itself. Any other sender is waited for: a count that misses what is pending would let
        # the child be listed before them.
        if self.send_owner != threading.get_ident():
            self.flush()
        return self.sent

    def connect(self, pid, ppid, name, daemon, handle=None, after=None):
        if self.connected or not self.path:
            return
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.path)
        except OSError as e:
            sys.__stderr__.write('procscope: cannot reach the monitor (%s): not instrumented\n' % (e,))
            self.path = None
            return
        # Sends wait in poll(), so that a sender stuck on a slow monitor still sees the buffer
        # grow past its bound and a monitor that stopped reading (see _write).
        s.setblocking(False)
        self.sock = s
        self.pid = pid
        hello = {'k': 'hello', 'pid': pid, 'ppid': ppid, 'name': clip(name), 'daemon': bool(daemon)}
        if handle is not None:
            hello['handle'] = clip(handle)  # the Process object in the parent that this process is
        if after is not None:
            hello['after'] = after
        self.connected = True
        with self.send_lock:
            self._send_all([hello])
        if self.connected:
            own_output()
            if PROFILE_HZ and self.profiler is None:
                # Made here, not by procscope's thread: this is the main thread (a process's
                # start), the one that may arm SIGPROF.
                from ._profiler import Profiler

                self.profiler = Profiler(PROFILE_HZ, self.t0_ns, self)
                self.profiler.arm()
            self.resume()

    # ---- procscope's thread -----------------------------------------------------------------

    def _start_thread(self):
        if self._wake is None:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._wake = (r, w)
        self._stop = False
        t = threading.Thread(target=self._run, args=(self.sock, self._wake[0]), name='procscope-reporter', daemon=True)
        self.thread = t
        t.start()
        self._wake_up()  # reports made while it was not running go out now

    def _stop_thread(self, timeout):
        """Stops the thread between two messages; False if it did not stop within `timeout`."""
        with self._thread_lock:
            t = self.thread
            self._stop = True
            self._wake_up()
            t.join(timeout)
            if t.is_alive():
                self._stop = False
                return False
            self.thread = None
            self.nudge = True  # the next report brings it back (attend)
            return True

    def _wake_up(self):
        wake = self._wake
        if wake is not None:
            try:
                os.write(wake[1], b'.')
            except (BlockingIOError, InterruptedError):
                pass  # full: it is awake anyway
            except OSError:
                pass

    def _run(self, sock, wake_r):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        incoming = bytearray()
        while self.connected and self.sock is sock and not self._stop:
            busy = self._unsent()
            if not busy:
                self.nudge = True
                # A record appended before nudge was set did not wake us: look again.
                busy = self._unsent()
            if self._carry is not None:
                # The monitor has not taken all of a frame: wait until it can take more.
                poller.modify(sock, select.POLLIN | select.POLLOUT)
                timeout = 50
            else:
                poller.modify(sock, select.POLLIN)
                timeout = 0 if busy else None
            timeout = self._rounds_timeout(timeout)
            try:
                ready = poller.poll(timeout)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                return
            self._rounds()
            self.nudge = False
            flush = busy or self._carry is not None
            for fd, ev in ready:
                if fd == wake_r:
                    try:
                        while os.read(wake_r, 4096):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        return
                elif ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    if not self._receive(sock, incoming):
                        self._lost(sock)
                        return
            if self._stop:
                return
            if flush or self._unsent():
                if len(self.ops) < MAX_BUFFERED and self._carry is None:
                    time.sleep(FLUSH_DELAY)  # gather a batch
                self.flush()
                if len(self.ops) > MAX_BUFFERED:
                    self.nudge = True  # produced faster than sent: the hot path waits (attend)

    # ---- the thread's rounds: profiler samples, queue waits still blocked ----------------------

    def _rounds_timeout(self, timeout):
        """The poll timeout (ms, None: none) shortened to the next round due."""
        due = []
        p = self.profiler
        if p is None and PROFILE_HZ:
            from ._profiler import Profiler

            p = self.profiler = Profiler(PROFILE_HZ, self.t0_ns)
        if p is not None:
            due.append(p.timeout_ms())
        if self.ids:
            # Only a process with queues of the program has queue waits to look for.
            due.append(max(0, int((self._next_scan - time.monotonic()) * 1000)))
        if not due:
            return timeout
        soonest = min(due)
        return soonest if timeout is None else min(timeout, soonest)

    def _rounds(self):
        p = self.profiler
        if p is not None:
            p.sample_if_due()
            if p.batch_due():
                msg = p.batch()
                if msg is not None:
                    self.pending.append(msg)
        if self.ids and time.monotonic() >= self._next_scan:
            from . import _waits

            self._next_scan = time.monotonic() + _waits.SCAN_SECONDS
            _waits.scan(_time_ns())

    def wake_sampler(self):
        """A wait begins: if in the main thread (the one whose handler samples), procscope's
        thread samples again, now. Another thread's waits change nothing."""
        p = self.profiler
        if p is not None and threading.current_thread() is threading.main_thread():
            p.wake()
            self._wake_up()

    def take_samples(self):
        """Queues the samples not sent yet: before the connection closes, and before a Pool
        worker hands back a result (its pool may end it with SIGTERM right after the last one)."""
        p = self.profiler
        if p is not None:
            msg = p.batch()
            if msg is not None:
                self.pending.append(msg)

    def _receive(self, sock, buf):
        """Reads what the monitor sent and acts on each whole frame; False at end of stream."""
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return True
        except (OSError, ValueError):  # reset, or closed under us
            return False
        if not data:
            return False
        buf += data
        while len(buf) >= 5:
            length, codec = _unheader(buf, 0)
            if len(buf) < 4 + length:
                break
            body = bytes(buf[5:4 + length])
            del buf[:4 + length]
            if codec != _JSON:
                continue
            try:
                msg = json.loads(body.decode('utf-8'))
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            handler = self.on_control
            if msg.get('k') == 'ctl' and handler is not None:
                handler(msg)
            elif msg.get('k') == 'stk':
                self._answer_stacks(msg.get('rid'))
        return True

    def _lost(self, sock):
        """The connection ended without us closing it: if the monitor is gone, so is the run."""
        if self.sock is not sock or not self.connected:
            return  # closed by this process (it is exiting)
        self.connected = False
        from . import _run_end

        if _run_end.monitor_gone():
            _run_end.end_run()
        # The monitor is there and dropped this connection (it refused something): the program
        # goes on unreported, its output to where it always went.
        self.path = None
        self.ops.clear()
        self.pending.clear()

    # ---- controls from the window -----------------------------------------------------------

    #: Called with each `ctl` message, in procscope's thread; set by _patch.
    on_control = None

    def _answer_stacks(self, rid):
        try:
            from ._stacks import capture

            threads = capture()
        except Exception:
            threads = []
        self.post_now({'k': 'stkres', 'rid': rid, 'threads': threads})

    def close(self):
        """Sends what is left and disconnects (a child, just before it exits)."""
        # A monitor that does not read may be about to again (stopped, then continued): a second
        # for it, so that a process ending just then does not lose its last reports; no more.
        try:
            if self.profiler is not None:
                from ._profiler import disarm

                disarm()
            self.take_samples()
        except Exception:
            pass
        deadline = time.monotonic() + 1.0
        while self.stalled is not None and self.connected and time.monotonic() < deadline:
            try:
                _wait(self.sock, False, 0.05)
            except (OSError, ValueError, AttributeError):
                break
            self.flush()
        self.flush()
        self.connected = False
        s, self.sock = self.sock, None
        self._wake_up()
        if s is not None:
            try:
                s.close()
            except OSError:
                pass

    def _excepthook(self, tp, value, tb):
        # Only the main process's own uncaught exception ends the run in error: the interpreter
        # calls the hook with no Python frame below it, while a program (a test runner) that
        # calls sys.excepthook(*sys.exc_info()) for an exception it caught is one of those frames.
        try:
            if os.getpid() == self.main_pid and not _called_from_python():
                if isinstance(value, BaseException):
                    text = '%s: %s' % (tp.__name__, value) if str(value) else tp.__name__
                else:
                    text = str(tp)
                self.post({'k': 'fatal', 'message': text.splitlines()[0] if text else tp.__name__})
        except Exception:
            pass
        self._prev_hook(tp, value, tb)

    # ---- compact records ----------------------------------------------------------------------

    def register(self, oid):
        """The index records name `oid` by in this process, or None when the table is full."""
        with self.ids_lock:
            index = self._index.get(oid)
            if index is None:
                if len(self.ids) >= MAX_OBJECTS:
                    return None
                index = len(self.ids)
                self.ids.append(oid)
                self._index[oid] = index
            return index

    def post_record(self, oid, op, at):
        """One operation as JSON reports, for what a compact record cannot hold."""
        for k, name in _REPORTS[op]:
            if k == 'lrep':
                msg = {'k': k, 'l': oid, 'op': name, 'at': at}
                if op == OP_LOCK_REQUEST_TIMED:
                    msg['timed'] = True
            elif k == 'srep':
                # Ids name their kind first (event-4242-1): see _sync.py.
                msg = {'k': k, 's': oid, 'kind': oid.split('-', 1)[0], 'op': name, 'at': at}
            elif k == 'shrep':
                obj, _, method = oid.rpartition('#')
                msg = {'k': k, 'o': obj, 'm': method, 'at': at}
            else:
                msg = {'k': k, 'q': oid, 'op': name, 'at': at}
            self.post(msg)

    def reports_for(self, oid):
        """An append for records of `oid` that posts them as JSON reports (a full id table)."""
        t0 = self.t0_ns

        def append(record):
            code, stamp = split_record(record, _time_ns() - t0)
            self.post_record(oid, code & ((1 << OP_BITS) - 1), stamp / 1e6)

        return append

    def attend(self):
        """The hot path's slow branch: wakes an idle thread (or brings it back after a fork);
        waits while too much is unsent, unless the monitor does not read at all."""
        if not self.connected:
            # Not (or no longer) a process of the run: nobody reads these, keep memory bounded.
            if self.path is None or len(self.ops) > MAX_BUFFERED:
                self.ops.clear()
            return
        self.nudge = False
        t = self.thread
        if t is None:
            self.resume()
        else:
            self._wake_up()
        if self.stalled is not None:
            self._drop_unsent()
            return
        if len(self.ops) > MAX_BUFFERED and threading.current_thread() is not self.thread:
            with self.drained:
                while self.connected and self.stalled is None and len(self.ops) > MAX_BUFFERED // 2:
                    self.drained.wait(0.05)

    # ---- sending ----------------------------------------------------------------------------

    def post(self, msg):
        """Queues one message; procscope's thread sends it with others in a few ms."""
        self.pending.append(msg)
        if self.nudge:
            self.attend()

    def post_now(self, msg):
        self.pending.append(msg)
        self.flush()

    def flush_unless_stuck(self):
        """Sends what is unsent now, unless the send lock stays taken: a signal handler may run
        this while its own thread holds it (os._exit from a handler), and it must not wait for
        itself forever."""
        if not self.connected or self.send_owner == threading.get_ident():
            return
        if not self.send_lock.acquire(timeout=1.0):
            return
        self.send_lock.release()
        self.flush()

    def _unsent(self):
        return len(self.ops) > 0 or len(self.pending) > 0

    def flush(self):
        if not self.connected:
            return
        with self.send_lock:
            self.send_owner = threading.get_ident()
            try:
                self._flush_locked()
            finally:
                self.send_owner = None
        with self.drained:
            self.drained.notify_all()

    def _flush_locked(self):
        if self._carry is not None:
            carry, self._carry = self._carry, None
            self._write(carry)
            if self._carry is not None:
                # Still not taken: nothing new goes behind it yet.
                if self.stalled is not None:
                    self._drop_unsent()
                return
        frames = []
        ops = self.ops
        if len(ops):
            raw = ops.take()
            # Every record taken is older than this: it resolves their stamps' wraps.
            ref = _time_ns() - self.t0_ns
            if raw:
                self._ops_frames(raw, ref, frames)
        lost = ops.lost()
        if lost:  # a stamp millennia away from the run's start
            why = '%d lock and queue operations of pid %d were not reported: the clock is too far from the run start'
            self.pending.append({'k': 'warn', 'message': why % (lost, self.pid)})
        batch = []
        pop = self.pending.popleft
        try:
            while True:
                m = pop()
                if not isinstance(m, dict):
                    # Made when sent: a Process object's announcement says what the script
                    # set right after making it (p.daemon = True), as it is by then.
                    try:
                        m = m()
                    except Exception:
                        m = None
                    if m is None:
                        continue
                batch.append(m)
        except IndexError:
            pass
        if batch or frames:
            self._send_all(batch, frames)

    def _drop_unsent(self):
        """The monitor does not read: what piles up is counted and let go (memory stays bounded)."""
        self._dropped_ops += len(self.ops.take()) // 8 + self.ops.lost()
        n = len(self.pending)
        for _ in range(n):
            self.pending.popleft()
        self._dropped_msgs += n

    def _stall(self, since):
        self.stalled = since
        self.nudge = True  # the hot path drops instead of waiting (attend)
        with self.drained:
            self.drained.notify_all()
        _tell('procscope: the monitor has not read from pid %d for %.0f s: it goes on unreported until the monitor reads again\n' % (self.pid, time.monotonic() - since))

    def _unstall(self):
        """The monitor reads again: say first what was dropped meanwhile."""
        seconds = time.monotonic() - self.stalled
        self.stalled = None
        ops, msgs = self._dropped_ops, self._dropped_msgs
        self._dropped_ops = self._dropped_msgs = 0
        self.pending.appendleft({
            'k': 'warn',
            'message': 'the monitor did not read from pid %d for %.1f s: the program went on, and %d lock and queue operations and %d other reports it made meanwhile were dropped' % (self.pid, seconds, ops, msgs),
        })

    def _ops_frames(self, raw, ref, frames):
        """`raw`: records as little-endian int64s."""
        # Read after the chunk was taken: every index in it was registered before its record.
        base = self.ids_sent
        ids = self.ids[base:]
        self.ids_sent = base + len(ids)
        step = CHUNK_RECORDS * 8
        for off in range(0, len(raw), step):
            body = b'{"k":"ops","t":%d,"base":%d,"ids":%s,"b":"%s"}' % (
                ref,
                base,
                _dumps(ids).encode('utf-8', 'surrogatepass'),
                base64.b64encode(raw[off:off + step]),
            )
            frames.append(_header(len(body) + 1, _JSON))
            frames.append(body)
            self.sent += 1
            base = self.ids_sent
            ids = []

    def _write(self, data):
        """Writes `data` (whole frames, or the rest of one). Keeps what the monitor has not taken
        as the carry when procscope's thread is asked to stop, or when the monitor has taken
        nothing for STALL_SECONDS (it then counts as not reading; see _stall)."""
        sock = self.sock
        view = memoryview(data)
        progress = time.monotonic()
        try:
            while view:
                try:
                    n = sock.send(view)
                except (BlockingIOError, InterruptedError):
                    n = 0
                if n:
                    view = view[n:]
                    progress = time.monotonic()
                    if self.stalled is not None:
                        self._unstall()
                    if not view:
                        break
                if self.stalled is not None or (self._stop and threading.current_thread() is self.thread):
                    self._carry = view
                    return
                if time.monotonic() - progress > STALL_SECONDS:
                    self._carry = view
                    self._stall(progress)
                    return
                if len(self.ops) > MAX_BUFFERED:
                    self.nudge = True  # the hot path waits (attend) until we catch up
                _wait(sock, False, 0.01)
        except (OSError, AttributeError, ValueError):
            self.connected = False

    def _send_all(self, batch, frames=None):
        parts = []
        last_out = None
        for m in batch:
            # Consecutive output chunks of one stream travel as one message.
            if m.get('k') == 'out':
                if last_out is not None and last_out['s'] == m['s']:
                    last_out['text'] += m['text']
                    continue
                m = dict(m)
                last_out = m
            else:
                last_out = None
            parts.append(m)
        if frames is None:
            frames = []
        for m in parts:
            body = _dumps(m).encode('utf-8', 'surrogatepass')
            frames.append(_header(len(body) + 1, _JSON))
            frames.append(body)
        self.sent += len(parts)
        self._write(b''.join(frames))


def _tell(text):
    """One line on this process's own stderr (descriptor 2), unless writing it could block: under
    procscope that is a pipe to the monitor, which may be the one that stopped reading."""
    try:
        p = select.poll()
        p.register(2, select.POLLOUT)
        if p.poll(0):
            os.write(2, text.encode('utf-8', 'replace'))
    except (OSError, ValueError):
        pass


def _called_from_python():
    """Whether the function that calls this one was itself called from Python code (rather than
    by the interpreter, with no Python frame left below it)."""
    try:
        sys._getframe(2)
        return True
    except ValueError:
        return False


class _Output(io.TextIOBase):
    """sys.stdout / sys.stderr: text goes to the monitor, tagged with this process's pid."""

    def __init__(self, client, stream, orig):
        self._client = client
        self._s = stream
        self._orig = orig

    @property
    def encoding(self):
        return getattr(self._orig, 'encoding', None) or 'utf-8'

    @property
    def errors(self):
        return getattr(self._orig, 'errors', None) or 'strict'

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._orig.fileno()

    #: False while this stream's descriptor is not the run's output (a pipe the process's parent
    #: reads, see _children.route): the text then goes to the descriptor, as without procscope.
    routed = True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        c = self._client
        if c.connected and self.routed:
            if text:
                c.post({'k': 'out', 's': self._s, 'text': text})
            return len(text)
        # Not (yet) a process of the run, e.g. a helper: the text goes where it always went.
        return self._orig.write(text)

    def flush(self):
        # print(..., flush=True) asks for the text to be out now: so it is, to the monitor. Not
        # while the interpreter shuts down: the reporter (a daemon thread) may have been frozen
        # holding the send lock, and everything was sent at exit already (see install).
        if self._client.connected and self.routed:
            if not sys.is_finalizing():
                self._client.flush_unless_stuck()
        elif self._orig is not None:
            try:
                self._orig.flush()
            except (OSError, ValueError):
                pass


client = _Client()
