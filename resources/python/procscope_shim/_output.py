"""Each process's own standard output and error (see core/output-server.ts).

Every process of the run inherits its parent's descriptors 1 and 2. As it starts, a process puts
in their place two connections of its own to the monitor, which knows from the kernel who
connected: what the process writes below Python (os.write(1, ...), a C library's printf) and
what the programs it runs write (they inherit its descriptors) is then logged as its own, not as
its parent's. A descriptor the program gave its child itself (a pipe, to read what the child
prints) is not the run's one and is left alone: only a descriptor that is still the one the
parent left (by inode) is replaced.
"""

import os
import socket
import sys

ENV_OUTPUT = 'PROCSCOPE_OUTPUT'
ENV_OUTPUT_INODES = 'PROCSCOPE_OUTPUT_INODES'
_TAGS = {1: b'1', 2: b'2'}
_TAKEN = b'+'
#: How long the monitor may take to answer (it answers as it accepts; a busy one is slow).
_ANSWER_SECONDS = 10.0


def own_output():
    path = os.environ.get(ENV_OUTPUT)
    inodes = (os.environ.get(ENV_OUTPUT_INODES) or '').split(',')
    if not path or len(inodes) != 2:
        return
    now = list(inodes)
    # Both connections first, then both answers: one round trip to the monitor, not two.
    asked = []
    for i, fd in enumerate((1, 2)):
        try:
            if str(os.fstat(fd).st_ino) != inodes[i]:
                continue  # the program's own: left alone
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            # Each write is stamped with its writer (this process, or a program it runs), on this
            # end already: lines of two writers never mix.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            s.settimeout(_ANSWER_SECONDS)
            s.connect(path)
            s.sendall(_TAGS[fd])
            asked.append((i, fd, s))
        except OSError:
            s.close()  # the monitor is gone: the inherited descriptor stays
    for i, fd, s in asked:
        try:
            # Taken: read before this process's exit is logged. Refused (closed): not ours to use.
            if s.recv(1) != _TAKEN:
                continue
            s.settimeout(None)
            real = sys.__stdout__ if fd == 1 else sys.__stderr__
            try:
                if real is not None:
                    real.flush()  # what Python holds goes where it was meant to go
            except (OSError, ValueError):
                pass
            os.dup2(s.fileno(), fd)
            now[i] = str(os.fstat(fd).st_ino)
        except OSError:
            pass  # no answer: the inherited descriptor stays
        finally:
            s.close()
    os.environ[ENV_OUTPUT_INODES] = ','.join(now)
