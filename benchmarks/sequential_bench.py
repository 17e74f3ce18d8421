"""The step judge's sequential test against the statistical floor and the gates it replaces.

Simulated 5-minute canaries: the new version gets R requests/s (1, 10 or 100), the old one 9 R (a
10 % canary); errors are Bernoulli at the old version's 1 % and the new version's rate; durations are
lognormal (sigma 0.5), the new version's times 1.3 for "p99 +30 %" (that puts 3.6 % of its calls over
the old p99 instead of 1 %). Every method reads CloudWatch through the same clock: a period counts
VISIBLE_S after it ended (the rehearsal's model; an assumption for EMF). Compared:
- sequential: safedeploy_core.step_gate's test as shipped — looks every LOOK_S s; errors from 1-s EMF
  counts, latency from 1-s counts of calls over the old version's p99 (EMF Latency; the threshold
  known from the hour before the deployment); alpha 1 % split between the two;
- step judge (1 min): the judge this replaces — once a minute on 1-minute metrics, alpha split over
  the canary's minutes (Bonferroni), Fisher's test on errors and a rank test on per-minute p99s;
- 2-of-2 alarm: error rate > 2 % with >= 20 invocations, or p99 > the old p99 + 20 %, 2 of 2 minutes;
- floor: the fewest new-version calls with which a one-sided exact binomial test at alpha 1 % has
  95 % power against the new rate (of errors, or of calls over the old p99), the old rate known — no
  test can need fewer — at R requests/s, plus VISIBLE_S.
Detection counts from the first bad call to the look that stops. Then end to end: the rehearsal's
5 % error canary (`safedeploy rehearse --fault error --fault-rate 5`) over REHEARSAL_SEEDS seeds, with
the step judge and without it (the gate alarms and the function's in-band breaker). Prints tables;
asserts nothing.
Run: make bench-sequential (about three minutes).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))

from safedeploy_core.judge import Policy, VersionSample, judge
from safedeploy_core.sequential import Evidence, Interval, SequentialPolicy
from safedeploy_core.step_gate import SETTLE_S
from safedeploy_core.timing import STEP_LOOK_S

BASE_RATE, ALPHA, POWER, HORIZON_S, REHEARSAL_SEEDS = 0.01, 0.01, 0.95, 300, 20
TRIALS, HEALTHY_TRIALS, LATENCY_TRIALS = 400, 2000, 400
VISIBLE_S, LOOK_S, SIGMA, SLOWER = SETTLE_S, STEP_LOOK_S, 0.5, 1.3  # the judge as shipped
Z99 = stats.norm.ppf(0.99)
SLOW_RATE = float(stats.norm.sf(Z99 - math.log(SLOWER) / SIGMA))  # new calls over the old p99
SCENARIOS = (
    ("healthy", 0.01, 1.0),
    ("1 % -> 2 %", 0.02, 1.0),
    ("1 % -> 3 %", 0.03, 1.0),
    ("1 % -> 6 %", 0.06, 1.0),
    ("p99 +30 %", 0.01, SLOWER),
)
POLICY = SequentialPolicy(alpha=ALPHA)


def floor_calls(p1: float) -> int:
    """Smallest n at which the exact one-sided binomial test at ALPHA has POWER against p1."""
    n = 10
    while True:
        critical = int(stats.binom.isf(ALPHA, n, BASE_RATE)) + 1  # reject when errors >= critical
        if stats.binom.sf(critical - 1, n, p1) >= POWER:
            return n
        n = int(n * 1.02) + 1


def first_look(ready_s: float | None) -> float | None:
    """The first look that sees data through `ready_s` (data time): periods count VISIBLE_S after."""
    if ready_s is None:
        return None
    return math.ceil((ready_s + VISIBLE_S) / LOOK_S) * LOOK_S


def sequential(
    rps: int, new_bad: np.ndarray, old_bad: np.ndarray, period_s: int, alpha: float
) -> float | None:
    """The data time at which the test (fed `period_s` intervals) first reaches FAIL."""
    evidence = Evidence()
    for start in range(0, HORIZON_S, period_s):
        stop = start + period_s
        evidence.add(
            Interval(
                rps * period_s,
                int(new_bad[start:stop].sum()),
                9 * rps * period_s,
                int(old_bad[start:stop].sum()),
            )
        )
        if evidence.decide(alpha) == "FAIL":
            return float(stop)
    return None


def first_stop(stop_at: list[bool], times: np.ndarray) -> float | None:
    hits = np.flatnonzero(stop_at)
    return float(times[hits[0]]) if hits.size else None


def minute_p99s(rps: int, factor: float, rng: np.random.Generator) -> list[float]:
    return [
        float(np.percentile(factor * rng.lognormal(0.0, SIGMA, 60 * rps), 99)) for _ in range(HORIZON_S // 60)
    ]


def simulate(
    rps: int, p_new: float, slower: float, rng: np.random.Generator, quick: bool
) -> dict[str, float | None]:
    """One canary: when each method would stop it (end-to-end seconds, visibility included)."""
    new_err = rng.binomial(rps, p_new, HORIZON_S)
    old_err = rng.binomial(9 * rps, BASE_RATE, HORIZON_S)
    new_slow = rng.binomial(rps, SLOW_RATE if slower > 1 else BASE_RATE, HORIZON_S)
    old_slow = rng.binomial(9 * rps, BASE_RATE, HORIZON_S)
    by_errors = sequential(rps, new_err, old_err, 1, POLICY.error_alpha)
    by_latency = sequential(rps, new_slow, old_slow, 1, POLICY.latency_alpha)
    stops = [t for t in (by_errors, by_latency) if t is not None]
    out = {"sequential": first_look(min(stops) if stops else None)}
    if quick:
        return out
    minutes = np.arange(60, HORIZON_S + 1, 60)
    new_cum, old_cum = np.cumsum(new_err), np.cumsum(old_err)
    looks = len(minutes)
    step_policy = Policy(confidence=1 - ALPHA / looks)
    new_p99, old_p99 = minute_p99s(rps, slower, rng), minute_p99s(9 * rps, 1.0, rng)
    step = [
        judge(
            VersionSample(int(m * 9 * rps), int(old_cum[m - 1]), tuple(old_p99[: m // 60])),
            VersionSample(int(m * rps), int(new_cum[m - 1]), tuple(new_p99[: m // 60])),
            step_policy,
        ).verdict
        == "FAIL"
        for m in minutes
    ]
    per_minute = new_err.reshape(-1, 60).sum(axis=1)
    old_p99_true = math.exp(Z99 * SIGMA)
    breach = ((per_minute / (60 * rps) > 0.02) & (60 * rps >= 20)) | (np.array(new_p99) > 1.2 * old_p99_true)
    alarm = [bool(breach[k] and breach[k - 1]) if k else False for k in range(looks)]
    # a minute's datapoint is visible VISIBLE_S after it ends; the judge runs once a minute
    out["step judge (1 min)"] = None if (t := first_stop(step, minutes)) is None else t + VISIBLE_S
    out["2-of-2 alarm"] = None if (t := first_stop(alarm, minutes)) is None else t + VISIBLE_S
    return out


def describe(times: list[float | None], healthy: bool) -> str:
    stopped = [t for t in times if t is not None]
    if healthy:
        return f"false stops {100 * len(stopped) / len(times):.2f} %"
    if len(stopped) < len(times) / 2:
        return f"stopped {100 * len(stopped) / len(times):.0f} % by {HORIZON_S + VISIBLE_S} s"
    ordered = sorted(t if t is not None else math.inf for t in times)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
    shown = f">{HORIZON_S + VISIBLE_S}" if p95 == math.inf else f"{p95:.0f}"
    return f"median {np.median(ordered):.0f} s, p95 {shown} s"


def main() -> None:
    rng = np.random.default_rng(7)
    print(
        f"simulated {HORIZON_S}-s canaries ({HEALTHY_TRIALS} healthy, {TRIALS} per error fault, "
        f"{LATENCY_TRIALS} slow); old version 1 % errors at 9x the new one's traffic; "
        f"periods visible {VISIBLE_S} s after they end; sequential looks every {LOOK_S} s"
    )
    for rps in (1, 10, 100):
        print(f"\nnew version at {rps} requests/s")
        for name, p_new, slower in SCENARIOS:
            healthy = name == "healthy"
            trials = LATENCY_TRIALS if slower > 1 else TRIALS
            runs = [simulate(rps, p_new, slower, rng, quick=False) for _ in range(trials)]
            if healthy:  # the guarantee, on more deployments (the sequential test is the one shipped)
                runs += [
                    simulate(rps, p_new, slower, rng, quick=True) for _ in range(HEALTHY_TRIALS - trials)
                ]
            floor = ""
            if not healthy:
                calls = floor_calls(SLOW_RATE if slower > 1 else p_new)
                floor_s = calls / rps + VISIBLE_S
                floor = f"  floor {floor_s:.0f} s ({calls} calls + {VISIBLE_S} s), 1.5x {1.5 * floor_s:.0f} s"
            print(f"  {name:<11}{floor}")
            for method in runs[0]:
                times = [r[method] for r in runs if method in r]
                print(f"    {method:<20} {describe(times, healthy)} ({len(times)} runs)")


def end_to_end() -> None:
    """The same requests at the same times with and without the step judge (the rehearsal's traffic
    does not depend on how its clock is cut), so each seed is a pair."""
    from safedeploy.rehearsal.options import RehearsalOptions
    from safedeploy.rehearsal.run import rehearse

    template = Path(__file__).resolve().parents[1] / "template.yaml"
    print(f"\nend to end: rehearse --fault error --fault-rate 5, 20 requests/s, seeds 1-{REHEARSAL_SEEDS}")
    runs: dict[bool, list[dict[str, Any]]] = {}
    for with_judge in (True, False):
        runs[with_judge] = [
            rehearse(
                RehearsalOptions(
                    template, "HelloWorldFunction", "error", 5.0, None, 1e6, 20.0, seed, with_judge
                )
            )
            for seed in range(1, REHEARSAL_SEEDS + 1)
        ]
        # a seed whose fault a smoke case hit is stopped by the pre-traffic hook before any user
        reports = [r for r in runs[with_judge] if r["first_bad_request_s"] is not None]
        times = sorted(r["detection_s"] if r["detection_s"] is not None else math.inf for r in reports)
        bad = np.median([r["requests"]["faulty"] for r in reports])
        name = "with the step judge" if with_judge else "without the judge (gates, breaker)"
        p90 = times[math.ceil(0.9 * len(times)) - 1]
        print(
            f"  {name:<20} detection median {np.median(times):.0f} s, p90 {p90:.0f} s, "
            f"mean {np.mean(times):.1f} s; bad answers median {bad:.1f} "
            f"({REHEARSAL_SEEDS - len(reports)} seeds stopped by the pre-traffic hook before any user)"
        )
    pairs = [
        (seed, alone["detection_s"], judged["detection_s"])
        for seed, judged, alone in zip(range(1, REHEARSAL_SEEDS + 1), runs[True], runs[False], strict=True)
        if judged["caught_by"] == "step judge"
    ]
    saved = [a - j for _, a, j in pairs if a is not None and j is not None]
    print(
        f"  the step judge stopped it first in {len(pairs)} of {REHEARSAL_SEEDS} seeds, "
        f"{np.mean(saved) if saved else 0:.1f} s sooner on average there; "
        + ", ".join(f"seed {seed}: {a:.0f} -> {j:.0f} s" for seed, a, j in pairs)
    )


if __name__ == "__main__":
    main()
    end_to_end()
