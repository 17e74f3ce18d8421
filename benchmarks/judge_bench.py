"""Simulated canaries: false rollbacks and detections of our judge against two static gates.

Canary 10 % of 100 rps for a 5-minute canary (3 000 canary and 27 000 baseline invocations), errors
binomial, latency log-normal with per-minute p99. Gates compared:
- judge: safedeploy_core.judge on the whole canary window (what the post-traffic hook runs);
- "Errors > 0" per minute: rolls back if any canary minute has an error;
- "error rate > 5 %" per minute: rolls back if any canary minute is above 5 %.
Prints a table; asserts nothing. Run: make bench.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))

from safedeploy_core.judge import VersionSample, judge

RPS, SHARE, MINUTES, TRIALS = 100, 0.10, 5, 400
P99_MS, SIGMA = 200.0, 0.5  # log-normal: the baseline's p99 is 200 ms


def minute_p99(rng: np.random.Generator, n: int, scale: float) -> float:
    mu = math.log(P99_MS) - 2.326 * SIGMA
    return float(np.percentile(rng.lognormal(mu, SIGMA, n) * scale, 99))


def trial(
    rng: np.random.Generator, base_rate: float, canary_rate: float, latency: float, canary_per_minute: float
) -> dict[str, bool]:
    base_per_minute = RPS * 60 * (1 - SHARE)
    b_err = rng.binomial(int(base_per_minute), base_rate, MINUTES)
    c_err = rng.binomial(int(canary_per_minute), canary_rate, MINUTES)
    b_p99 = tuple(minute_p99(rng, int(base_per_minute), 1.0) for _ in range(MINUTES))
    c_p99 = tuple(minute_p99(rng, int(canary_per_minute), latency) for _ in range(MINUTES))
    baseline = VersionSample(int(base_per_minute) * MINUTES, int(b_err.sum()), b_p99)
    canary = VersionSample(int(canary_per_minute) * MINUTES, int(c_err.sum()), c_p99)
    return {
        "judge": judge(baseline, canary).verdict == "FAIL",
        "errors>0": bool((c_err > 0).any()),
        "rate>5%": bool((c_err / canary_per_minute > 0.05).any()),
    }


def rate(
    rng: np.random.Generator,
    base: float,
    canary: float,
    latency: float = 1.0,
    canary_total: int = int(RPS * SHARE * 60 * MINUTES),
) -> dict[str, float]:
    per_minute = canary_total / MINUTES
    hits = {"judge": 0, "errors>0": 0, "rate>5%": 0}
    for _ in range(TRIALS):
        for gate, fired in trial(rng, base, canary, latency, per_minute).items():
            hits[gate] += fired
    return {gate: 100 * n / TRIALS for gate, n in hits.items()}


def main() -> None:
    rng = np.random.default_rng(2026)
    rows = [
        ("healthy, 0.1 % errors (false rollbacks)", rate(rng, 0.001, 0.001)),
        ("healthy, 1 % errors (false rollbacks)", rate(rng, 0.01, 0.01)),
        ("1 % -> 3 % errors (detection)", rate(rng, 0.01, 0.03)),
        ("1 % -> 3 %, 1 000 canary calls (detection)", rate(rng, 0.01, 0.03, canary_total=1000)),
        ("1 % -> 2 % errors (detection)", rate(rng, 0.01, 0.02)),
        ("p99 +30 %, 0.1 % errors (detection)", rate(rng, 0.001, 0.001, latency=1.3)),
    ]
    print(f"{TRIALS} simulated 5-minute canaries each, canary = 10 % of {RPS} rps")
    print(f"{'scenario':<46}{'judge':>8}{'Errors>0/min':>14}{'rate>5%/min':>13}")
    for name, result in rows:
        print(f"{name:<46}{result['judge']:>7.1f}%{result['errors>0']:>13.1f}%{result['rate>5%']:>12.1f}%")
    print("goal: judge <= 1 % false rollbacks, >= 95 % detection of 1 % -> 3 % with 1 000 canary invocations")
    print("(the step judge between traffic steps: benchmarks/sequential_bench.py)")


if __name__ == "__main__":
    main()
