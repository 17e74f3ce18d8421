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
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# Error-rate ratios (new / old) the mixture spreads its weight over: 1 % -> 2 % is a ratio of 2.
RATIOS = (1.5, 2.0, 3.0, 4.0, 6.0, 10.0)
Decision = Literal["FAIL", "CONTINUE"]


@dataclass(frozen=True)
class Interval:
    """The calls and errors of each version during one look interval (e.g. one 10-s EMF period)."""

    new_calls: int
    new_errors: int
    old_calls: int
    old_errors: int


@dataclass(frozen=True)
class SequentialPolicy:
    alpha: float = 0.01  # the most a healthy version may be stopped, per deployment

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be within (0, 1)")


class Evidence:
    """The mixture likelihood ratio, accumulated interval by interval (a judge that loops keeps one)."""

    def __init__(self, ratios: tuple[float, ...] = RATIOS) -> None:
        self.ratios = ratios
        self.logs = [0.0] * len(ratios)

    def add(self, iv: Interval) -> None:
        errors = iv.new_errors + iv.old_errors
        if errors <= 0 or iv.new_calls <= 0 or iv.old_calls <= 0:
            return  # nothing to weigh, or nothing to compare with
        share = iv.new_calls / (iv.new_calls + iv.old_calls)
        for j, ratio in enumerate(self.ratios):
            p = ratio * share / (ratio * share + 1 - share)
            self.logs[j] += iv.new_errors * math.log(p / share) + iv.old_errors * math.log(
                (1 - p) / (1 - share)
            )

    @property
    def log_value(self) -> float:
        """log of the mixture likelihood ratio; 0 before any interval with errors."""
        top = max(self.logs)
        return top + math.log(sum(math.exp(v - top) for v in self.logs) / len(self.logs))

    def decide(self, policy: SequentialPolicy) -> Decision:
        """FAIL once the evidence that the new version errs more reaches 1/alpha; else CONTINUE."""
        return "FAIL" if self.log_value >= math.log(1 / policy.alpha) else "CONTINUE"


def decide(intervals: Iterable[Interval], policy: SequentialPolicy) -> Decision:
    evidence = Evidence()
    for iv in intervals:
        evidence.add(iv)
    return evidence.decide(policy)
