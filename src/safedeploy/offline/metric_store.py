"""Per-request records of the rehearsal turned into CloudWatch datapoints (AWS/Lambda and EMF)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Record:
    t_s: float
    function: str
    version: str
    error: bool
    duration_ms: float


@dataclass(frozen=True)
class EmfPoint:
    t_s: float
    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    metric: str
    value: float


def percentile(values: list[float], pct: float) -> float:
    """CloudWatch-style percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def _stat(values: list[float], stat: str) -> float:
    if stat == "Sum":
        return float(sum(values))
    if stat == "SampleCount":
        return float(len(values))
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat.startswith("p"):
        return percentile(values, float(stat[1:]))
    raise ValueError(f"statistic {stat!r} is not emulated")


LAMBDA_RESOLUTION_S = 60


@dataclass
class MetricStore:
    """`clock_offset_s`: how far past a clock minute the rehearsal's t = 0 lies. CloudWatch periods
    start on clock boundaries, and Lambda's metrics have 1-minute resolution: a request's datapoint
    carries the start of its clock minute ("Lambda sends metric data to CloudWatch in 1-minute
    intervals"), so a shorter period finds data only in the one that holds that timestamp. EMF
    metrics published at StorageResolution 1 keep their second."""

    alias: str
    records: list[Record] = field(default_factory=list)
    emf: list[EmfPoint] = field(default_factory=list)
    clock_offset_s: float = 0.0

    def align(self, t_s: float, period_s: float) -> float:
        """The start of the clock-aligned period of `period_s` that holds `t_s`."""
        return t_s - (t_s + self.clock_offset_s) % period_s

    def lambda_timestamp(self, record: Record) -> float:
        return self.align(record.t_s, LAMBDA_RESOLUTION_S)

    def published(self, record: Record) -> list[dict[str, str]]:
        """The dimension sets Lambda publishes for a request through the alias ('Types of metrics for
        Lambda functions': FunctionName; FunctionName + Resource; FunctionName + Resource +
        ExecutedVersion). CloudWatch answers only these exact combinations, never a subset."""
        by_function = {"FunctionName": record.function}
        by_alias = {**by_function, "Resource": f"{record.function}:{self.alias}"}
        return [by_function, by_alias, {**by_alias, "ExecutedVersion": record.version}]

    def fetch(
        self, stat: dict[str, Any], start_s: float, period_s: float, until_s: float = math.inf
    ) -> float | None:
        """One datapoint of `stat` ({Namespace, MetricName, Dimensions, Stat}) from what was published
        before `until_s`; None: nothing published."""
        dims = {d["Name"]: str(d["Value"]) for d in stat.get("Dimensions", [])}
        end_s = min(start_s + period_s, until_s)
        if stat.get("Namespace") == "AWS/Lambda":
            rows = [
                r
                for r in self.records
                if start_s <= self.lambda_timestamp(r) < start_s + period_s
                and r.t_s < until_s
                and dims in self.published(r)
            ]
            if not rows:
                return None
            metric = stat["MetricName"]
            if metric == "Invocations":
                values = [1.0] * len(rows)
            elif metric == "Errors":
                values = [1.0 if r.error else 0.0 for r in rows]
            elif metric == "Duration":
                values = [r.duration_ms for r in rows]
            elif metric == "Throttles":
                values = [0.0]  # the rehearsal never throttles
            else:
                return None
            return _stat(values, stat["Stat"])
        key = tuple(sorted(dims.items()))
        points = [
            p.value
            for p in self.emf
            if start_s <= p.t_s < end_s
            and p.namespace == stat.get("Namespace")
            and p.metric == stat.get("MetricName")
            and p.dimensions == key
        ]
        return _stat(points, stat["Stat"]) if points else None

    def series(self, stat: dict[str, Any], start_s: float, end_s: float, period_s: int) -> list[float]:
        """Datapoints on the period grid from `start_s` to `end_s` (what is visible then), the current
        partial period included."""
        out = []
        t = self.align(start_s, period_s)
        while t < end_s:
            value = self.fetch(stat, t, period_s, until_s=end_s)
            if value is not None:
                out.append(value)
            t += period_s
        return out
