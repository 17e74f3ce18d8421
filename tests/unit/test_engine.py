"""The rehearsal's CodeDeploy engine on its own: a plain-Python account behind its `Cloud` port."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from safedeploy_core.smoke import load_cases
from safedeploy_core.timing import deployment_config

from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.engine import ROLLBACK_DEPLOYMENT_S, Engine, HookRun
from safedeploy.offline.service_overlay import ServiceError

FN = "fn"
CASES = load_cases(
    {"cases": [{"name": "echo", "event": {"message": "ping"}, "expect": {"json": {"ok": True}}}]}
)


def healthy(event: Any, context: Any) -> dict[str, Any]:
    return {"ok": True}


def broken(event: Any, context: Any) -> dict[str, Any]:
    raise RuntimeError("boom")


class FakeCloud:
    """Versions as handlers, the alias as (primary, weights), and every change the engine makes."""

    def __init__(self, versions: dict[str, Any], primary: str = "1") -> None:
        self.versions = versions
        self.alias: tuple[str, dict[str, float]] = (primary, {})
        self.routes: list[tuple[str, dict[str, float]]] = []
        self.statuses: list[str] = []
        self.metrics: list[dict[str, Any]] = []
        self.alarm_states: list[tuple[str, str]] = []
        self.rng = random.Random(1)

    def invoke(self, function: str, qualifier: str, payload: str) -> tuple[bytes, dict[str, str]]:
        primary, weights = self.alias
        version, draw = primary, self.rng.random()
        for candidate, weight in weights.items():
            if draw < weight:
                version = candidate
                break
            draw -= weight
        headers = {"x-amz-executed-version": version}
        try:
            result = self.versions[version](json.loads(payload), None)
        except Exception as exc:
            headers["x-amz-function-error"] = "Unhandled"
            result = {"errorMessage": str(exc)}
        return json.dumps(result).encode(), headers

    def route(self, function: str, alias: str, version: str, weights: dict[str, float]) -> None:
        self.alias = (version, dict(weights))
        self.routes.append(self.alias)

    def set_deployment_status(self, deployment_id: str, status: str) -> None:
        self.statuses.append(status)

    def put_metric_data(self, namespace: str, data: list[dict[str, Any]]) -> None:
        self.metrics.extend(data)

    def set_alarm_state(self, name: str, state: str) -> None:
        self.alarm_states.append((name, state))

    def invocations(self, version: str) -> float:
        return sum(
            d["StatisticValues"]["Sum"]
            for d in self.metrics
            if d["MetricName"] == "Invocations"
            and {"Name": "ExecutedVersion", "Value": version} in d["Dimensions"]
        )


def engine(cloud: FakeCloud, type_name: str = "Canary10Percent5Minutes", **kwargs: Any) -> Engine:
    config = deployment_config(type_name)
    assert config is not None
    defaults: dict[str, Any] = {
        "alarms": [],
        "pre_hook": None,
        "post_hook": None,
        "step_judge": None,
        "function_module": None,
        "speed": 1e9,
        "rps": 2,
        "traffic": CASES,
    }
    return Engine(cloud, FN, "live", "1", "2", config, **{**defaults, **kwargs})


def reporting(status: str, holder: dict[str, Engine]) -> HookRun:
    """A hook that reports `status` for its lifecycle event, as a real hook does through CodeDeploy."""

    def handler(event: dict[str, str], context: Any) -> dict[str, str]:
        put = holder["engine"].codedeploy_operations()["PutLifecycleEventHookExecutionStatus"]
        put({"lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"], "status": status})
        return {"reason": f"reported {status}"}

    return HookRun("hook", handler, {}, 60)


def test_a_healthy_canary_shifts_as_configured_and_succeeds() -> None:
    # GIVEN a healthy new version and a 5-minute canary
    cloud = FakeCloud({"1": healthy, "2": healthy})
    e = engine(cloud)
    # WHEN the deployment runs
    outcome = e.run(lambda: "d-1")
    # THEN 10 % moved first, then everything, and the deployment succeeded after the bake time
    assert outcome.status == "Succeeded" and outcome.caught_by is None
    assert cloud.routes == [("1", {"2": 0.1}), ("2", {})]
    assert cloud.statuses == ["InProgress", "Succeeded"]
    assert e.t_s >= 300
    # and the per-version metrics written are the requests served
    assert cloud.invocations("2") == e.requests["new_version"] > 0
    assert e.requests["faulty"] == 0


def test_a_failed_pre_traffic_hook_rolls_back_before_any_traffic() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    holder: dict[str, Engine] = {}
    holder["engine"] = e = engine(cloud, pre_hook=reporting("Failed", holder))
    outcome = e.run(lambda: "d-1")
    assert (outcome.status, outcome.caught_by) == ("Failed", "pre-traffic hook")
    assert e.requests["total"] == 0 and cloud.routes == [("1", {})]


def attempt_times(e: Engine) -> list[float]:
    return [ev.t_s for ev in e.events if ev.kind == "hook" and "Lambda retries" in ev.message]


def test_a_hook_that_keeps_raising_is_retried_by_lambda_then_fails_after_the_hour() -> None:
    # GIVEN a post-traffic hook that raises every time and has no dead-letter queue
    cloud = FakeCloud({"1": healthy, "2": healthy})
    e = engine(cloud, type_name="AllAtOnce", post_hook=HookRun("hook", broken, {}, 60))
    # WHEN the deployment runs
    outcome = e.run(lambda: "d-1")
    # THEN Lambda ran it three times (retries 1 and then 2 minutes apart), and CodeDeploy failed the
    # lifecycle event only when its hour was up; the traffic went back to the old version
    assert (outcome.status, outcome.caught_by) == ("Failed", "post-traffic hook")
    assert outcome.reason == "AfterAllowTraffic Failed (no status within one hour)"
    announced = attempt_times(e)  # after attempts 1 and 2: "retries in 60 s", then "in 120 s"
    assert len(announced) == 2 and announced[1] - announced[0] >= 60
    assert e.t_s >= 3600 and cloud.routes[-1] == ("1", {})


def test_a_hook_with_a_dead_letter_queue_fails_after_the_last_retry_not_the_hour() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    hook = HookRun("hook", broken, {}, 60, dead_letter=True)
    e = engine(cloud, type_name="AllAtOnce", post_hook=hook)
    outcome = e.run(lambda: "d-1")
    assert outcome.status == "Failed" and any("dead-letter queue" in ev.message for ev in e.events)
    assert 180 <= e.t_s < 600  # 1 + 2 minutes of retries and the consumer's report


def test_a_hook_that_raises_once_and_reports_on_the_retry_counts() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    holder: dict[str, Engine] = {}
    report = reporting("Succeeded", holder).handler
    calls: list[int] = []

    def flaky(event: dict[str, str], context: Any) -> dict[str, str]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("throttled")
        return report(event, context)

    holder["engine"] = e = engine(cloud, type_name="AllAtOnce", pre_hook=HookRun("hook", flaky, {}, 60))
    assert e.run(lambda: "d-1").status == "Succeeded"
    assert len(calls) == 2 and len(attempt_times(e)) == 1


def test_a_hook_that_returns_without_reporting_is_not_retried_and_waits_the_hour() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    calls: list[int] = []

    def silent(event: dict[str, str], context: Any) -> dict[str, str]:
        calls.append(1)
        return {}

    e = engine(cloud, type_name="AllAtOnce", pre_hook=HookRun("hook", silent, {}, 60))
    outcome = e.run(lambda: "d-1")
    assert outcome.reason == "BeforeAllowTraffic Failed (no status within one hour)"
    assert calls == [1] and e.t_s >= 3600 and e.requests["new_version"] == 0


def test_a_lifecycle_event_takes_one_status_only() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    holder: dict[str, Engine] = {}
    holder["engine"] = e = engine(cloud, type_name="AllAtOnce")
    put = e.codedeploy_operations()["PutLifecycleEventHookExecutionStatus"]
    with pytest.raises(ServiceError) as unknown:
        put({"lifecycleEventHookExecutionId": "nope", "status": "Succeeded"})
    assert unknown.value.code == "LifecycleEventHookExecutionIdNotFoundException"

    def twice(event: dict[str, str], context: Any) -> dict[str, str]:
        params = {
            "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
            "status": "Succeeded",
        }
        put(params)
        with pytest.raises(ServiceError) as again:
            put({**params, "status": "Failed"})
        assert again.value.code == "LifecycleEventAlreadyCompletedException"
        return {}

    e.pre_hook = HookRun("hook", twice, {}, 60)
    assert e.run(lambda: "d-1").status == "Succeeded"  # the first status counts


def error_gate() -> AlarmModel:
    return AlarmModel(
        "gate",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [
                {"Name": "FunctionName", "Value": FN},
                {"Name": "Resource", "Value": f"{FN}:live"},
                {"Name": "ExecutedVersion", "Value": "2"},
            ],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    )


def test_a_gate_alarm_on_the_new_version_rolls_back_during_the_canary() -> None:
    # GIVEN a new version that always fails and a gate on its own Errors series
    cloud = FakeCloud({"1": healthy, "2": broken})
    gate = error_gate()
    e = engine(cloud, alarms=[gate], rps=5)
    # WHEN the canary runs
    outcome = e.run(lambda: "d-1")
    # THEN the alarm fired inside the first step and the alias went back to v1
    assert (outcome.status, outcome.caught_by) == ("Stopped", "alarm gate")
    assert ("gate", "ALARM") in cloud.alarm_states
    assert cloud.routes == [("1", {"2": 0.1}), ("1", {})]
    assert outcome.rollback_s is not None and outcome.rollback_s < 300
    # the rollback is a deployment of its own: the split kept serving until it landed
    started, landed = (ev.t_s for ev in e.events if ev.kind == "rollback")
    assert landed - started == ROLLBACK_DEPLOYMENT_S and outcome.rollback_s == landed
    # and a stop request after the end is refused, as CodeDeploy refuses it
    with pytest.raises(ServiceError) as done:
        e.codedeploy_operations()["StopDeployment"]({"deploymentId": "d-1", "autoRollbackEnabled": True})
    assert done.value.code == "DeploymentAlreadyCompletedException"


def test_an_alarm_already_in_alarm_stops_the_deployment_before_anything_runs() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    gate = error_gate()
    gate.state = "ALARM"  # e.g. a function-wide alarm left in ALARM by the old version
    calls: list[int] = []
    hook = HookRun("hook", lambda event, context: calls.append(1) or {}, {}, 60)
    e = engine(cloud, alarms=[gate], pre_hook=hook)
    outcome = e.run(lambda: "d-1")
    assert (outcome.status, outcome.caught_by) == ("Stopped", "alarm gate")
    assert outcome.reason == "already in ALARM when the deployment started"
    assert calls == [] and e.requests["total"] == 0 and cloud.routes == [("1", {})]


def test_stop_deployment_without_rollback_leaves_the_split_as_it_was() -> None:
    cloud = FakeCloud({"1": healthy, "2": healthy})
    e = engine(cloud)
    stop = e.codedeploy_operations()["StopDeployment"]
    original = e._traffic

    def traffic_then_stop(start: float, dt: float, until_stop: bool = False) -> float | None:
        # someone stops it a minute into the canary
        stopped_at = original(start, dt, until_stop)
        if start >= 60 and e.stop_requested is None:
            stop({"deploymentId": "d-1", "autoRollbackEnabled": False})
        return stopped_at

    e._traffic = traffic_then_stop  # type: ignore[method-assign]
    outcome = e.run(lambda: "d-1")
    assert outcome.status == "Stopped" and outcome.rollback_s is None
    assert cloud.routes == [("1", {"2": 0.1})]  # still 10 % on v2: nothing moved it back


def test_the_step_judge_looks_every_look_s_within_each_minutes_run() -> None:
    # GIVEN a step judge that records when it looks and how long its run has left then
    holder: dict[str, Engine] = {}
    looks: list[tuple[float, float]] = []

    def judge(event: Any, context: Any) -> dict[str, Any]:
        looks.append((holder["engine"].t_s, context.get_remaining_time_in_millis() / 1000))
        return {"actions": []}

    e = engine(
        FakeCloud({"1": healthy, "2": healthy}),
        step_judge=HookRun("judge", judge, {"STEP_LOOK_S": "2"}, 60),
    )
    holder["engine"] = e
    # WHEN a healthy 5-minute canary runs
    assert e.run(lambda: "d-1").status == "Succeeded"
    # THEN each minute's run (from 60 s) looks every 2 s while a look and the 5-s reserve are left
    # (27 looks, the last 52 s in), and the canary's shift is not held up by it
    first_run = [t for t, _ in looks if 60 <= t < 120]
    assert first_run == [60.0 + 2 * k for k in range(27)]
    assert [t for t, _ in looks if 112 < t < 120] == []
    assert min(t for t, _ in looks if t >= 120) == 120.0
    assert all(left < 2 + 5 for _, left in looks)  # each call has time for one look only
    assert [ev.t_s for ev in e.events if ev.kind == "shift"] == [0.0, 300.0]


def test_the_requests_do_not_depend_on_how_the_clock_is_cut() -> None:
    # the same seed serves the same requests at the same times whether the clock moves in 10-s
    # ticks or in a judge's 5-s pauses: runs with and without a step judge are paired
    whole = engine(FakeCloud({"1": healthy}), rps=20)
    cut = engine(FakeCloud({"1": healthy}), rps=20)
    once = list(whole.arrivals.between(0, 60))
    pieces = [a for start in range(0, 60, 5) for a in cut.arrivals.between(start, start + 5)]
    assert once == pieces and len(once) == 1200  # one request per 1/rps slot
    assert [k for k, _ in once] == list(range(len(once)))


def test_what_happens_while_a_hook_waits_is_told(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an AllAtOnce shift to a broken version, and a post-traffic hook that prints (its output is
    # swallowed) and waits for metrics, as the real one does, while the gate fires
    holder: dict[str, Engine] = {}

    def post(event: Any, context: Any) -> dict[str, Any]:
        print("hook log line")
        holder["engine"].pause(120)
        return {"reason": "waited"}

    e = engine(
        FakeCloud({"1": healthy, "2": broken}),
        "AllAtOnce",
        alarms=[error_gate()],
        rps=5,
        post_hook=HookRun("post", post, {}, 180),
        on_event=lambda ev: print(f"EVENT {ev.kind}: {ev.message}"),
    )
    holder["engine"] = e
    outcome = e.run(lambda: "d-1")
    # THEN the alarm and the rollback are on the output, the hook's own lines are not
    out = capsys.readouterr().out
    assert outcome.caught_by == "alarm gate"
    assert "EVENT alarm: gate: OK -> ALARM" in out and "EVENT rollback: rollback deployment done" in out
    assert "hook log line" not in out


def test_the_metric_delay_setting_moves_the_rehearsed_alarm() -> None:
    from safedeploy_core.timing import Assumptions, assumed

    def fired(figures: Assumptions) -> float:
        cloud = FakeCloud({"1": healthy, "2": broken})
        with assumed(figures):
            e = engine(cloud, alarms=[error_gate()], rps=5)
        e.run(lambda: "d-1")
        return next(t for t, state in e.alarm_states["gate"] if state == "ALARM")

    # the engine reads the figure once, when it is built: two more minutes of delay, two minutes later
    assert fired(Assumptions(visibility_s=180)) - fired(Assumptions()) == 120


def test_a_stop_a_call_makes_takes_effect_at_that_calls_time() -> None:
    # GIVEN a new version that, on its 25th call, asks for StopDeployment with rollback (as the
    # in-band breaker does), well inside a 10-s tick of the rehearsal's clock
    cloud = FakeCloud({"1": healthy, "2": healthy})
    e = engine(cloud, rps=20)
    stop = e.codedeploy_operations("in-band breaker")["StopDeployment"]
    seen = {"calls": 0}

    def stopping(event: Any, context: Any) -> dict[str, Any]:
        seen["calls"] += 1
        if seen["calls"] == 25:
            stop({"deploymentId": "d-1", "autoRollbackEnabled": True})
        return {"ok": True}

    cloud.versions["2"] = stopping
    outcome = e.run(lambda: "d-1")
    # THEN the rollback starts when that call was served, not at the end of its tick
    started = next(ev.t_s for ev in e.events if ev.kind == "rollback")
    assert outcome.caught_by == "in-band breaker"
    assert started % 10 != 0 and outcome.rollback_s == pytest.approx(started + ROLLBACK_DEPLOYMENT_S, abs=0.1)
