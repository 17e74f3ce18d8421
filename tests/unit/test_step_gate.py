"""The scheduled judge between traffic steps: stop a bad canary, leave everything else alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import hook_support
import pytest
import step_judge
from botocore.stub import Stubber
from safedeploy_core.metrics import EmfSource
from safedeploy_core.sequential import SequentialPolicy
from safedeploy_core.step_gate import run_step_gate, run_step_gate_loop
from safedeploy_core.timing import STEP_LOOK_S

from tests.helpers import (
    APP,
    DEPLOYMENT_START,
    GROUP,
    CodeDeployStub,
    FakeContext,
    StoreCloudWatch,
    canary_records,
    load_event,
)

NOW = DEPLOYMENT_START + timedelta(minutes=4)
POLICY = SequentialPolicy(alpha=0.01)
ALLOWED = frozenset({"hello-fn"})


def in_progress(cd: CodeDeployStub, ids: list[str]) -> None:
    cd.stubber.add_response(
        "list_deployment_groups",
        {"applicationName": APP, "deploymentGroups": [GROUP]},
        {"applicationName": APP},
    )
    cd.stubber.add_response(
        "list_deployments",
        {"deployments": ids},
        {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": ["InProgress"]},
    )


def seen(seconds: float, *records: tuple[float, str, bool, float]) -> StoreCloudWatch:
    """CloudWatch holding `records`, `seconds` after the deployment began."""
    cw = StoreCloudWatch(list(records))
    cw.now_s = seconds
    return cw


def canary(new_error: float, seconds: int = 240, slow: float = 1.0, emf: bool = False) -> StoreCloudWatch:
    cw = StoreCloudWatch(canary_records(seconds, 5, new_error, slow), emf=emf)
    cw.now_s = seconds
    return cw


def test_a_failing_canary_is_stopped_with_rollback() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response(
        "stop_deployment",
        {"status": "Pending", "statusMessage": "ok"},
        {"deploymentId": "d-1", "autoRollbackEnabled": True},
    )
    actions = run_step_gate(cd.client, canary(0.2), APP, ALLOWED, POLICY, now=NOW)
    cd.done()
    assert [(a.deployment_id, a.verdict.verdict, a.action) for a in actions] == [("d-1", "FAIL", "stopped")]
    assert "errors (Lambda 1-min)" in actions[0].verdict.reason


def test_a_healthy_canary_is_watched_not_passed() -> None:
    # the sequential test only ever stops: "no proof yet" is all a healthy version earns mid-shift
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    actions = run_step_gate(cd.client, canary(0.01), APP, ALLOWED, POLICY, now=NOW)
    cd.done()
    assert [(a.verdict.verdict, a.action) for a in actions] == [("INCONCLUSIVE", "watching")]
    assert {m.name for m in actions[0].verdict.metrics} == {"error_rate", "latency_p99"}


def test_a_slower_canary_is_stopped_on_latency() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response("stop_deployment", {}, {"deploymentId": "d-1", "autoRollbackEnabled": True})
    actions = run_step_gate(cd.client, canary(0.01, slow=2.0), APP, ALLOWED, POLICY, now=NOW)
    failed = [m.name for m in actions[0].verdict.metrics if m.result == "FAIL"]
    assert (actions[0].action, failed) == ("stopped", ["latency_p99"])


def test_only_settled_periods_count() -> None:
    # GIVEN every call of v2 failing, but only during the last 50 s: not yet visible-and-complete
    calls = [(s + i / 10, "1", False, 100.0) for s in range(170) for i in range(10)]
    calls += [(170 + s + i / 10, v, v == "2", 100.0) for s in range(50) for i in range(10) for v in "12"]
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cw = seen(220, *calls)
    actions = run_step_gate(
        cd.client, cw, APP, ALLOWED, POLICY, now=DEPLOYMENT_START + timedelta(seconds=220)
    )
    assert actions[0].verdict.verdict != "FAIL"
    ends = {call["EndTime"] for call in cw.calls if call["StartTime"] == DEPLOYMENT_START}
    assert ends == {DEPLOYMENT_START + timedelta(seconds=160)}  # now - 60 s: 1-s periods, all complete
    # WHEN the same calls have settled, a minute later THEN it stops
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response("stop_deployment", {}, {"deploymentId": "d-1", "autoRollbackEnabled": True})
    later = seen(300, *calls)
    actions = run_step_gate(
        cd.client, later, APP, ALLOWED, POLICY, now=DEPLOYMENT_START + timedelta(seconds=300)
    )
    assert actions[0].action == "stopped"


def test_emf_counts_are_used_when_both_versions_emit_them() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response("stop_deployment", {}, {"deploymentId": "d-1", "autoRollbackEnabled": True})
    emf = EmfSource("SafeDeploy", "hello")
    actions = run_step_gate(cd.client, canary(0.2, emf=True), APP, ALLOWED, POLICY, now=NOW, emf=emf)
    assert actions[0].action == "stopped" and "errors (EMF 1-s)" in actions[0].verdict.reason


def test_emf_latency_stops_a_slower_canary_a_minute_before_lambdas_minutes_could() -> None:
    # 150 s in: the old version's first minute fixed the threshold; 30 s of 1-s EMF periods have
    # settled since, while Lambda's next minute [60 s, 120 s) is visible only at 180 s
    now = DEPLOYMENT_START + timedelta(seconds=150)
    emf = EmfSource("SafeDeploy", "hello")
    outcomes = []
    for with_emf in (True, False):
        cd = CodeDeployStub()
        in_progress(cd, ["d-1"])
        cd.deployment("hello-fn", deployment_id="d-1")
        cd.stubber.add_response("stop_deployment", {}, {"deploymentId": "d-1", "autoRollbackEnabled": True})
        cw = canary(0.01, seconds=150, slow=2.0, emf=with_emf)
        action = run_step_gate(cd.client, cw, APP, ALLOWED, POLICY, now=now, emf=emf if with_emf else None)[0]
        latency = next(m for m in action.verdict.metrics if m.name == "latency_p99")
        outcomes.append((action.action, latency.result, "EMF 1-s" in latency.reason))
    assert outcomes == [("stopped", "FAIL", True), ("watching", "INCONCLUSIVE", False)]


def test_before_anything_settled_it_is_nodata_and_asks_nothing() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cw = seen(30)
    actions = run_step_gate(cd.client, cw, APP, ALLOWED, POLICY, now=DEPLOYMENT_START + timedelta(seconds=30))
    assert [(a.verdict.verdict, a.action) for a in actions] == [("NODATA", "watching")]
    assert cw.calls == []


def test_a_deployment_that_ended_meanwhile_is_not_an_error() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.error("stop_deployment", "DeploymentAlreadyCompletedException")
    actions = run_step_gate(cd.client, canary(0.2), APP, ALLOWED, POLICY, now=NOW)
    assert actions[0].action == "ended-meanwhile"


def test_nothing_in_progress_means_no_call_to_cloudwatch() -> None:
    cd = CodeDeployStub()
    in_progress(cd, [])
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    Stubber(cw).activate()  # any call would fail
    assert run_step_gate(cd.client, cw, APP, ALLOWED, POLICY, now=NOW) == []


def test_functions_outside_the_allow_list_are_not_judged() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("other-fn", deployment_id="d-1")
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    Stubber(cw).activate()
    actions = run_step_gate(cd.client, cw, APP, ALLOWED, POLICY, now=NOW)
    assert actions[0].action == "skipped: not allowed"


class Clock:
    """Simulated time for the loop: sleeping advances it, and CloudWatch sees what has happened."""

    def __init__(self, cw: StoreCloudWatch, start_s: float, timeout_s: float = 60.0) -> None:
        self.cw, self.t, self.end = cw, start_s, start_s + timeout_s
        self.cw.now_s = start_s
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return DEPLOYMENT_START + timedelta(seconds=self.t)

    def remaining(self) -> float:
        return self.end - self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        self.cw.now_s = self.t


def test_the_loop_looks_every_look_s_until_its_timeout_nears() -> None:
    cd = CodeDeployStub()
    for _ in range(6):
        in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")  # fetched once per invocation
    clock = Clock(StoreCloudWatch(canary_records(300, 5, 0.01)), 180)
    actions, looks = run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep, look_s=10
    )
    cd.done()
    # looks at 0, 10, ... 50 s: after the last, 10 s are left, less than a look and its reserve
    assert (looks, clock.sleeps) == (6, [10.0] * 5)
    assert [(a.action, a.verdict.verdict) for a in actions] == [("watching", "INCONCLUSIVE")]


def test_the_loop_ends_once_it_stopped_its_deployment() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response("stop_deployment", {}, {"deploymentId": "d-1", "autoRollbackEnabled": True})
    clock = Clock(StoreCloudWatch(canary_records(300, 5, 0.2)), 240)
    actions, looks = run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep
    )
    cd.done()
    assert (looks, clock.sleeps, [a.action for a in actions]) == (1, [], ["stopped"])


def test_the_loop_ends_when_the_deployment_ends_meanwhile() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    in_progress(cd, [])  # it succeeded before the second look
    clock = Clock(StoreCloudWatch(canary_records(300, 5, 0.01)), 240)
    actions, looks = run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep
    )
    cd.done()
    assert (looks, clock.sleeps, [a.action for a in actions]) == (2, [STEP_LOOK_S], ["watching"])


def test_with_nothing_in_progress_the_loop_exits_at_once() -> None:
    cd = CodeDeployStub()
    in_progress(cd, [])
    clock = Clock(StoreCloudWatch([]), 0)
    assert run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep
    ) == ([], 1)
    assert clock.sleeps == []


def test_handler_without_configuration_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.delenv("DEPLOYMENT_APPLICATION", raising=False)
    hook_support.use_clients({})
    out = step_judge.lambda_handler(load_event("schedule.json"), FakeContext())
    hook_support.use_clients(None)
    assert out == {"actions": [], "error": "DEPLOYMENT_APPLICATION is empty"}


def test_one_broken_deployment_does_not_blind_the_judge_to_the_others() -> None:
    # GIVEN three deployments in progress: a malformed AppSpec, a throttled stop, and a bad canary
    cd = CodeDeployStub()
    in_progress(cd, ["d-1", "d-2", "d-3"])
    cd.stubber.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": "d-1",
                "applicationName": APP,
                "deploymentGroupName": GROUP,
                "revision": {"revisionType": "AppSpecContent"},
            }
        },
        {"deploymentId": "d-1"},
    )
    cd.stubber.add_response(
        "get_application_revision",
        {
            "applicationName": APP,
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{"}},
        },
    )
    cd.deployment("hello-fn", deployment_id="d-2")
    cd.deployment("hello-fn", deployment_id="d-3")
    # (both are read in one GetMetricData, then each is judged and stopped in turn)
    cd.stubber.add_client_error("stop_deployment", "ThrottlingException", "Rate exceeded")
    cd.stubber.add_response(
        "stop_deployment", {"status": "Pending"}, {"deploymentId": "d-3", "autoRollbackEnabled": True}
    )
    # WHEN the judge looks (d-2 and d-3 are both judged)
    actions = run_step_gate(cd.client, canary(0.2), APP, ALLOWED, POLICY, now=NOW)
    # THEN each broken one is an error with its reason, and the bad canary is still stopped
    cd.done()
    assert [(a.deployment_id, a.action) for a in actions] == [
        ("d-1", "error"),
        ("d-2", "error"),
        ("d-3", "stopped"),
    ]
    assert "AppSpec" in actions[0].detail and "ThrottlingException" in actions[1].detail


def test_a_run_that_cannot_list_deployments_ends_with_an_error_not_an_exception() -> None:
    # raising would make Lambda run the scheduled event again, beside the next minute's run
    cd = CodeDeployStub()
    cd.error("list_deployment_groups", "ThrottlingException")
    clock = Clock(StoreCloudWatch([]), 0)
    actions, looks = run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep
    )
    assert (looks, [a.action for a in actions]) == (1, ["error"])
    assert "ThrottlingException" in actions[0].detail and clock.sleeps == []


def test_one_look_reads_every_deployment_in_one_call() -> None:
    # GIVEN two deployments in progress (GetMetricData is billed per metric, but each call counts
    # against CloudWatch's request quota)
    cd = CodeDeployStub()
    in_progress(cd, ["d-1", "d-2"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.deployment("hello-fn", deployment_id="d-2")
    for deployment_id in ("d-1", "d-2"):
        cd.stubber.add_response(
            "stop_deployment",
            {"status": "Pending"},
            {"deploymentId": deployment_id, "autoRollbackEnabled": True},
        )
    cw = canary(0.2)
    # WHEN the judge looks once
    actions = run_step_gate(cd.client, cw, APP, ALLOWED, POLICY, now=NOW)
    # THEN both are judged as one alone would be, from reads that each cover both deployments
    assert [(a.deployment_id, a.action) for a in actions] == [("d-1", "stopped"), ("d-2", "stopped")]
    reads = [c for c in cw.calls if c["StartTime"] >= DEPLOYMENT_START]  # not the hour-before threshold
    assert reads and all(
        {q["Id"].split("_", 1)[0] for q in c["MetricDataQueries"]} == {"d0", "d1"} for c in reads
    )
    alone = canary(0.2)
    single = CodeDeployStub()
    in_progress(single, ["d-1"])
    single.deployment("hello-fn", deployment_id="d-1")
    single.stubber.add_response(
        "stop_deployment", {"status": "Pending"}, {"deploymentId": "d-1", "autoRollbackEnabled": True}
    )
    (one,) = run_step_gate(single.client, alone, APP, ALLOWED, POLICY, now=NOW)
    assert one.verdict == actions[0].verdict == actions[1].verdict
    assert len([c for c in alone.calls if c["StartTime"] >= DEPLOYMENT_START]) == len(reads)


def test_every_page_of_deployment_groups_is_watched() -> None:
    # GIVEN an application whose deployment groups come in two pages
    cd = CodeDeployStub()
    cd.stubber.add_response(
        "list_deployment_groups",
        {"applicationName": APP, "deploymentGroups": [GROUP], "nextToken": "t"},
        {"applicationName": APP},
    )
    cd.stubber.add_response(
        "list_deployment_groups",
        {"applicationName": APP, "deploymentGroups": ["other-group"]},
        {"applicationName": APP, "nextToken": "t"},
    )
    for group in (GROUP, "other-group"):
        cd.stubber.add_response(
            "list_deployments",
            {"deployments": []},
            {"applicationName": APP, "deploymentGroupName": group, "includeOnlyStatuses": ["InProgress"]},
        )
    # WHEN the judge looks, THEN it asked about both groups
    assert run_step_gate(cd.client, StoreCloudWatch([]), APP, ALLOWED, POLICY, now=NOW) == []
    cd.done()


@pytest.mark.parametrize("with_emf", [False, True])
def test_per_minute_series_are_read_again_only_once_another_minute_settled(with_emf: bool) -> None:
    # GIVEN a healthy canary watched for a whole run (2-s looks over about 55 s)
    cd = CodeDeployStub()
    for _ in range(28):
        in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    emf = EmfSource("SafeDeploy", "hello") if with_emf else None
    clock = Clock(StoreCloudWatch(canary_records(300, 5, 0.01), emf=with_emf), 150)
    actions, looks = run_step_gate_loop(
        cd.client, clock.cw, APP, ALLOWED, POLICY, clock.remaining, clock.now, clock.sleep, emf=emf
    )
    # THEN the per-minute series were asked for at the first look and when the next minute settled
    minute_reads = [
        q["Id"]
        for c in clock.cw.calls
        if c["StartTime"] >= DEPLOYMENT_START
        for q in c["MetricDataQueries"]
        if q["MetricStat"]["Period"] == 60
    ]
    per_look = 8 if not with_emf else 4  # Lambda's Invocations, Errors and latency, per version
    assert looks > 20 and len(minute_reads) <= 2 * per_look + 2
    # AND the last look's verdict is the one a fresh look, reading everything, gives
    fresh = CodeDeployStub()
    in_progress(fresh, ["d-1"])
    fresh.deployment("hello-fn", deployment_id="d-1")
    (again,) = run_step_gate(fresh.client, clock.cw, APP, ALLOWED, POLICY, now=clock.now(), emf=emf)
    assert actions[0].verdict == again.verdict
