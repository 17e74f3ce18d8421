"""The in-band breaker (hello_world/breaker.py): its cost per call, how long the call that trips it
waits when CodeDeploy never answers, and by simulation how soon it stops a bad canary and how often a
healthy one. Prints figures; asserts nothing. Run: make bench-breaker.

The simulation runs the breaker's own SequentialTest with the sample's settings (baseline 1 %, alpha
0.5 % over 100 environments) on the first step of a Canary10Percent5Minutes deployment (300 s): the
new version gets `rps` requests/s, spread round-robin over ceil(rps x 0.1 s) execution environments
(the rehearsal's assumption: Little's law at 100 ms a call), each with its own test. Times are from the
first bad call; a healthy version errs at exactly the baseline, the worst case for its guarantee.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hello_world"))

import breaker  # noqa: E402

BASELINE, ALPHA, ENVIRONMENTS, STEP_S, CALL_S = 0.01, 0.005, 100, 300, 0.1


class Context:
    function_name = "fn"
    function_version = "2"
    log_stream_name = "[2]environment-0"


def overhead_us(calls: int = 200_000) -> tuple[float, float]:
    """(µs per call with the decorator, without), on a handler that returns at once."""

    def handler(event: object, context: object) -> dict[str, int]:
        return {"statusCode": 200}

    wrapped = breaker.in_band_breaker(handler)
    breaker.reset()
    breaker.current().config = breaker.BreakerConfig("app", BASELINE, ALPHA / ENVIRONMENTS)
    context = Context()
    timings = []
    for fn in (wrapped, handler):
        started = time.perf_counter()
        for _ in range(calls):
            fn({}, context)
        timings.append((time.perf_counter() - started) / calls * 1e6)
    breaker.reset()
    return timings[0], timings[1]


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """A loopback endpoint that accepts connections and never answers (a hung API, a black hole)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def tripping_call_s(runs: int = 5) -> list[float]:
    """Wall time of the call that trips the breaker, with the real client against a CodeDeploy that
    never answers: the client is built on the stop's worker, inside the budget."""
    failing = breaker.in_band_breaker(lambda event, context: {"statusCode": 500})
    times = []
    logging.getLogger("breaker").setLevel(logging.CRITICAL)  # each try logs its timeout
    with silent_endpoint() as url:
        os.environ.update(
            AWS_ENDPOINT_URL_CODEDEPLOY=url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        for _ in range(runs):
            breaker.reset()
            breaker.current().config = breaker.BreakerConfig("app", BASELINE, 0.05)
            context = Context()
            while "2" not in breaker.current().stops:
                started = time.perf_counter()
                failing({}, context)
                elapsed = time.perf_counter() - started
            times.append(elapsed)
    breaker.reset()
    return times


def first_fail_s(rate: float, rps: float, rng: random.Random) -> float | None:
    environments = max(1, math.ceil(rps * CALL_S))
    tests = [breaker.SequentialTest(BASELINE, ALPHA / ENVIRONMENTS) for _ in range(environments)]
    for k in range(int(rps * STEP_S)):
        if tests[k % environments].add(rng.random() < rate):
            return (k + 1) / rps
    return None


def main() -> None:
    with_us, without_us = overhead_us()
    print(
        f"in-band breaker, cost per call: {with_us - without_us:.2f} µs ({with_us:.2f} µs with it, "
        f"{without_us:.2f} µs without, a handler that returns at once; 200 000 calls)"
    )
    waits = tripping_call_s()
    print(
        f"the tripping call against a CodeDeploy that never answers: worst {max(waits):.2f} s, median "
        f"{statistics.median(waits):.2f} s of {len(waits)} (budget {breaker.STOP_BUDGET_S:g} s)"
    )
    rng = random.Random(1)
    print("| canary requests/s | environments | scenario | stopped | detection median | p95 |")
    print("|---|---|---|---|---|---|")
    for rps, runs in ((10, 2000), (100, 400)):
        environments = max(1, math.ceil(rps * CALL_S))
        for label, rate in (("healthy 1 %", 0.01), ("1 % -> 3 %", 0.03), ("1 % -> 6 %", 0.06)):
            n = runs if rate == 0.01 else 400
            found = [first_fail_s(rate, rps, rng) for _ in range(n)]
            stopped = sorted(t for t in found if t is not None)
            share = f"{len(stopped)}/{n} ({100 * len(stopped) / n:.2f} %)"
            if len(stopped) >= n // 2:
                median = f"{statistics.median(stopped):.0f} s"
                p95 = f"{stopped[int(0.95 * (len(stopped) - 1))]:.0f} s" if len(stopped) == n else "—"
            else:
                median = p95 = "—"
            print(f"| {rps} | {environments} | {label} | {share} | {median} | {p95} |")


if __name__ == "__main__":
    main()
