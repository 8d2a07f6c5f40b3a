"""The connection to procscope's broker: framing, batching, output capture, process identity.

Wire: [u32 LE length of what follows][u8 codec = 1 (JSON)][UTF-8 JSON body] (src-main/protocol.ts).
"""

import atexit
import collections
import io
import json
import os
import socket
import struct
import sys
import threading
import time

ENV_SOCKET = 'PROCSCOPE_SOCKET'
ENV_ROLE = 'PROCSCOPE_ROLE'
ENV_T0 = 'PROCSCOPE_T0'

#: How long the sender thread waits to gather a batch, seconds.
FLUSH_DELAY = 0.004

_JSON = 1
_dumps = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False).encode
_header = struct.Struct('<IB').pack
_time_ns = time.time_ns


class _Client(object):
    def __init__(self):
        self.path = os.environ.get(ENV_SOCKET)
        try:
            self.t0 = float(os.environ.get(ENV_T0) or 0.0)
        except ValueError:
            self.t0 = 0.0
        self._reset()

    def _reset(self):
        self.sock = None
        self.connected = False
        self.pending = collections.deque()
        self.send_lock = threading.Lock()
        self.event = threading.Event()
        self.thread = None
        self.pid = os.getpid()

    # ---- clock ------------------------------------------------------------------------------

    def now(self):
        """Run time, ms, by this process's clock (the run's t = 0 is ENV_T0, epoch ms)."""
        return _time_ns() / 1e6 - self.t0

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
            os.register_at_fork(after_in_child=self._after_fork_child)
        atexit.register(self.flush)
        if main:
            self._prev_hook = sys.excepthook
            sys.excepthook = self._excepthook
            self.connect(os.getpid(), os.getppid(), 'MainProcess', False)

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

    def connect(self, pid, ppid, name, daemon):
        if self.connected or not self.path:
            return
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.path)
        except OSError as e:
            sys.__stderr__.write('procscope: cannot reach the monitor (%s): not instrumented\n' % (e,))
            self.path = None
            return
        self.sock = s
        self.pid = pid
        with self.send_lock:
            self._send_all([{'k': 'hello', 'pid': pid, 'ppid': ppid, 'name': str(name)[:256], 'daemon': bool(daemon)}])
        self.connected = True
        self.thread = threading.Thread(target=self._loop, name='procscope-reporter', daemon=True)
        self.thread.start()
        self.event.set()  # reports made before the hello go out now

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

    # ---- sending ----------------------------------------------------------------------------

    def post(self, msg):
        """Queues one message; the sender thread sends it with others in a few ms."""
        self.pending.append(msg)
        if self.connected and not self.event.is_set():
            self.event.set()

    def post_now(self, msg):
        self.pending.append(msg)
        self.flush()

    def _loop(self):
        ev = self.event
        while self.connected:
            ev.wait()
            time.sleep(FLUSH_DELAY)
            ev.clear()
            self.flush()

    def flush(self):
        if not self.connected:
            return
        with self.send_lock:
            batch = []
            pop = self.pending.popleft
            try:
                while True:
                    batch.append(pop())
            except IndexError:
                pass
            if batch:
                self._send_all(batch)

    def _send_all(self, batch):
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
        frames = []
        for m in parts:
            body = _dumps(m).encode('utf-8', 'surrogatepass')
            frames.append(_header(len(body) + 1, _JSON))
            frames.append(body)
        try:
            self.sock.sendall(b''.join(frames))
        except (OSError, AttributeError):
            self.connected = False


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
        if not self._client.connected and self._orig is not None:
            try:
                self._orig.flush()
            except (OSError, ValueError):
                pass


client = _Client()
