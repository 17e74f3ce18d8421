"""The rehearsal's CloudWatch alarm evaluator against hand-computed cases."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from safedeploy.offline.alarm_eval import (
    AlarmModel,
    ExpressionError,
    State,
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


@pytest.mark.parametrize(
    ("samples", "setting", "expected"),
    [
        (999, "ignore", "OK"),  # fewer than 10 / (1 - 0.99) = 1000 samples: the state does not change
        (1000, "ignore", "ALARM"),  # near miss: enough samples, evaluated
        (999, "evaluate", "ALARM"),  # the default evaluates whatever the count
        (999, None, "ALARM"),
    ],
)
def test_a_p99_alarm_set_to_ignore_low_sample_counts_waits_for_1000_samples(
    samples: int, setting: str | None, expected: str
) -> None:
    props: dict[str, Any] = {"ExtendedStatistic": "p99", "EvaluationPeriods": 1, "Statistic": None}
    if setting:
        props["EvaluateLowSampleCountPercentile"] = setting
    a = alarm(**props)
    a.state = "OK"

    def fetch(stat: dict[str, Any], start: float, period: int) -> float | None:
        if start != 60:
            return None
        return float(samples) if stat["Stat"] == "SampleCount" else 900.0  # p99 900 ms > 5

    assert a.evaluate(fetch, 120) == expected


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


# The metric-math page's IF examples: each metric's five datapoints (None: no datapoint there).
M1 = [1.0, 1.0, 0.0, 0.0, None]
M2 = [30.0, None, 0.0, 0.0, 30.0]
M3 = [0.0, 0.0, 20.0, None, 20.0]


def guide_if(
    expression: str, series: dict[str, list[float | None]], out: list[float | None]
) -> list[tuple[str, dict[str, float | None], float | None]]:
    return [(expression, {k: v[i] for k, v in series.items()}, want) for i, want in enumerate(out)]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("IF(a >= 20, 100 * b / a, 0)", {"a": 40.0, "b": 2.0}, 5.0),
        ("IF(a >= 20, 100 * b / a, 0)", {"a": 4.0, "b": 2.0}, 0.0),
        ("a + b * 2", {"a": 1.0, "b": 3.0}, 7.0),
        ("(a + b) * 2", {"a": 1.0, "b": 3.0}, 8.0),
        ("a / b", {"a": 1.0, "b": 0.0}, None),  # a division by zero drops the datapoint
        ("a + b", {"a": 1.0, "b": None}, 1.0),  # "Missing values in a time series are treated as 0"
        ("a + b", {"a": None, "b": None}, None),  # neither has a datapoint: no timestamp at all
        ("a * 2", {"a": None}, None),
        ("a > b", {"a": 1.0, "b": None}, 1.0),  # between two time series the missing one is 0
        ("IF(a > 1 AND b < 1, 1, 0)", {"a": 2.0, "b": 0.0}, 1.0),
        # the guide's IF examples, datapoint by datapoint (metric1, metric2, metric3)
        *guide_if("IF(m1, m2, m3)", {"m1": M1, "m2": M2, "m3": M3}, [30.0, 0.0, 20.0, None, None]),
        *guide_if("IF(m1, 5, m3)", {"m1": M1, "m3": M3}, [5.0, 5.0, 20.0, None, None]),
        *guide_if("IF(m1, m2, 5)", {"m1": M1, "m2": M2}, [30.0, 0.0, 5.0, 5.0, None]),
        ("IF(m1, m2)", {"m1": 0.0, "m2": 3.0}, None),  # false and no third argument: dropped
        # the alarm pack's guard: with invocations but no error datapoint, the rate is 0
        ("IF(invocations >= 20, 100 * errors / invocations, 0)", {"invocations": 40.0, "errors": None}, 0.0),
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
        # premature alarm (missing): every datapoint present breaching, the oldest at least M old
        ("--X--", 3, 3, "missing", "ALARM"),
        ("---X-", 3, 3, "missing", "INSUFFICIENT_DATA"),  # only 2 periods old: not yet
        ("--X0-", 3, 2, "missing", "OK"),  # a later datapoint is good
        ("--X--", 3, 3, "ignore", "ALARM"),  # ignore: the current state (ALARM here), as the guide's table
        ("-X-X-", 3, 2, "ignore", "ALARM"),  # M breaching among fewer than N: ALARM (the guide's prose)
        # nothing present in the whole range
        ("-----", 3, 3, "missing", "INSUFFICIENT_DATA"),
        ("-----", 3, 3, "breaching", "ALARM"),
        ("-----", 3, 3, "notBreaching", "OK"),
        ("-----", 3, 3, "ignore", "ALARM"),  # from ALARM: kept
    ],
)
def test_the_documented_decision(points: str, n: int, m: int, treat: str, expected: str) -> None:
    assert decide(pattern(points), n, m, treat, "ALARM") == expected


# The CloudWatch user guide's two tables, "How alarm state is evaluated when data is missing"
# (awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md at 05fd32f6): the 5 most
# recent datapoints, oldest first; per TreatMissingData the state. "keep" is "Retain current state".
GUIDE_COLUMNS = ("missing", "ignore", "breaching", "notBreaching")
GUIDE_3_OF_3 = [
    ("0-X-X", ("OK", "OK", "OK", "OK")),
    ("0----", ("OK", "OK", "OK", "OK")),
    ("-----", ("INSUFFICIENT_DATA", "keep", "ALARM", "OK")),
    ("0XX-X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("----X", ("INSUFFICIENT_DATA", "keep", "ALARM", "OK")),
    ("X----", ("ALARM", "keep", "ALARM", "OK")),
]
GUIDE_2_OF_3 = [
    ("0-X-X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("00X0X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0-X--", ("OK", "OK", "ALARM", "OK")),
    ("----0", ("OK", "OK", "ALARM", "OK")),
    ("----X", ("INSUFFICIENT_DATA", "keep", "ALARM", "OK")),
]
GUIDE_CELLS = [
    (points, n, m, treat, expected)
    for n, m, table in ((3, 3, GUIDE_3_OF_3), (3, 2, GUIDE_2_OF_3))
    for points, row in table
    for treat, expected in zip(GUIDE_COLUMNS, row, strict=True)
]


@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
@pytest.mark.parametrize(("points", "n", "m", "treat", "expected"), GUIDE_CELLS)
def test_the_guides_missing_data_tables_cell_by_cell(
    points: str, n: int, m: int, treat: str, expected: str, current: State
) -> None:
    assert len(GUIDE_CELLS) == 44
    assert decide(pattern(points), n, m, treat, current) == (current if expected == "keep" else expected)


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


# ---------------------------------------------------------------- the sliding window
def _lambda_errors_alarm(period: int, n: int, m: int | None = None) -> AlarmModel:
    props: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
        "Statistic": "Sum",
        "Period": period,
        "EvaluationPeriods": n,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    if m:
        props["DatapointsToAlarm"] = m
    return AlarmModel("gate", props)


def _bad_from(t0: float, until: float) -> Any:
    from safedeploy.offline.metric_store import MetricStore, Record

    store = MetricStore("live")
    t = t0
    while t < until:
        store.records.append(Record(t, "fn", "2", True, 5.0))
        t += 1.0
    return store


def test_a_five_minute_alarm_slides_by_the_minute() -> None:
    # CloudWatch guide, "Evaluating an alarm": Period 5 min, 1 period: at the end of minute 6 the
    # alarm reads minutes 2-6. An error in minute 6 (t = [300, 360)) is seen at t = 360, not only
    # once the clock-aligned 5-minute period [300, 600) has ended.
    from safedeploy.offline.metric_store import MetricStore, Record

    store = MetricStore("live")
    store.records.append(Record(330.0, "fn", "2", True, 5.0))
    store.records.append(Record(400.0, "fn", "2", False, 5.0))
    gate = _lambda_errors_alarm(300, 1)
    assert gate.evaluate(store.fetch, 300) == "OK"
    assert gate.evaluate(store.fetch, 360) == "ALARM"
    # ... and leaves the window five minutes later (a good call of minute 7 is the newest datapoint)
    assert gate.evaluate(store.fetch, 660) == "OK"


@pytest.mark.parametrize(
    ("period", "n", "m"), [(60, 1, None), (60, 3, 2), (300, 1, None), (300, 2, None), (3600, 1, None)]
)
@pytest.mark.parametrize("t0", [0.0, 1.0, 30.0, 59.0])
def test_the_rehearsed_alarm_fires_within_the_plans_bounds(
    period: int, n: int, m: int | None, t0: float
) -> None:
    # The rehearsal's evaluator and `plan`'s model agree: a version bad from t0, evaluated every clock
    # minute with the nominal visibility, first reaches ALARM after the proven floor, within the
    # nominal best and worst case (the worst without CodeDeploy's poll, which the engine adds).
    from safedeploy_core.timing import NOMINAL, detection

    timing = detection(period, n, m)
    store = _bad_from(t0, t0 + timing.worst_s + 120)
    gate = _lambda_errors_alarm(period, n, m)
    fired = next(
        e
        for e in range(60, int(t0) + timing.worst_s + 120, 60)
        if gate.evaluate(store.fetch, e, delay_s=NOMINAL.visibility_s) == "ALARM"
    )
    assert timing.floor_s < fired - t0
    assert timing.best_s <= fired - t0 + 1 <= timing.worst_s - timing.poll_s + 1


def test_a_wall_clock_window_reads_whole_clock_aligned_periods() -> None:
    # CloudFormation's EvaluationWindow: WallClockWindow aligns the window to the period's clock
    # boundaries: the error of minute 6 counts only once the period [300, 600) has ended
    from safedeploy.offline.metric_store import MetricStore, Record

    store = MetricStore("live")
    store.records.append(Record(330.0, "fn", "2", True, 5.0))
    gate = _lambda_errors_alarm(300, 1)
    gate.props["EvaluationWindow"] = {"WallClockWindow": {}}
    assert gate.evaluate(store.fetch, 360) == "OK"
    assert gate.evaluate(store.fetch, 540) == "OK"
    assert gate.evaluate(store.fetch, 600) == "ALARM"
