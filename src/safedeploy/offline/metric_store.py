"""Per-request records of the rehearsal turned into CloudWatch datapoints (AWS/Lambda and EMF)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    if stat.upper().startswith("PR(") and stat.endswith(")"):
        # Percentile rank: the percentage of values within (low, high] ('CloudWatch statistics
        # definitions'); an empty bound is open.
        low_text, _, high_text = stat[3:-1].partition(":")
        low = float(low_text) if low_text else -math.inf
        high = float(high_text) if high_text else math.inf
        return 100.0 * sum(low < v <= high for v in values) / len(values)
    raise ValueError(f"statistic {stat!r} is not emulated")


LAMBDA_RESOLUTION_S = 60


def _between(rows: list[Any], low: float, high: float) -> list[Any]:
    """The rows with low <= t_s < high; `rows` are kept in time order (requests are appended as they
    run), so this is two bisections, not a scan: a judge looking every 2 s at 1-s periods asks often."""
    return rows[bisect.bisect_left(rows, low, key=_t) : bisect.bisect_left(rows, high, key=_t)]


def _t(row: Any) -> float:
    return float(row.t_s)


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
    # Series by what a query names, kept in time order and extended as records and points are
    # appended (both lists only grow, in time order): a judge looking every 2 s asks often.
    _by_series: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict, repr=False)
    _indexed: list[int] = field(default_factory=lambda: [0, 0], repr=False)
    _final: dict[tuple[Any, ...], float | None] = field(default_factory=dict, repr=False)
    # how far in time the records are complete (the engine moves it as it serves traffic); a store
    # filled up front (tests) is complete for all time
    records_until_s: float = math.inf

    def _index(self) -> None:
        for record in self.records[self._indexed[0] :]:
            for dims in self.published(record):
                self._by_series.setdefault(("AWS/Lambda", tuple(sorted(dims.items()))), []).append(record)
        for point in self.emf[self._indexed[1] :]:
            self._by_series.setdefault((point.namespace, point.metric, point.dimensions), []).append(point)
        self._indexed = [len(self.records), len(self.emf)]

    def align(self, t_s: float, period_s: float) -> float:
        """The start of the clock-aligned period of `period_s` that holds `t_s`."""
        return t_s - (t_s + self.clock_offset_s) % period_s

    def _minute_at_or_after(self, t_s: float) -> float:
        minute = self.align(t_s, LAMBDA_RESOLUTION_S)
        return minute if minute >= t_s else minute + LAMBDA_RESOLUTION_S

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
        before `until_s`; None: nothing published. A datapoint whose requests have all been published
        no longer changes (requests are appended in time order), so it is worked out once."""
        dims = {d["Name"]: str(d["Value"]) for d in stat.get("Dimensions", [])}
        lambda_metric = stat.get("Namespace") == "AWS/Lambda"
        final_at = start_s + period_s + (LAMBDA_RESOLUTION_S if lambda_metric else 0)
        key = (
            stat.get("Namespace"),
            stat.get("MetricName"),
            tuple(sorted(dims.items())),
            stat.get("Stat"),
            start_s,
            period_s,
        )
        if key in self._final:
            return self._final[key]
        self._index()
        value = self._fetch(stat, dims, start_s, period_s, until_s)
        if until_s >= final_at and self.records_until_s >= final_at:
            self._final[key] = value
        return value

    def _fetch(
        self, stat: dict[str, Any], dims: dict[str, str], start_s: float, period_s: float, until_s: float
    ) -> float | None:
        end_s = min(start_s + period_s, until_s)
        if stat.get("Namespace") == "AWS/Lambda":
            # a request's datapoint carries the start of its minute: the requests whose minute starts
            # in [start_s, start_s + period_s) ran from the first such minute to the first minute
            # boundary at or after the period's end
            series = self._by_series.get(("AWS/Lambda", tuple(sorted(dims.items()))), [])
            low = self._minute_at_or_after(start_s)
            rows = _between(series, low, min(self._minute_at_or_after(start_s + period_s), until_s))
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
        key = (stat.get("Namespace"), stat.get("MetricName"), tuple(sorted(dims.items())))
        points = [p.value for p in _between(self._by_series.get(key, []), start_s, end_s)]
        return _stat(points, stat["Stat"]) if points else None

    def series(
        self,
        stat: dict[str, Any],
        start_s: float,
        end_s: float,
        period_s: int,
        visible_until_s: float | None = None,
    ) -> list[tuple[float, float]]:
        """(period start, value) for the periods of the grid that start in [start_s, end_s), each
        with what was published before `visible_until_s` (default end_s): the current partial period
        included; periods without data are left out, as CloudWatch does."""
        until = end_s if visible_until_s is None else visible_until_s
        out = []
        # CloudWatch rounds StartTime down to the minute, or for a Period of 5-30 s to that division
        # of a minute, and counts periods from there (GetMetricData API reference, StartTime)
        t = self.align(start_s, min(period_s, 60))
        while t < end_s:
            value = self.fetch(stat, t, period_s, until_s=until)
            if value is not None:
                out.append((t, value))
            t += period_s
        return out


def metric_data(
    store: MetricStore,
    params: dict[str, Any],
    epoch: datetime,
    visible_until_s: Callable[[str | None], float],
) -> dict[str, Any]:
    """A GetMetricData answer from `store`, whose t = 0 is `epoch`: the MetricStat queries' periods that
    start in [StartTime, EndTime), each with the requests a reader of its namespace sees now
    (`visible_until_s`); CloudWatch does not cut a period at EndTime."""
    start = (params["StartTime"] - epoch).total_seconds()
    end = (params["EndTime"] - epoch).total_seconds()
    results = []
    for q in params["MetricDataQueries"]:
        ms = q.get("MetricStat")
        if not ms:
            continue
        stat = {**ms["Metric"], "Stat": ms["Stat"]}
        until = visible_until_s(stat.get("Namespace"))
        points = store.series(stat, start, min(until, end), int(ms["Period"]), until)
        results.append(
            {
                "Id": q["Id"],
                "Label": q["Id"],
                "StatusCode": "Complete",
                "Values": [value for _, value in points],
                "Timestamps": [epoch + timedelta(seconds=t) for t, _ in points],
            }
        )
    return {"MetricDataResults": results, "Messages": []}
