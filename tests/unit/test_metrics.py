"""Per-version samples from GetMetricData (Stubber: requests checked against the CloudWatch model)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.stub import Stubber
from safedeploy_core.metrics import EmfSource, collect_pair, metric_queries

from tests.helpers import DEPLOYMENT_START, stubbed_cloudwatch, version_series

END = DEPLOYMENT_START + timedelta(minutes=5)


def stubbed(series: dict[str, list[float]]) -> tuple[Any, Stubber]:
    return stubbed_cloudwatch(series, END)


def test_queries_split_the_alias_by_executed_version() -> None:
    queries = metric_queries("fn", "live", {"baseline": "3", "canary": "4"})
    dims = {
        q["Id"]: {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]} for q in queries
    }
    assert dims["inv_canary"] == {"FunctionName": "fn", "Resource": "fn:live", "ExecutedVersion": "4"}
    assert dims["p99_baseline"]["ExecutedVersion"] == "3"
    assert {q["MetricStat"]["Stat"] for q in queries} == {"Sum", "p99", "p50"}


def test_counts_are_summed_and_latency_kept_per_minute() -> None:
    cw, stub = stubbed(version_series((27000, 270, [200, 210, 205]), (3000, 30, [201, 209, 204]), minutes=5))
    baseline, canary = collect_pair(cw, "fn", "live", "3", "4", DEPLOYMENT_START, END)
    stub.assert_no_pending_responses()
    assert (baseline.invocations, baseline.errors, canary.invocations, canary.errors) == (
        27000,
        270,
        3000,
        30,
    )
    assert canary.duration_p99_ms == (201, 209, 204)


def test_emf_is_used_only_when_both_versions_emit_it() -> None:
    series = {
        **version_series((27000, 1, [200]), (3000, 1, [200])),
        "emfreq_baseline": [],
        "emferr_baseline": [],
        "emfreq_canary": [3000.0],
        "emferr_canary": [90.0],
    }
    cw, _ = stubbed(series)
    baseline, canary = collect_pair(
        cw, "fn", "live", "3", "4", DEPLOYMENT_START, END, emf=EmfSource("Ns", "svc")
    )
    assert (baseline.errors, canary.errors) == (1, 1)  # the old version has no EMF: Lambda counts for both
