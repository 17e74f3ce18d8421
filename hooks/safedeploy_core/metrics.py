"""CloudWatch adapter: per-version samples of one alias for the judge (GetMetricData).

Behind an alias Lambda publishes {FunctionName, Resource=fn:alias, ExecutedVersion=N}; that series is
the only one that separates the two versions while both serve traffic. Where the function also emits
Powertools (EMF) `Requests`/`Errors` with a `FunctionVersion` dimension, those counts are used instead:
they count application errors (a 5xx answer) that Lambda's `Errors` (unhandled exceptions) misses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safedeploy_core.judge import VersionSample
from safedeploy_core.sequential import Interval, slow_calls

_QUERIES = (
    ("inv", "Invocations", "Sum"),
    ("err", "Errors", "Sum"),
    ("p99", "Duration", "p99"),
    ("p50", "Duration", "p50"),
)


@dataclass(frozen=True)
class EmfSource:
    namespace: str
    service: str


def version_dimensions(function_name: str, alias: str, version: str) -> list[dict[str, str]]:
    return [
        {"Name": "FunctionName", "Value": function_name},
        {"Name": "Resource", "Value": f"{function_name}:{alias}"},
        {"Name": "ExecutedVersion", "Value": str(version)},
    ]


def emf_dimensions(emf: EmfSource, version: str) -> list[dict[str, str]]:
    return [
        {"Name": "service", "Value": emf.service},
        {"Name": "FunctionVersion", "Value": str(version)},
    ]


def _stat_query(
    qid: str, namespace: str, metric: str, dims: list[dict[str, str]], period: int, stat: str
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def metric_queries(
    function_name: str, alias: str, versions: dict[str, str], period: int = 60
) -> list[dict[str, Any]]:
    return [
        _stat_query(
            f"{qid}_{label}",
            "AWS/Lambda",
            metric,
            version_dimensions(function_name, alias, version),
            period,
            stat,
        )
        for label, version in versions.items()
        for qid, metric, stat in _QUERIES
    ]


def emf_queries(emf: EmfSource, versions: dict[str, str], period: int = 60) -> list[dict[str, Any]]:
    return [
        _stat_query(f"{qid}_{label}", emf.namespace, metric, emf_dimensions(emf, version), period, "Sum")
        for label, version in versions.items()
        for qid, metric in (("emfreq", "Requests"), ("emferr", "Errors"))
    ]


def _results(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> Iterator[dict[str, Any]]:
    """Every MetricDataResult of a GetMetricData over [start, end), page after page."""
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = cloudwatch.get_metric_data(**kwargs)
        yield from page.get("MetricDataResults", [])
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def fetch_series(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {q["Id"]: [] for q in queries}
    for result in _results(cloudwatch, queries, start, end):
        series.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
    return series


def collect_pair(
    cloudwatch: Any,
    function_name: str,
    alias: str,
    baseline_version: str,
    canary_version: str,
    start: datetime,
    end: datetime,
    period: int = 60,
    emf: EmfSource | None = None,
) -> tuple[VersionSample, VersionSample]:
    """(baseline, canary) samples over [start, end): counts summed, latency as per-minute series."""
    versions = {"baseline": baseline_version, "canary": canary_version}
    queries = metric_queries(function_name, alias, versions, period)
    if emf is not None:
        queries += emf_queries(emf, versions, period)
    series = fetch_series(cloudwatch, queries, start, end)
    # EMF counts only when both versions emit them: never compare two different sources.
    use_emf = emf is not None and all(sum(series.get(f"emfreq_{label}", [])) > 0 for label in versions)

    def sample(label: str) -> VersionSample:
        count, err = ("emfreq", "emferr") if use_emf else ("inv", "err")
        invocations = round(sum(series[f"{count}_{label}"]))
        errors = min(round(sum(series[f"{err}_{label}"])), invocations)
        return VersionSample(
            invocations, errors, tuple(series[f"p99_{label}"]), tuple(series[f"p50_{label}"])
        )

    return sample("baseline"), sample("canary")


# ------------------------------------------------------------------ the sequential judge's intervals
# The functions publish Requests/Errors at StorageResolution 1: 1-s periods, so that a period is
# complete one second after it ends and a look waits for nothing but the metrics' visibility.
EMF_PERIOD_S = 1
LAMBDA_PERIOD_S = 60  # Lambda's own metrics have 1-minute resolution


@dataclass(frozen=True)
class LatencySource:
    """Where the step judge reads per-call latency: the function's own EMF `Latency` (1-s periods)
    or Lambda's `Duration` (1-minute resolution)."""

    name: str
    period: int

    @property
    def label(self) -> str:
        return "EMF 1-s" if self.name == "emf" else "Lambda 1-min"

    def query(self, qid: str, ctx: _Target, version: str, period: int, stat: str) -> dict[str, Any]:
        if self.name == "emf":
            assert ctx.emf is not None
            return _stat_query(
                qid, ctx.emf.namespace, "Latency", emf_dimensions(ctx.emf, version), period, stat
            )
        dims = version_dimensions(ctx.function_name, ctx.alias, version)
        return _stat_query(qid, "AWS/Lambda", "Duration", dims, period, stat)


