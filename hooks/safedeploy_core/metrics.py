"""CloudWatch adapter: per-version samples of one alias for the judge (GetMetricData).

Behind an alias Lambda publishes {FunctionName, Resource=fn:alias, ExecutedVersion=N}; that series is
the only one that separates the two versions while both serve traffic. Where the function also emits
Powertools (EMF) `Requests`/`Errors` with a `FunctionVersion` dimension, those counts are used instead:
they count application errors (a 5xx answer) that Lambda's `Errors` (unhandled exceptions) misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from safedeploy_core.judge import VersionSample

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


def metric_queries(
    function_name: str, alias: str, versions: dict[str, str], period: int = 60
) -> list[dict[str, Any]]:
    queries = []
    for label, version in versions.items():
        for qid, metric, stat in _QUERIES:
            queries.append(
                {
                    "Id": f"{qid}_{label}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Lambda",
                            "MetricName": metric,
                            "Dimensions": version_dimensions(function_name, alias, version),
                        },
                        "Period": period,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    return queries


def emf_queries(emf: EmfSource, versions: dict[str, str], period: int = 60) -> list[dict[str, Any]]:
    queries = []
    for label, version in versions.items():
        for qid, metric in (("emfreq", "Requests"), ("emferr", "Errors")):
            dims = [
                {"Name": "service", "Value": emf.service},
                {"Name": "FunctionVersion", "Value": str(version)},
            ]
            queries.append(
                {
                    "Id": f"{qid}_{label}",
                    "MetricStat": {
                        "Metric": {"Namespace": emf.namespace, "MetricName": metric, "Dimensions": dims},
                        "Period": period,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    return queries


def fetch_series(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {q["Id"]: [] for q in queries}
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    while True:
        page = cloudwatch.get_metric_data(**kwargs)
        for result in page.get("MetricDataResults", []):
            series.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
        token = page.get("NextToken")
        if not token:
            return series
        kwargs["NextToken"] = token


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
