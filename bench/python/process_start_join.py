# Bench 4, Python side: mirrors bench/scenarios/process-start-join.ts.
import multiprocessing as mp
import os
import time

ROUNDS = int(os.environ.get("BENCH_START_ROUNDS", "10"))


def nothing():
    pass


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    ms = []
    for i in range(ROUNDS + 1):
        t = time.perf_counter()
        p = ctx.Process(target=nothing)
        p.start()
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"child exited with {p.exitcode}")
        if i > 0:
            ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    print("INFO start_join_ms_all " + ",".join(f"{m:.1f}" for m in ms), flush=True)
    print(f"RESULT start_join_ms {ms[len(ms) // 2]:.2f}", flush=True)