EMF_LATENCY = LatencySource("emf", EMF_PERIOD_S)
LAMBDA_DURATION = LatencySource("lambda", LAMBDA_PERIOD_S)


@dataclass(frozen=True)
class _Target:
    function_name: str
    alias: str
    emf: EmfSource | None


@dataclass(frozen=True)
class Threshold:
    """The latency threshold: the old version's p99 from `source`, counting calls from `since` on."""

    ms: float
    since: datetime
    source: LatencySource


def latency_sources(emf: EmfSource | None) -> tuple[LatencySource, ...]:
    return (EMF_LATENCY, LAMBDA_DURATION) if emf is not None else (LAMBDA_DURATION,)


def interval_queries(
    function_name: str,
    alias: str,
    versions: dict[str, str],
    emf: EmfSource | None,
    threshold: Threshold | None,
) -> list[dict[str, Any]]:
    """Per version: Lambda's Invocations/Errors per minute, EMF Requests/Errors per second (when the
    function emits them); once the latency threshold is known, its source's SampleCount and
    PR(:threshold) per period, else the old version's p99 per minute from each source (to fix it)."""
    ctx = _Target(function_name, alias, emf)
    queries = []
    for label, version in versions.items():
        dims = version_dimensions(function_name, alias, version)
        queries += [
            _stat_query(f"inv_{label}", "AWS/Lambda", "Invocations", dims, LAMBDA_PERIOD_S, "Sum"),
            _stat_query(f"err_{label}", "AWS/Lambda", "Errors", dims, LAMBDA_PERIOD_S, "Sum"),
        ]
        if threshold is not None:
            source, rank = threshold.source, f"PR(:{threshold.ms:.6g})"
            queries += [
                source.query(f"dsc_{label}", ctx, version, source.period, "SampleCount"),
                source.query(f"dpr_{label}", ctx, version, source.period, rank),
            ]
        elif label == "baseline":
            queries += [
                source.query(f"p99{source.name}_baseline", ctx, version, LAMBDA_PERIOD_S, "p99")
                for source in latency_sources(emf)
            ]
        if emf is not None:
            queries += emf_queries(emf, {label: version}, EMF_PERIOD_S)
    return queries


