# Bench 1, Python side: mirrors bench/scenarios/queue-throughput.ts.
import multiprocessing as mp
import os
import time

ITEMS = int(os.environ.get("BENCH_QUEUE_ITEMS", "200000"))


def consume(items, ready):
    ready.put("ready")
    v = items.get()
    t0 = time.perf_counter()
    n = 0
    total = 0
    while v is not None:
        total += v
        n += 1
        v = items.get()
    seconds = time.perf_counter() - t0
    print(f"CHECK items {n} sum_ok {str(total == ITEMS * (ITEMS - 1) // 2).lower()}", flush=True)
    print(f"RESULT queue_items_per_s {n / seconds:.0f}", flush=True)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    items = ctx.Queue()
    ready = ctx.Queue()
    p = ctx.Process(target=consume, args=(items, ready))
    p.start()
    ready.get()
    for i in range(ITEMS):
        items.put(i)
    items.put(None)
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"consumer exited with {p.exitcode}")
