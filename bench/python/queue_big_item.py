# Bench 1c, Python side: mirrors bench/scenarios/queue-big-item.ts (one 32 MiB item, main -> child,
# timed from the start of the put, by the wall clock, to the end of the get).
import multiprocessing as mp
import os
import time

MIB = int(os.environ.get("BENCH_BIG_ITEM_MIB", "32"))


def expected_sum(n):
    return sum((i >> 12) & 0xFF for i in range(0, n, 4096))


def receive(items, ready):
    ready.put("ready")
    at, data = items.get()
    seconds = time.time() - at
    intact = len(data) == MIB * 1024 * 1024 and sum(data[i] for i in range(0, len(data), 4096)) == expected_sum(len(data))
    print(f"CHECK bytes {len(data)} intact {str(intact).lower()}", flush=True)
    print(f"RESULT big_item_s {seconds:.3f}", flush=True)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    items = ctx.Queue()
    ready = ctx.Queue()
    data = bytearray(MIB * 1024 * 1024)
    for i in range(0, len(data), 4096):
        data[i] = (i >> 12) & 0xFF
    data = bytes(data)
    p = ctx.Process(target=receive, args=(items, ready))
    p.start()
    ready.get()
    items.put((time.time(), data))
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"receiver exited with {p.exitcode}")
