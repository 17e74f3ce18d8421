"""CloudWatch adapter: per-version samples of one alias for the judge (GetMetricData).

Behind an alias Lambda publishes {FunctionName, Resource=fn:alias, ExecutedVersion=N}; that series is
the only one that separates the two versions while both serve traffic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safedeploy_core.judge import VersionSample

_QUERIES = (
    ("inv", "Invocations", "Sum"),
    ("err", "Errors", "Sum"),
    ("p99", "Duration", "p99"),
    ("p50", "Duration", "p50"),
)


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
) -> tuple[VersionSample, VersionSample]:
    """(baseline, canary) samples over [start, end): counts summed, latency as per-minute series."""
    versions = {"baseline": baseline_version, "canary": canary_version}
    series = fetch_series(cloudwatch, metric_queries(function_name, alias, versions, period), start, end)

    def sample(label: str) -> VersionSample:
        invocations = round(sum(series[f"inv_{label}"]))
        errors = min(round(sum(series[f"err_{label}"])), invocations)
        return VersionSample(
            invocations, errors, tuple(series[f"p99_{label}"]), tuple(series[f"p50_{label}"])
        )

    return sample("baseline"), sample("canary")
