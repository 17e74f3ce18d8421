"""Canary judge: the new version against the old one, both serving live traffic behind one alias.

Pure: samples in, verdict out. Error rate uses a one-sided Fisher exact test on counts; latency
compares the per-minute p99 (and p50) series with a one-sided Mann-Whitney rank test, and a metric
only fails when the difference is significant AND at least the policy's minimum effect.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from safedeploy_core.stats import binom_greater, fisher_greater, mann_whitney_greater

VerdictName = Literal["PASS", "FAIL", "INCONCLUSIVE", "NODATA"]
MetricResult = Literal["PASS", "FAIL", "INCONCLUSIVE", "SKIPPED"]
METRICS = ("error_rate", "latency_p99", "latency_p50")


class JudgeInputError(ValueError):
    pass


MAX_COUNT = 10**12
MAX_SAMPLE_COUNT = 10**15  # invocations or errors of one version: far beyond any deployment
MAX_SERIES = 100_000  # per-minute latency values per version (69 days of minutes)
# name -> (low, high, low bound excluded): what a policy number may be
NUMBER_RANGES: dict[str, tuple[float, float, bool]] = {
    "error_min_increase_pp": (0.0, 100.0, False),
    "latency_min_relative": (0.0, 100.0, False),
    "slo_error_rate_pct": (0.0, 100.0, False),
    "slo_p99_ms": (0.0, 900_000.0, True),  # a p99 SLO of 0 ms fails every version
}


@dataclass(frozen=True)
class Policy:
    confidence: float = 0.99
    min_canary_invocations: int = 100
    min_baseline_invocations: int = 100
    error_min_increase_pp: float = 0.5  # percentage points the canary must be worse by
    latency_min_relative: float = 0.20  # the canary's median p99 must be >= 20 % slower
    min_latency_points: int = 3  # per-minute values per side for a rank test
    critical: tuple[str, ...] = ("error_rate", "latency_p99")
    slo_error_rate_pct: float = 1.0  # static fallback when there is no baseline
    slo_p99_ms: float | None = None

    @property
    def alpha(self) -> float:
        return 1 - self.confidence

    @classmethod
    def from_dict(cls, raw: Any) -> Policy:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise JudgeInputError("policy must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise JudgeInputError(f"policy has unknown key(s): {', '.join(unknown)}")
        values = dict(raw)
        if "critical" in values:
            crit = values["critical"]
            if (
                not isinstance(crit, list)
                or not all(isinstance(c, str) for c in crit)
                or not set(crit) <= set(METRICS)
            ):
                raise JudgeInputError(f"policy.critical must be a list drawn from {', '.join(METRICS)}")
            values["critical"] = tuple(crit)
        for name in ("min_canary_invocations", "min_baseline_invocations", "min_latency_points"):
            value = values.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
                raise JudgeInputError(f"policy.{name} must be an integer within 0..{MAX_COUNT}")
        for name, (low, high, low_open) in NUMBER_RANGES.items():
            if name not in values or (name == "slo_p99_ms" and values[name] is None):
                continue
            value = values[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not (low < value if low_open else low <= value)
                or value > high
            ):
                bound = f"({low}" if low_open else f"[{low}"
                raise JudgeInputError(f"policy.{name} must be a number within {bound}, {high}]")
        confidence = values.get("confidence", 0.99)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise JudgeInputError("policy.confidence must be a number within [0.5, 1)")
        policy = cls(**values)
        if not 0.5 <= policy.confidence < 1:
            raise JudgeInputError("policy.confidence must be within [0.5, 1)")
        return policy


@dataclass(frozen=True)
class VersionSample:
    invocations: int
    errors: int
    duration_p99_ms: tuple[float, ...] = ()
    duration_p50_ms: tuple[float, ...] = ()

    @property
    def error_rate_pct(self) -> float:
        return 100 * self.errors / self.invocations if self.invocations else 0.0

    @classmethod
    def from_dict(cls, raw: Any, side: str) -> VersionSample:
        if not isinstance(raw, dict):
            raise JudgeInputError(f"{side} must be an object with invocations and errors")
        for key in ("invocations", "errors"):
            if key not in raw:
                raise JudgeInputError(f"{side}.{key} is missing")
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise JudgeInputError(f"{side}.{key} must be an integer")
            if value < 0:
                raise JudgeInputError(f"{side}.{key} must not be negative")
            if value > MAX_SAMPLE_COUNT:
                raise JudgeInputError(f"{side}.{key} must be at most {MAX_SAMPLE_COUNT}")
        if raw["errors"] > raw["invocations"]:
            raise JudgeInputError(
                f"{side}.errors ({raw['errors']}) exceeds {side}.invocations ({raw['invocations']})"
            )
        series = {}
        for key in ("duration_p99_ms", "duration_p50_ms"):
            values = raw.get(key, [])
            if isinstance(values, list) and len(values) > MAX_SERIES:
                raise JudgeInputError(f"{side}.{key} has more than {MAX_SERIES} values")
            if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values
            ):
                raise JudgeInputError(f"{side}.{key} must be a list of non-negative numbers")
            series[key] = tuple(float(v) for v in values)
        return cls(raw["invocations"], raw["errors"], series["duration_p99_ms"], series["duration_p50_ms"])


@dataclass(frozen=True)
class MetricJudgement:
    name: str
    baseline: float | None
    canary: float | None
    effect: float | None
    p_value: float | None
    result: MetricResult
    reason: str


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    metrics: tuple[MetricJudgement, ...] = field(default_factory=tuple)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "metrics": [asdict(m) for m in self.metrics]}

    def markdown(self) -> str:
        lines = [
            f"**Canary verdict: {self.verdict}** — {self.reason}",
            "",
            "| metric | baseline | canary | effect | p-value | result | reason |",
            "|---|---|---|---|---|---|---|",
        ]
        for m in self.metrics:
            lines.append(
                f"| {m.name} | {_fmt(m.baseline)} | {_fmt(m.canary)} | {_fmt(m.effect)} | "
                f"{_fmt(m.p_value, 4)} | {m.result} | {m.reason} |"
            )
        return "\n".join(lines)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def judge_error_rate(baseline: VersionSample, canary: VersionSample, policy: Policy) -> MetricJudgement:
    c_rate = canary.error_rate_pct
    if baseline.invocations < policy.min_baseline_invocations:
        p = binom_greater(canary.errors, canary.invocations, policy.slo_error_rate_pct / 100)
        effect = c_rate - policy.slo_error_rate_pct
        if p < policy.alpha and effect > 0:
            return MetricJudgement(
                "error_rate",
                None,
                c_rate,
                effect,
                p,
                "FAIL",
                f"no baseline; {c_rate:.2f} % is above the {policy.slo_error_rate_pct:g} % SLO",
            )
        return MetricJudgement(
            "error_rate",
            None,
            c_rate,
            effect,
            p,
            "PASS",
            f"no baseline; within the {policy.slo_error_rate_pct:g} % SLO",
        )
    b_rate = baseline.error_rate_pct
    effect = c_rate - b_rate
    p = fisher_greater(
        canary.errors,
        canary.invocations - canary.errors,
        baseline.errors,
        baseline.invocations - baseline.errors,
    )
    if p < policy.alpha and effect >= policy.error_min_increase_pp:
        return MetricJudgement(
            "error_rate",
            b_rate,
            c_rate,
            effect,
            p,
            "FAIL",
            f"errors {b_rate:.2f} % -> {c_rate:.2f} % (+{effect:.2f} pp, p={p:.2g})",
        )
    if p < policy.alpha:
        return MetricJudgement(
            "error_rate",
            b_rate,
            c_rate,
            effect,
            p,
            "PASS",
            f"significant but below the {policy.error_min_increase_pp:g} pp minimum effect",
        )
    return MetricJudgement("error_rate", b_rate, c_rate, effect, p, "PASS", "no significant increase")


def judge_latency(
    name: str, base: tuple[float, ...], can: tuple[float, ...], policy: Policy
) -> MetricJudgement:
    if not can:
        return MetricJudgement(name, None, None, None, None, "SKIPPED", "no canary latency series")
    c_med = statistics.median(can)
    if not base:
        if policy.slo_p99_ms is not None and name == "latency_p99":
            over = c_med / policy.slo_p99_ms - 1
            result: MetricResult = "FAIL" if c_med > policy.slo_p99_ms else "PASS"
            return MetricJudgement(
                name,
                None,
                c_med,
                over,
                None,
                result,
                f"no baseline; median {c_med:.0f} ms vs SLO {policy.slo_p99_ms:g} ms",
            )
        return MetricJudgement(name, None, c_med, None, None, "SKIPPED", "no baseline series and no SLO")
    b_med = statistics.median(base)
    effect: float | None = (c_med / b_med - 1) if b_med > 0 else None
    if len(base) < policy.min_latency_points or len(can) < policy.min_latency_points:
        return MetricJudgement(
            name,
            b_med,
            c_med,
            effect,
            None,
            "INCONCLUSIVE",
            f"need {policy.min_latency_points} per-minute values per version",
        )
    _, p, _ = mann_whitney_greater(list(can), list(base))
    slower = effect is not None and effect >= policy.latency_min_relative
    if p < policy.alpha and slower:
        return MetricJudgement(
            name,
            b_med,
            c_med,
            effect,
            p,
            "FAIL",
            f"median {b_med:.0f} -> {c_med:.0f} ms (+{100 * (effect or 0):.0f} %, p={p:.2g})",
        )
    if p < policy.alpha:
        return MetricJudgement(
            name,
            b_med,
            c_med,
            effect,
            p,
            "PASS",
            f"significant but below the {100 * policy.latency_min_relative:.0f} % minimum effect",
        )
    return MetricJudgement(name, b_med, c_med, effect, p, "PASS", "no significant slowdown")


def judge(baseline: VersionSample, canary: VersionSample, policy: Policy | None = None) -> Verdict:
    policy = policy or Policy()
    if canary.invocations < policy.min_canary_invocations:
        return Verdict(
            "NODATA", (), f"{canary.invocations} canary invocations, need {policy.min_canary_invocations}"
        )
    metrics = (
        judge_error_rate(baseline, canary, policy),
        judge_latency("latency_p99", baseline.duration_p99_ms, canary.duration_p99_ms, policy),
        judge_latency("latency_p50", baseline.duration_p50_ms, canary.duration_p50_ms, policy),
    )
    critical = [m for m in metrics if m.name in policy.critical]
    failed = [m for m in critical if m.result == "FAIL"]
    if failed:
        return Verdict("FAIL", metrics, "; ".join(f"{m.name}: {m.reason}" for m in failed))
    undecided = [m for m in critical if m.result == "INCONCLUSIVE"]
    if undecided:
        return Verdict("INCONCLUSIVE", metrics, "; ".join(f"{m.name}: {m.reason}" for m in undecided))
    warnings = [m for m in metrics if m.result == "FAIL"]
    note = f" (non-critical: {', '.join(m.name for m in warnings)} worse)" if warnings else ""
    if baseline.invocations < policy.min_baseline_invocations:
        return Verdict("PASS", metrics, f"no baseline to compare with: within the static SLO{note}")
    return Verdict("PASS", metrics, f"no critical metric is worse on the canary{note}")


def parse_judge_input(document: Any) -> tuple[VersionSample, VersionSample, Policy]:
    if not isinstance(document, dict):
        raise JudgeInputError("input must be a JSON object with baseline and canary")
    for key in ("baseline", "canary"):
        if key not in document:
            raise JudgeInputError(f"input lacks '{key}'")
    return (
        VersionSample.from_dict(document["baseline"], "baseline"),
        VersionSample.from_dict(document["canary"], "canary"),
        Policy.from_dict(document.get("policy")),
    )
