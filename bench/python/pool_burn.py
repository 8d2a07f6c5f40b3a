# Bench 11, Python side: a CPU-bound Pool(4).map, timed around the map call. Run under procscope,
# unprofiled and profiled (--profile, 100 Hz): how much of its speed the program keeps.
# BENCH_BURN_ITEMS tasks of BENCH_BURN_WORK loop iterations each.
import multiprocessing as mp
import os
import time

ITEMS = int(os.environ.get("BENCH_BURN_ITEMS", "96"))
WORK = int(os.environ.get("BENCH_BURN_WORK", "300000"))


def burn(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


if __name__ == "__main__":
    with mp.Pool(4) as pool:
        pool.map(burn, [1000] * 8, chunksize=1)  # every worker up and running
        t0 = time.perf_counter()
        total = sum(pool.map(burn, [WORK] * ITEMS, chunksize=1))
        seconds = time.perf_counter() - t0
    print(f"CHECK result {total == burn(WORK) * ITEMS}")
    print(f"RESULT burn_s {seconds:.4f}", flush=True)