def fetch_points(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """Each query's datapoints by timestamp (the start of its period)."""
    points: dict[str, dict[datetime, float]] = {q["Id"]: {} for q in queries}
    for result in _results(cloudwatch, queries, start, end):
        values = (float(v) for v in result.get("Values", []))
        points.setdefault(result["Id"], {}).update(zip(result.get("Timestamps", []), values, strict=False))
    return points


def threshold_before(
    cloudwatch: Any,
    function_name: str,
    alias: str,
    version: str,
    emf: EmfSource | None,
    start: datetime,
    seconds: int,
) -> Threshold | None:
    """The old version's p99 over the `seconds` before `start` as one datapoint per source (EMF's
    preferred), or None when neither has data."""
    ctx = _Target(function_name, alias, emf)
    sources = latency_sources(emf)
    queries = [s.query(f"p99{s.name}", ctx, version, seconds, "p99") for s in sources]
    points = fetch_points(cloudwatch, queries, start - timedelta(seconds=seconds), start)
    for source in sources:
        values = [v for v in points[f"p99{source.name}"].values() if v > 0]
        if values:
            return Threshold(values[0], start, source)
    return None


def threshold_from_first_minute(
    points: dict[str, dict[datetime, float]], emf: EmfSource | None, cutoff: datetime
) -> Threshold | None:
    """The old version's p99 in its first complete minute (EMF's preferred); calls count after it."""
    for source in latency_sources(emf):
        series = points.get(f"p99{source.name}_baseline", {})
        stamps = _complete(set(series), LAMBDA_PERIOD_S, cutoff)
        if stamps and series[stamps[0]] > 0:
            return Threshold(series[stamps[0]], stamps[0] + timedelta(seconds=LAMBDA_PERIOD_S), source)
    return None


def _complete(stamps: set[datetime], period: int, cutoff: datetime) -> list[datetime]:
    """Periods that ended before `cutoff` (the datapoints of a later one may still be arriving)."""
    return sorted(t for t in stamps if t + timedelta(seconds=period) <= cutoff)


def error_intervals(points: dict[str, dict[datetime, float]], cutoff: datetime) -> tuple[str, list[Interval]]:
    """(source, intervals) of calls and errors per version: EMF's 1-s counts when both versions emit
    them (application errors, finer periods), else Lambda's per-minute Invocations/Errors."""
    use_emf = all(sum(points.get(f"emfreq_{label}", {}).values()) > 0 for label in ("baseline", "canary"))
    calls, bad, period, source = (
        ("emfreq", "emferr", EMF_PERIOD_S, "EMF 1-s")
        if use_emf
        else ("inv", "err", LAMBDA_PERIOD_S, "Lambda 1-min")
    )
    return source, _intervals(points, calls, bad, period, cutoff)


def _intervals(
    points: dict[str, dict[datetime, float]], calls: str, bad: str, period: int, cutoff: datetime
) -> list[Interval]:
    series = {
        key: points.get(key, {})
        for key in (f"{calls}_canary", f"{bad}_canary", f"{calls}_baseline", f"{bad}_baseline")
    }
    stamps = _complete(set().union(*(s.keys() for s in series.values())), period, cutoff)

    def count(key: str, t: datetime) -> int:
        return max(round(series[key].get(t, 0.0)), 0)

    out = []
    for t in stamps:
        new_calls, old_calls = count(f"{calls}_canary", t), count(f"{calls}_baseline", t)
        out.append(
            Interval(
                new_calls,
                min(count(f"{bad}_canary", t), new_calls),
                old_calls,
                min(count(f"{bad}_baseline", t), old_calls),
            )
        )
    return out


def latency_intervals(
    points: dict[str, dict[datetime, float]], cutoff: datetime, threshold: Threshold
) -> list[Interval]:
    """Calls, and calls slower than the threshold, per version per period of its source."""
    converted: dict[str, dict[datetime, float]] = {}
    for label in ("baseline", "canary"):
        counts = {t: v for t, v in points.get(f"dsc_{label}", {}).items() if t >= threshold.since}
        ranks = points.get(f"dpr_{label}", {})
        converted[f"dsc_{label}"] = counts
        converted[f"slow_{label}"] = {t: float(slow_calls(n, ranks.get(t, 100.0))) for t, n in counts.items()}
    return _intervals(converted, "dsc", "slow", threshold.source.period, cutoff)


def metrics_per_look(emf: EmfSource | None) -> tuple[int, int]:
    """What one look of the step judge requests for one deployment (GetMetricData is billed per metric
    requested), once the threshold is known: (1-s series, asked at every look; per-minute series, asked
    again only once another minute has settled — `step_gate.fetch_looks`)."""
    source = latency_sources(emf)[0]
    threshold = Threshold(0.0, datetime.fromtimestamp(0, tz=UTC), source)
    queries = interval_queries("f", "live", {"baseline": "1", "canary": "2"}, emf, threshold)
    every = sum(1 for q in queries if q["MetricStat"]["Period"] < LAMBDA_PERIOD_S)
    return every, len(queries) - every


def threshold_metrics(emf: EmfSource | None) -> int:
    """The metrics of the one read that fixes a deployment's latency threshold (`threshold_before`)."""
    return len(latency_sources(emf))
