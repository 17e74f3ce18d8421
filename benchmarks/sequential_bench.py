"""The sequential judge (safedeploy_core.sequential) against the statistical floor and today's gates.

Simulated canaries: the new version gets R requests/s (10 or 100), the old one 9 R (a 10 % canary);
errors are Bernoulli at the old version's 1 % and the new version's rate. Compared, each looking at
the counts since the shift began:
- sequential: the mSPRT, looking every 10 s (the design for AWS: a judge that loops every 10 s on
  1-s EMF counts) and, for reference, every second;
- step judge: today's once-a-minute judge, alpha split over the canary's minutes (Bonferroni);
- 2-of-2 alarm: the template's ErrorRateGate, error rate > 2 % with >= 20 invocations, 2 of 2 minutes;
- floor: the fewest new-version calls with which a one-sided exact binomial test at alpha 1 % has
  95 % power against the new rate, the old rate known (no test can need fewer), at R requests/s.
Detection is counted from the first bad call to the look that stops it; the metrics' own visibility
delay (60 s in the rehearsal's model, an assumption for EMF) comes on top of every row alike.
Prints a table; asserts nothing. Run: make bench-sequential (about 10 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))

from safedeploy_core.judge import Policy, VersionSample, judge
from safedeploy_core.sequential import Evidence, Interval, SequentialPolicy
from safedeploy_core.step_gate import sequential_policy

BASE_RATE, ALPHA, POWER, HORIZON_S, TRIALS, HEALTHY_TRIALS = 0.01, 0.01, 0.95, 300, 400, 4000
SCENARIOS = (("healthy", 0.01), ("1 % -> 2 %", 0.02), ("1 % -> 3 %", 0.03), ("1 % -> 6 %", 0.06))


def floor_calls(p1: float) -> int:
    """Smallest n at which the exact one-sided binomial test at ALPHA has POWER against p1."""
    n = 10
    while True:
        critical = int(stats.binom.isf(ALPHA, n, BASE_RATE)) + 1  # reject when errors >= critical
        if stats.binom.sf(critical - 1, n, p1) >= POWER:
            return n
        n = int(n * 1.02) + 1


def first_stop(stop_at: list[bool], times: np.ndarray) -> float | None:
    """The time of the first look that stops, if any."""
    hits = np.flatnonzero(stop_at)
    return float(times[hits[0]]) if hits.size else None


def sequential(rps: int, new_err: np.ndarray, old_err: np.ndarray, look_s: int) -> float | None:
    """The mSPRT fed one interval per look (per-second error counts summed over `look_s`)."""
    evidence, policy = Evidence(), SequentialPolicy(alpha=ALPHA)
    for start in range(0, HORIZON_S, look_s):
        evidence.add(
            Interval(
                rps * look_s,
                int(new_err[start : start + look_s].sum()),
                9 * rps * look_s,
                int(old_err[start : start + look_s].sum()),
            )
        )
        if evidence.decide(policy) == "FAIL":
            return float(start + look_s)
    return None


def simulate(rps: int, p_new: float, rng: np.random.Generator, quick: bool) -> dict[str, float | None]:
    """One canary: per-second errors of each version; when each judge would stop it."""
    new_err = rng.binomial(rps, p_new, HORIZON_S)
    old_err = rng.binomial(9 * rps, BASE_RATE, HORIZON_S)
    out = {"sequential (10 s)": sequential(rps, new_err, old_err, 10)}
    if quick:
        return out
    out["sequential (1 s)"] = sequential(rps, new_err, old_err, 1)
    minutes = np.arange(60, HORIZON_S + 1, 60)
    new_cum, old_cum = np.cumsum(new_err), np.cumsum(old_err)
    step_policy = sequential_policy(Policy(), "Canary10Percent5Minutes")
    step = [
        judge(
            VersionSample(int(m * 9 * rps), int(old_cum[m - 1])),
            VersionSample(int(m * rps), int(new_cum[m - 1])),
            step_policy,
        ).verdict
        == "FAIL"
        for m in minutes
    ]
    per_minute = new_err.reshape(-1, 60).sum(axis=1)
    breach = (per_minute / (60 * rps) > 0.02) & (60 * rps >= 20)
    alarm = [bool(breach[k] and breach[k - 1]) if k else False for k in range(len(minutes))]
    out["step judge (1 min)"] = first_stop(step, minutes)
    out["2-of-2 alarm"] = first_stop(alarm, minutes)
    return out


def describe(times: list[float | None], healthy: bool) -> str:
    stopped = [t for t in times if t is not None]
    if healthy:
        return f"false stops {100 * len(stopped) / len(times):.1f} %"
    if len(stopped) < len(times) / 2:
        return f"stopped {100 * len(stopped) / len(times):.0f} %"
    ordered = sorted(t if t is not None else float("inf") for t in times)
    p95 = ordered[int(0.95 * len(ordered)) - 1]
    shown = f">{HORIZON_S}" if p95 == float("inf") else f"{p95:.0f}"
    return f"median {np.median(ordered):.0f} s, p95 {shown} s"


def main() -> None:
    rng = np.random.default_rng(7)
    print(
        f"simulated {HORIZON_S}-s canaries ({HEALTHY_TRIALS} healthy, {TRIALS} per fault); "
        "the old version at 1 % errors and 9x the new one's traffic"
    )
    for rps in (10, 100):
        print(f"\nnew version at {rps} requests/s")
        for name, p_new in SCENARIOS:
            healthy = name == "healthy"
            runs = [simulate(rps, p_new, rng, quick=False) for _ in range(TRIALS)]
            if healthy:  # the guarantee, on more deployments (the 10-s judge is the one to ship)
                runs += [simulate(rps, p_new, rng, quick=True) for _ in range(HEALTHY_TRIALS - TRIALS)]
            floor = (
                "" if healthy else f"  floor {floor_calls(p_new) / rps:.0f} s ({floor_calls(p_new)} calls)"
            )
            print(f"  {name:<11}{floor}")
            for judge_name in runs[0]:
                times = [r[judge_name] for r in runs if judge_name in r]
                print(f"    {judge_name:<20} {describe(times, healthy)} ({len(times)} runs)")


if __name__ == "__main__":
    main()
