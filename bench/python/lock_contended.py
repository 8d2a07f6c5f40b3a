# Bench 2, Python side: mirrors bench/scenarios/lock-contended.ts.
#   python3 lock_contended.py manager   -> Manager().Lock() (a proxy to a lock in the manager process)
#   python3 lock_contended.py plain     -> mp.Lock() (a POSIX semaphore in shared memory)
#   python3 lock_contended.py semaphore -> mp.Semaphore(2) (two holders at once, the others wait)
# BENCH_LOCK_KIND=manager|plain|semaphore does the same where arguments cannot be passed (a run under
# `procscope run`); an argument wins.
# BENCH_LOCK_WORKERS=1 measures the uncontended round trip.
# BENCH_LOCK_WRAP=passthrough calls acquire/release through Python functions that only call them
# (bench row 9d, with plain python3): what any instrumentation written in Python costs at least.
import multiprocessing as mp
import os
import sys
import time

WORKERS = int(os.environ.get("BENCH_LOCK_WORKERS", "4"))
PAIRS = int(os.environ.get("BENCH_LOCK_PAIRS", "5000"))


def passthrough(lock):
    raw_acquire, raw_release = lock.acquire, lock.release

    def acquire(block=True, timeout=None):
        return raw_acquire(block, timeout)

    def release():
        return raw_release()

    lock.acquire, lock.release = acquire, release


def hammer(lock, ready, go, done, n):
    if os.environ.get("BENCH_LOCK_WRAP") == "passthrough":
        passthrough(lock)
    ready.put(1)
    go.get()
    for _ in range(n):
        lock.acquire()
        lock.release()
    done.put(1)


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_LOCK_KIND", "manager")
    if kind not in ("manager", "plain", "semaphore"):
        raise SystemExit(f"unknown lock kind {kind!r}: manager, plain or semaphore")
    ctx = mp.get_context("spawn")
    manager = ctx.Manager() if kind == "manager" else None
    lock = manager.Lock() if manager else ctx.Semaphore(2) if kind == "semaphore" else ctx.Lock()
    ready, go, done = ctx.Queue(), ctx.Queue(), ctx.Queue()
    ps = [ctx.Process(target=hammer, args=(lock, ready, go, done, PAIRS)) for _ in range(WORKERS)]
    for p in ps:
        p.start()
    for _ in range(WORKERS):
        ready.get()
    t0 = time.perf_counter()
    for _ in range(WORKERS):
        go.put(1)
    for _ in range(WORKERS):
        done.get()
    seconds = time.perf_counter() - t0
    for p in ps:
        p.join()
    if manager:
        manager.shutdown()
    if any(p.exitcode != 0 for p in ps):
        raise SystemExit("a lock worker failed")
    print(f"RESULT lock_ops_per_s {WORKERS * PAIRS / seconds:.0f}", flush=True)
