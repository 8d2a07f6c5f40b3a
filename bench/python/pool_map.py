# Bench 3, Python side: mirrors bench/scenarios/pool-map.ts.
import multiprocessing as mp
import os
import time

ITEMS = int(os.environ.get("BENCH_POOL_ITEMS", "100000"))


def double(x):
    return x * 2


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    xs = range(ITEMS)
    t0 = time.perf_counter()
    with ctx.Pool(5) as p:
        t = time.perf_counter()
        out = p.map(double, xs)
        map_seconds = time.perf_counter() - t
    # __exit__ is terminate(), which also joins the workers.
    total_seconds = time.perf_counter() - t0
    print(f"CHECK results {len(out)} last_ok {str(out[-1] == 2 * (ITEMS - 1)).lower()}", flush=True)
    print(f"RESULT pool_map_s {map_seconds:.4f}", flush=True)
    print(f"RESULT pool_total_s {total_seconds:.4f}", flush=True)
