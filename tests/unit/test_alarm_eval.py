"""The rehearsal's CloudWatch alarm evaluator against hand-computed cases."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from safedeploy.offline.alarm_eval import (
    AlarmModel,
    ExpressionError,
    decide,
    evaluate_expression,
    evaluation_range,
)
from tests.helpers import ROOT


def alarm(**props: Any) -> AlarmModel:
    base = {
        "Namespace": "X",
        "MetricName": "M",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 5,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    return AlarmModel("a", {**base, **props})


def fetch_from(points: dict[int, float | None]) -> Any:
    return lambda stat, start, period: points.get(start)


@pytest.mark.parametrize(
    ("points", "m", "treat", "expected"),
    [
        ({0: 9, 60: 9, 120: 1}, 2, "missing", "ALARM"),  # 2 of 3 breach
        ({0: 9, 60: 1, 120: 1}, 2, "missing", "OK"),  # 1 of 3
        ({0: 9, 60: None, 120: 9}, 2, "notBreaching", "ALARM"),  # missing counts as good, still 2
        ({0: 9, 60: None, 120: None}, 2, "notBreaching", "OK"),
        ({0: 9, 60: None, 120: None}, 2, "breaching", "ALARM"),  # missing counts as bad
        ({0: None, 60: None, 120: None}, 2, "missing", "INSUFFICIENT_DATA"),
        ({0: None, 60: None, 120: None}, 2, "notBreaching", "OK"),
        ({0: None, 60: None, 120: 9}, 1, "missing", "ALARM"),
    ],
)
def test_m_of_n_with_missing_data(points: dict[int, float | None], m: int, treat: str, expected: str) -> None:
    a = alarm(DatapointsToAlarm=m, TreatMissingData=treat)
    # periods [0,60), [60,120), [120,180) have ended at t=180 with no delay
    assert a.evaluate(fetch_from(points), 180) == expected


def test_ignore_keeps_the_state_when_nothing_is_present() -> None:
    a = alarm(TreatMissingData="ignore")
    a.state = "ALARM"
    assert a.evaluate(fetch_from({}), 180) == "ALARM"


def test_metric_delay_shifts_the_window() -> None:
    a = alarm(EvaluationPeriods=1)
    points = {0: 1, 60: 9}
    assert a.evaluate(fetch_from(points), 120) == "ALARM"
    assert a.evaluate(fetch_from(points), 120, delay_s=60) == "OK"  # [60,120) not visible yet


def test_metric_math_with_the_invocation_guard() -> None:
    props = {
        "Metrics": [
            {
                "Id": "errors",
                "ReturnData": False,
                "MetricStat": {"Metric": {"MetricName": "Errors"}, "Period": 60, "Stat": "Sum"},
            },
            {
                "Id": "invocations",
                "ReturnData": False,
                "MetricStat": {"Metric": {"MetricName": "Invocations"}, "Period": 60, "Stat": "Sum"},
            },
            {"Id": "rate", "Expression": "IF(invocations >= 20, 100 * errors / invocations, 0)"},
        ],
        "EvaluationPeriods": 1,
        "Threshold": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    a = AlarmModel("rate", props)
    data = {"Errors": 3.0, "Invocations": 10.0}
    fetch = lambda stat, start, period: data[stat["MetricName"]]  # noqa: E731
    assert a.evaluate(fetch, 60) == "OK"  # 30 % but only 10 invocations: guard reads 0
    data["Invocations"] = 100.0
    assert a.evaluate(fetch, 60) == "ALARM"  # 3 % > 2 %
    data["Errors"] = 1.0
    assert a.evaluate(fetch, 60) == "OK"  # 1 %


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("IF(a >= 20, 100 * b / a, 0)", {"a": 40.0, "b": 2.0}, 5.0),
        ("IF(a >= 20, 100 * b / a, 0)", {"a": 4.0, "b": 2.0}, 0.0),
        ("a + b * 2", {"a": 1.0, "b": 3.0}, 7.0),
        ("(a + b) * 2", {"a": 1.0, "b": 3.0}, 8.0),
        ("a / b", {"a": 1.0, "b": 0.0}, None),
        ("a + b", {"a": 1.0, "b": None}, None),
        ("IF(a > 1 AND b < 1, 1, 0)", {"a": 2.0, "b": 0.0}, 1.0),
    ],
)
def test_expressions(expression: str, values: dict[str, float | None], expected: float | None) -> None:
    assert evaluate_expression(expression, values) == expected


@pytest.mark.parametrize("expression", ["METRICS()", "a +", "unknown * 2", "a $ b"])
def test_unsupported_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate_expression(expression, {"a": 1.0, "b": 2.0})


def pattern(text: str) -> list[bool | None]:
    """'X' breaching, '0' not breaching, '-' missing; oldest first."""
    return [{"X": True, "0": False, "-": None}[c] for c in text]


@pytest.mark.parametrize(
    ("points", "n", "m", "treat", "expected"),
    [
        # at least N present: the most recent N present ones, older ones beyond them ignored
        ("XX0-0", 2, 2, "missing", "OK"),
        ("XX0-0", 2, 2, "breaching", "OK"),  # TreatMissingData is not used with N present
        ("0X-X-", 2, 2, "notBreaching", "ALARM"),  # the two most recent present both breach
        # fewer than N present: the gap is filled as TreatMissingData says
        ("---X-", 3, 2, "breaching", "ALARM"),
        ("---X-", 3, 2, "notBreaching", "OK"),
        # premature alarm (missing/ignore): oldest breach of the last N at least M old, the rest missing
        ("--X--", 3, 3, "missing", "ALARM"),
        ("---X-", 3, 3, "missing", "OK"),  # only 2 periods old: not yet
        ("--X0-", 3, 2, "missing", "OK"),  # a later datapoint is good
        ("--X--", 3, 3, "ignore", "ALARM"),
        # nothing present in the whole range
        ("-----", 3, 3, "missing", "INSUFFICIENT_DATA"),
        ("-----", 3, 3, "breaching", "ALARM"),
        ("-----", 3, 3, "notBreaching", "OK"),
        ("-----", 3, 3, "ignore", "ALARM"),  # from ALARM: kept
    ],
)
def test_the_documented_decision(points: str, n: int, m: int, treat: str, expected: str) -> None:
    assert decide(pattern(points), n, m, treat, "ALARM") == expected


def test_the_evaluation_range_reaches_back_past_the_evaluation_periods() -> None:
    # 1 of 1 with the last period missing: the most recent present datapoint (one period back) decides
    a = alarm(EvaluationPeriods=1)
    assert evaluation_range(1) == 3
    assert a.evaluate(fetch_from({60: 9, 120: None}), 180) == "ALARM"


def test_the_decision_agrees_with_localstack_on_every_pattern_or_says_why() -> None:
    python = ROOT / ".venv-localstack" / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail("localstack-core is not installed (make test installs it into .venv-localstack)")
        pytest.skip("localstack-core not installed: run `make test` (it installs .venv-localstack)")
    proc = subprocess.run(
        [str(python), str(ROOT / "tools" / "crosscheck_alarms.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 unexplained disagreements" in proc.stdout
