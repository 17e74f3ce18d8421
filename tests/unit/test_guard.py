"""The invocation guard of a metric-math gate, read from its expression."""

from __future__ import annotations

from typing import Any

import pytest

from safedeploy.template.deployments import AlarmSpec


def gate(expression: str, stat: str = "Sum") -> AlarmSpec:
    metrics: list[dict[str, Any]] = [
        {
            "Id": "invocations",
            "MetricStat": {"Metric": {"MetricName": "Invocations"}, "Period": 60, "Stat": stat},
        },
        {"Id": "rate", "Expression": expression, "ReturnData": True},
    ]
    return AlarmSpec("g", "G", None, {"Metrics": metrics})


@pytest.mark.parametrize(
    ("expression", "stat", "expected"),
    [
        ("IF(invocations >= 20, 100 * errors / invocations, 0)", "Sum", 20),
        ("IF(invocations > 20, 1, 0)", "Sum", 21),
        ("IF(invocations >= 2.5, 1, 0)", "Sum", 3),
        ("IF(invocations >= 20, 1, 0)", "Average", None),  # not a count
        ("IF(other >= 20, 1, 0)", "Sum", None),  # not one of the alarm's queries
        ("100 * errors / invocations", "Sum", None),  # no guard at all
    ],
)
def test_the_guard_is_the_minimum_count_per_period(expression: str, stat: str, expected: int | None) -> None:
    assert gate(expression, stat).guard() == expected
