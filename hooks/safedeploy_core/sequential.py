"""A sequential test of "the new version errs more than the old" that stays valid however often it looks.

Conditional mixture sequential probability ratio test. Within one look interval both versions serve
at fixed shares, so when the error rates are equal each error falls on the new version with
probability s = new calls / all calls; if the new version's rate is r times the old one's, with
p(r) = r s / (r s + 1 - s). The likelihood ratio of "ratio r" against "ratio 1" multiplies over the
intervals; mixed over a grid of ratios with equal weights it is a test martingale under "no
difference", so by Ville's inequality a healthy version reaches 1/alpha — and is stopped — with
probability at most alpha however many times the test looks (Johari, Pekelis and Walsh, "Always
valid inference", 2017, for the mixture idea). Because it conditions on where the errors fell, the
old version's own error rate need not be known, and traffic that varies over time, or a share that
grows (Linear), changes nothing: each interval is weighed with its own share.

Assumed, checked by simulation (benchmarks/sequential_bench.py): errors are rare enough that, given
an interval's error count, where they fell is binomial (exactly it is hypergeometric).

Latency is the same test on another kind of bad call: a call slower than a threshold fixed before the
calls it counts (the old version's p99 before the deployment). If both versions are equally fast, a
slow call falls on the new version with the probability of its share, as an error does; "p99 +30 %"
makes about 3-4 % of the new version's calls slower than the old p99 instead of 1 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# Error-rate ratios (new / old) the mixture spreads its weight over: 1 % -> 2 % is a ratio of 2.
RATIOS = (1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0, 100.0)
Decision = Literal["FAIL", "CONTINUE"]


@dataclass(frozen=True)
class Interval:
    """The calls and bad calls (errors, or slow calls) of each version during one interval (e.g. one
    1-s EMF period)."""

    new_calls: int
    new_errors: int
    old_calls: int
    old_errors: int


@dataclass(frozen=True)
class SequentialPolicy:
    alpha: float = 0.01  # the most a healthy version may be stopped, per deployment
    # The error test and the latency test each spend their part of alpha (a union bound): together
    # they stop a healthy version at most alpha of the time.
    latency_part: float = 0.2  # errors are the first signal: they get 80 % of alpha

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be within (0, 1)")
        if not 0 <= self.latency_part < 1:
            raise ValueError("latency_part must be within [0, 1)")

    @property
    def error_alpha(self) -> float:
        return self.alpha * (1 - self.latency_part)

    @property
    def latency_alpha(self) -> float:
        return self.alpha * self.latency_part


class Evidence:
    """The mixture likelihood ratio, accumulated interval by interval (a judge that loops keeps one)."""

    def __init__(self, ratios: tuple[float, ...] = RATIOS) -> None:
        self.ratios = ratios
        self.logs = [0.0] * len(ratios)
        self.peak = 0.0  # the highest log_value so far
        self.intervals = 0
        self.new = [0, 0]  # calls, bad calls
        self.old = [0, 0]

    def add(self, iv: Interval) -> None:
        if iv.new_calls <= 0 or iv.old_calls <= 0:
            return  # nothing to compare with
        self.intervals += 1
        self.new = [self.new[0] + iv.new_calls, self.new[1] + iv.new_errors]
        self.old = [self.old[0] + iv.old_calls, self.old[1] + iv.old_errors]
        if iv.new_errors + iv.old_errors <= 0:
            return  # where no bad call fell, nothing to weigh
        share = iv.new_calls / (iv.new_calls + iv.old_calls)
        for j, ratio in enumerate(self.ratios):
            p = ratio * share / (ratio * share + 1 - share)
            self.logs[j] += iv.new_errors * math.log(p / share) + iv.old_errors * math.log(
                (1 - p) / (1 - share)
            )
        self.peak = max(self.peak, self.log_value)

    @property
    def log_value(self) -> float:
        """log of the mixture likelihood ratio; 0 before any interval with errors."""
        top = max(self.logs)
        return top + math.log(sum(math.exp(v - top) for v in self.logs) / len(self.logs))

    @property
    def p_value(self) -> float:
        """Always-valid p-value: the chance a healthy version would ever have shown this much evidence."""
        return min(1.0, math.exp(-self.peak))

    def decide(self, alpha: float) -> Decision:
        """FAIL once the evidence that the new version is worse reaches 1/alpha; else CONTINUE."""
        return "FAIL" if self.log_value >= math.log(1 / alpha) else "CONTINUE"


def evidence_of(intervals: Iterable[Interval]) -> Evidence:
    evidence = Evidence()
    for iv in intervals:
        evidence.add(iv)
    return evidence


def decide(intervals: Iterable[Interval], alpha: float) -> Decision:
    return evidence_of(intervals).decide(alpha)


def slow_calls(sample_count: float, percent_at_most: float) -> int:
    """Calls slower than a threshold T from CloudWatch's SampleCount and PR(:T) (the percentage of
    values <= T, 'CloudWatch statistics definitions'), clamped to [0, SampleCount]."""
    calls = max(round(sample_count), 0)
    return min(max(round(calls * (100.0 - percent_at_most) / 100.0), 0), calls)
