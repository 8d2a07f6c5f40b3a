"""The connection to procscope's broker: framing, batching, output capture, process identity.

Wire: [u32 LE length of what follows][u8 codec = 1 (JSON)][UTF-8 JSON body] (src-main/protocol.ts).

Lock and queue operations are the hot path: a program may do millions a second, so each is ONE
int appended to `client.ops`: time_ns() - k, where k = T0 ns - (code << 47) was worked out when
the object came to this process (code = object index << 3 | op). That is one subtraction:

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
import warnings
from array import array

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

#: Objects one process can name in records: codes stay below 2**15, so that a record (code and
#: carry included) fits an int64.
MAX_OBJECTS = 1 << 12
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


#: The warning CPython >= 3.12 gives when a multi-threaded process forks (see _before_fork).
_FORK_WARNING = r'This process \(pid=\d+\) is multi-threaded, use of \w+\(\) may lead to deadlocks'


def _os_thread_count():
    """Linux: field 20 of /proc/self/stat, the count CPython's warning reads first."""
    try:
        with open('/proc/self/stat', 'rb') as f:
            data = f.read()
        return int(data[data.rindex(b')') + 2 :].split()[17])
    except (OSError, ValueError, IndexError):
        return None


class _Client(object):
    def __init__(self):
        self.path = os.environ.get(ENV_SOCKET)
        try:
            self.t0 = float(os.environ.get(ENV_T0) or 0.0)
        except ValueError:
            self.t0 = 0.0
        # Whole microseconds: t0 * 1e6 in floating point would be off by up to ~100 ns.
        self.t0_ns = int(round(self.t0 * 1000.0)) * 1000
        #: The compact records not sent yet, as ints: a list append costs a fraction of an
        #: array's, and the sender packs them. Never replaced, only emptied in place: the hot
        #: paths hold its bound `append`.
        self.ops = []
        #: Object ids by index. A forked child inherits them, as its objects keep their codes.
        self.ids = []
        self._index = {}
        self._reset()

    def _reset(self):
        self.sock = None
        self.connected = False
        self.pending = collections.deque()
        del self.ops[:]
        self.send_lock = threading.Lock()
        #: The thread that holds send_lock (a signal handler on it must not wait for itself).
        self.send_owner = None
        self.ids_lock = threading.Lock()
        self.drained = threading.Condition(threading.Lock())
        self.event = threading.Event()
        self.thread = None
        self.pid = os.getpid()
        #: Ids this connection has: a new connection (a forked child's) gets them all again.
        self.ids_sent = 0
        #: Messages written on this connection (the monitor counts what it reads the same way):
        #: a child started now is listed once the monitor has read this many (see sent_mark).
        self.sent = 0
        #: Read by the hot path after each record: True asks it to call attend() (the sender is
        #: idle, or is not running yet, or too much is unsent). One attribute read when False.
        self.nudge = True

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
            if sys.version_info >= (3, 12):
                os.register_at_fork(before=self._before_fork, after_in_child=self._after_fork_child)
            else:
                os.register_at_fork(after_in_child=self._after_fork_child)
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
            self._prev_hook = sys.excepthook
            sys.excepthook = self._excepthook
            self.connect(os.getpid(), os.getppid(), 'MainProcess', False)

    def _before_fork(self):
        """CPython 3.12+ warns when a process with other threads forks. procscope's own threads
        (the reporter, the controls reader, a control being carried out) must not cause that
        warning: they hold nothing a child needs (the child starts clean, see _after_fork_child). 3.12 warns before the after-fork hooks, 3.13+ after them,
        so the filter stays in place until a fork with threads of the script's own takes it away
        and Python warns as it would without procscope."""
        try:
            t = self.thread
            ours = sum(1 for th in threading.enumerate() if th.name.startswith('procscope-'))
            ours_only = (
                t is not None
                and t.is_alive()
                and threading.active_count() == ours + 1
                and (_os_thread_count() or ours + 1) <= ours + 1
            )
            entry = None
            for f in warnings.filters:
                if f[0] == 'ignore' and f[2] is DeprecationWarning and getattr(f[1], 'pattern', None) == _FORK_WARNING:
                    entry = f
                    break
            if ours_only and entry is None:
                warnings.filterwarnings('ignore', message=_FORK_WARNING, category=DeprecationWarning)
            elif not ours_only and entry is not None:
                warnings.filters.remove(entry)
                mutated = getattr(warnings, '_filters_mutated', None)  # gone in 3.14; 'ignore' is never cached
                if mutated is not None:
                    mutated()
        except Exception:
            pass

    def _after_fork_child(self):
        # The parent's connection and unsent reports are the parent's: start clean. A child of
        # multiprocessing introduces itself in Process._bootstrap (see _patch.py).
        old = self.sock
        self._reset()
        if old is not None:
            try:
                old.close()  # our copy of the descriptor only; the parent's stays open
            except OSError:
                pass

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
        # Sends wait in select(), so that a sender stuck on a slow monitor still sees the
        # buffer grow past its bound (see _write).
        s.setblocking(False)
        self.sock = s
        self.pid = pid
        hello = {'k': 'hello', 'pid': pid, 'ppid': ppid, 'name': str(name)[:256], 'daemon': bool(daemon)}
        if handle is not None:
            hello['handle'] = handle  # the Process object in the parent that this process is
        if after is not None:
            hello['after'] = after
        with self.send_lock:
            self._send_all([hello])
        self.connected = True
        self.thread = threading.Thread(target=self._loop, name='procscope-reporter', daemon=True)
        self.thread.start()
        self.event.set()  # reports made before the hello go out now
        self._start_reader()

    # ---- controls from the window -----------------------------------------------------------

    #: Called with each `ctl` message, in the reader thread; set by _patch.
    on_control = None

    def _answer_stacks(self, rid):
        try:
            from ._stacks import capture

            threads = capture()
        except Exception:
            threads = []
        self.post_now({'k': 'stkres', 'rid': rid, 'threads': threads})

    def _start_reader(self):
        threading.Thread(target=self._read_loop, args=(self.sock,), name='procscope-controls', daemon=True).start()

    def _read_loop(self, sock):
        buf = bytearray()
        while self.sock is sock:
            try:
                # A timeout, so that a close() by another thread is noticed even if the socket
                # never becomes readable.
                if not _wait(sock, True, 1.0):
                    continue
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError):  # closed under us: fileno() is -1 now
                return
            if not data:
                return
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

    def close(self):
        """Sends what is left and disconnects (a child, just before it exits)."""
        self.flush()
        self.connected = False
        s, self.sock = self.sock, None
        if s is not None:
            try:
                s.close()
            except OSError:
                pass

    def _excepthook(self, tp, value, tb):
        try:
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
                self.post({'k': k, 'l': oid, 'op': name, 'at': at})
            else:
                self.post({'k': k, 'q': oid, 'op': name, 'at': at})

    def reports_for(self, oid):
        """An append for records of `oid` that posts them as JSON reports (a full id table)."""
        t0 = self.t0_ns

        def append(record):
            code, stamp = split_record(record, _time_ns() - t0)
            self.post_record(oid, code & 7, stamp / 1e6)

        return append

    def attend(self):
        """The hot path's slow branch: wakes an idle sender; waits while too much is unsent."""
        if not self.connected:
            # Not (or no longer) a process of the run: nobody reads these, keep memory bounded.
            if self.path is None or len(self.ops) > MAX_BUFFERED:
                del self.ops[:]
            return
        self.nudge = False
        self.event.set()
        if len(self.ops) > MAX_BUFFERED and threading.current_thread() is not self.thread:
            with self.drained:
                while self.connected and len(self.ops) > MAX_BUFFERED // 2:
                    self.drained.wait(0.05)

    # ---- sending ----------------------------------------------------------------------------

    def post(self, msg):
        """Queues one message; the sender thread sends it with others in a few ms."""
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

    def _loop(self):
        ev = self.event
        while self.connected:
            if not self._unsent():
                ev.clear()
                self.nudge = True
                # A record appended before nudge was set did not wake us: look again.
                if not self._unsent():
                    ev.wait()
                self.nudge = False
            if len(self.ops) < MAX_BUFFERED:
                time.sleep(FLUSH_DELAY)  # gather a batch
            self.flush()
            if len(self.ops) > MAX_BUFFERED:
                self.nudge = True  # produced faster than sent: the hot path waits (attend)

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
        frames = []
        ops = self.ops
        n = len(ops)
        if n:
            # Appends only ever happen at the end: the first n records are ours to take.
            chunk = ops[:n]
            del ops[:n]
            # Every record in the chunk is older than this: it resolves their stamps' wraps.
            ref = _time_ns() - self.t0_ns
            try:
                self._ops_frames(array('q', chunk), ref, frames)
            except OverflowError:  # a stamp millennia away from the run's start
                why = '%d lock and queue operations of pid %d were not reported: the clock is too far from the run start'
                self.pending.append({'k': 'warn', 'message': why % (n, self.pid)})
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

    def _ops_frames(self, chunk, ref, frames):
        if sys.byteorder != 'little':
            chunk.byteswap()
        raw = chunk.tobytes()
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
        sock = self.sock
        view = memoryview(data)
        try:
            while view:
                try:
                    n = sock.send(view)
                except (BlockingIOError, InterruptedError):
                    n = 0
                view = view[n:]
                if view:
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

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        c = self._client
        if c.connected:
            if text:
                c.post({'k': 'out', 's': self._s, 'text': text})
            return len(text)
        # Not (yet) a process of the run, e.g. a helper: the text goes where it always went.
        return self._orig.write(text)

    def flush(self):
        # print(..., flush=True) asks for the text to be out now: so it is, to the monitor. Not
        # while the interpreter shuts down: the reporter (a daemon thread) may have been frozen
        # holding the send lock, and everything was sent at exit already (see install).
        if self._client.connected:
            if not sys.is_finalizing():
                self._client.flush_unless_stuck()
        elif self._orig is not None:
            try:
                self._orig.flush()
            except (OSError, ValueError):
                pass


client = _Client()
