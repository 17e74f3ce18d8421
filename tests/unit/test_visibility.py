"""One metric-visibility model for every reader of the rehearsal's metrics."""

from __future__ import annotations

from safedeploy.offline import visibility
from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.metric_store import MetricStore, Record

FN = "fn"
BY_VERSION = [
    {"Name": "FunctionName", "Value": FN},
    {"Name": "Resource", "Value": f"{FN}:live"},
    {"Name": "ExecutedVersion", "Value": "2"},
]


def store() -> MetricStore:
    s = MetricStore(alias="live")
    s.records += [Record(t, FN, "2", False, 10.0) for t in (5.0, 30.0, 65.0)]
    return s


def stat(dims: list[dict[str, str]]) -> dict[str, object]:
    return {"Namespace": "AWS/Lambda", "MetricName": "Invocations", "Dimensions": dims, "Stat": "Sum"}


def test_a_series_holds_only_what_was_published_before_its_end() -> None:
    # at t = 40 s only the requests of t = 5 and t = 30 exist; the partial minute counts what has arrived
    assert store().series(stat(BY_VERSION), 0, 40, 60) == [(0.0, 2.0)]
    assert store().series(stat(BY_VERSION), 0, 70, 60) == [(0.0, 2.0), (60.0, 1.0)]


def test_only_the_dimension_sets_lambda_publishes_have_data() -> None:
    s = store()
    assert s.fetch(stat(BY_VERSION), 0, 60) == 2.0
    assert s.fetch(stat([{"Name": "FunctionName", "Value": FN}]), 0, 60) == 2.0
    assert s.fetch(stat(BY_VERSION[:2]), 0, 60) == 2.0
    # {FunctionName, ExecutedVersion} is never published: CloudWatch has nothing for it
    assert s.fetch(stat([BY_VERSION[0], BY_VERSION[2]]), 0, 60) is None
    assert s.fetch(stat([BY_VERSION[2]]), 0, 60) is None


def test_every_reader_takes_the_delay_of_its_metric() -> None:
    assert visibility.of_namespace("AWS/Lambda") is visibility.LAMBDA
    assert visibility.of_namespace("AWS/ApiGateway") is visibility.API_GATEWAY
    assert visibility.of_namespace("SafeDeploySample") is visibility.EMF
    assert visibility.delay_s(["AWS/Lambda", "SafeDeploySample"]) == max(
        visibility.LAMBDA.delay_s, visibility.EMF.delay_s
    )
    assert all(v.basis for v in visibility.assumptions())


def test_a_metric_math_alarm_names_the_namespaces_it_reads() -> None:
    alarm = AlarmModel(
        "a",
        {
            "Metrics": [
                {
                    "Id": "e",
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
                {
                    "Id": "r",
                    "MetricStat": {
                        "Metric": {"Namespace": "Custom", "MetricName": "Requests"},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
                {"Id": "rate", "Expression": "e / r"},
            ],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
        },
    )
    assert alarm.namespaces() == ["AWS/Lambda", "Custom"]


def test_lambda_metrics_have_one_minute_resolution_on_clock_minutes() -> None:
    s = MetricStore(alias="live", clock_offset_s=30.0)  # t = 0 is 30 s past a clock minute
    s.records += [Record(t, FN, "2", False, 10.0) for t in (5.0, 25.0, 35.0, 50.0)]
    # t = 5 and 25 lie in the clock minute [-30, 30), t = 35 and 50 in [30, 90)
    assert s.fetch(stat(BY_VERSION), -30, 60) == 2.0
    assert s.fetch(stat(BY_VERSION), 30, 60) == 2.0
    # a 10-s period finds a 1-minute metric only in the period that holds the minute's timestamp
    ten_second = [s.fetch(stat(BY_VERSION), t, 10) for t in (30, 40, 50, 60, 70, 80)]
    assert ten_second == [2.0, None, None, None, None, None]


def test_alarm_periods_start_on_clock_boundaries() -> None:
    seen: list[float] = []

    def fetch(stat: object, start: float, period: int) -> float | None:
        seen.append(start)
        return None

    alarm = AlarmModel(
        "a",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )
    alarm.evaluate(fetch, 200, delay_s=60, clock_offset_s=30.0)
    # visible up to t = 140 (clock 170): the last clock minute that has ended is t = [30, 90)
    assert seen[-1] == 30.0 and all((start + 30.0) % 60 == 0 for start in seen)


def test_the_delay_is_the_metric_delay_setting_read_when_asked() -> None:
    from safedeploy_core.timing import Assumptions, assumed

    assert visibility.LAMBDA.delay_s == 60
    with assumed(Assumptions(visibility_s=150)):
        assert visibility.delay_s(["AWS/Lambda", "SafeDeploySample"]) == 150
        assert visibility.of_namespace("AWS/ApiGateway").delay_s == 150
