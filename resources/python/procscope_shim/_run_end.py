"""When the monitor dies (kill -9, a crash), the run ends: nothing of it is left behind.

There is no parent-death signal a whole tree can rely on, so the connection is the signal: a
process of the run that sees the monitor's end of its connection close, while the monitor itself
is gone, kills every process of the run: the run's process group and every descendant of its
members, found by parent pid in /proc (a child that called setsid(), a `subprocess.Popen`, a
`sleep` the program started), deepest first, then itself. A connection the monitor closed while
it lives (it refused a message; the run is over) ends nothing.

The monitor names itself in PROCSCOPE_MONITOR (`pid:start time`, so a recycled pid is not taken
for it); the main process names the run's group in PROCSCOPE_RUN_GROUP for every process after it.
src-main/runtime/run-end.ts does the same for the TypeScript runtime.
"""

import os
import signal

ENV_MONITOR = 'PROCSCOPE_MONITOR'
ENV_GROUP = 'PROCSCOPE_RUN_GROUP'

#: Passes over the process table: a process forked while the first pass killed is found by the next.
_PASSES = 5


def remember_run(root_pid):
    """Called by the main process: its children (and theirs) know the run's group and monitor."""
    try:
        os.environ[ENV_GROUP] = str(os.getpgid(0))
    except OSError:
        os.environ[ENV_GROUP] = str(root_pid)
    if not os.environ.get(ENV_MONITOR):
        ppid = os.getppid()
        st = _stat(ppid)
        os.environ[ENV_MONITOR] = '%d:%d' % (ppid, st[4] if st else 0)


def _stat(pid):
    """(state, ppid, pgrp, flags, start time) from /proc/<pid>/stat, or None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    try:
        fields = data[data.rindex(b')') + 2 :].split()
        # fields[0] is field 3 (state); ppid 4, pgrp 5, flags 9, starttime 22.
        return (fields[0].decode('ascii'), int(fields[1]), int(fields[2]), int(fields[6]), int(fields[19]))
    except (ValueError, IndexError):
        return None


#: PF_EXITING: the kernel sets it as a process starts to exit, before it closes its files.
_PF_EXITING = 0x4


def monitor_gone():
    """Whether the monitor that ran this run has exited (or is exiting)."""
    try:
        pid_text, _, start_text = os.environ.get(ENV_MONITOR, '').partition(':')
        pid, start = int(pid_text), int(start_text or 0)
    except ValueError:
        return False  # not started by a monitor we know: not ours to decide
    if pid <= 1:
        return False
    if not os.path.isdir('/proc/self'):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    st = _stat(pid)
    if st is None:
        return True
    state, _, _, flags, started = st
    return state in ('Z', 'X', 'x') or bool(flags & _PF_EXITING) or (start != 0 and started != start)


def _table():
    """{pid: (ppid, pgrp)} of every live process."""
    table = {}
    try:
        names = os.listdir('/proc')
    except OSError:
        return _table_from_ps()
    for name in names:
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st is not None and st[0] not in ('Z', 'X', 'x'):
            table[int(name)] = (st[1], st[2])
    return table


def _table_from_ps():
    import subprocess

    table = {}
    try:
        out = subprocess.run(['ps', '-A', '-o', 'pid=,ppid=,pgid=,stat='], stdout=subprocess.PIPE, check=False).stdout.decode()
    except OSError:
        return table
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and not parts[3].startswith('Z'):
            table[int(parts[0])] = (int(parts[1]), int(parts[2]))
    return table


def _targets(group, me):
    """The run's processes other than this one, deepest first: the members of `group` and
    every descendant of theirs (or of this process), whatever their group."""
    table = _table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    roots = [pid for pid, (_, pgrp) in table.items() if pgrp == group]
    roots.append(me)
    depth = {}
    stack = [(pid, 0) for pid in roots]
    while stack:
        pid, d = stack.pop()
        if depth.get(pid, -1) >= d:
            continue
        depth[pid] = d
        stack.extend((c, d + 1) for c in children.get(pid, ()))
    for never in (me, 0, 1):
        depth.pop(never, None)
    return sorted(depth, key=lambda p: -depth[p])


def end_run():
    """Kills every process of the run, deepest first, then this one. Never returns."""
    me = os.getpid()
    try:
        group = int(os.environ.get(ENV_GROUP) or 0)
    except ValueError:
        group = 0
    if group <= 1:
        group = os.getpgid(0)
    try:
        for _ in range(_PASSES):
            targets = _targets(group, me)
            if not targets:
                break
            for pid in targets:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if group > 1:
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
    finally:
        os.kill(me, signal.SIGKILL)
