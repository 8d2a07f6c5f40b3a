# Bench 9c, Python side: two processes pass the turn back and forth through two Events
# (ping.set() -> the other's ping.wait() returns, it clears ping and sets pong, and so on).
# BENCH_EVENT_ROUNDS round trips; every set, wait and clear is an Event operation.
import multiprocessing as mp
import os
import time

ROUNDS = int(os.environ.get("BENCH_EVENT_ROUNDS", "5000"))


def echo(ping, pong, n):
    for _ in range(n):
        ping.wait()
        ping.clear()
        pong.set()


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    ping, pong = ctx.Event(), ctx.Event()
    p = ctx.Process(target=echo, args=(ping, pong, ROUNDS))
    p.start()
    # One round first, untimed: the child has booted once it answers.
    ping.set()
    pong.wait()
    pong.clear()
    t0 = time.perf_counter()
    for _ in range(ROUNDS - 1):
        ping.set()
        pong.wait()
        pong.clear()
    seconds = time.perf_counter() - t0
    p.join()
    if p.exitcode != 0:
        raise SystemExit("the echo process failed")
    print(f"RESULT event_round_trips_per_s {(ROUNDS - 1) / seconds:.0f}", flush=True)
