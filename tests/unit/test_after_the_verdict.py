"""Nothing is started after the hook's deadline, and nothing is sent after its status."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

from safedeploy_core.clients import Clients
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import Deadline
from safedeploy_core.invoke_checks import run_invoke_cases
from safedeploy_core.notify import Notice
from safedeploy_core.runner import CheckRun
from safedeploy_core.smoke import CheckResult, load_cases

from tests.helpers import CodeDeployStub, FakeContext, RecordingSns, load_event

CASES = load_cases(
    {"cases": [{"name": f"case {i}", "event": {}, "expect": {"json": {"ok": True}}} for i in range(3)]}
)


class CountingTarget:
    """A Lambda client whose version answers after `delay_s`; counts the invocations it received."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.calls = delay_s, 0
        self.lock = threading.Lock()

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay_s)
        body = json.dumps({"ok": True}).encode()
        return {"StatusCode": 200, "ExecutedVersion": kwargs["Qualifier"], "Payload": io.BytesIO(body)}


def test_cases_queued_past_the_deadline_are_not_started() -> None:
    # GIVEN one worker, three cases, and a target slower than the deadline
    target = CountingTarget(0.4)
    results = run_invoke_cases(target, "fn", "2", CASES, Deadline.in_seconds(0.2), max_workers=1)
    time.sleep(0.6)  # let the first, abandoned invocation end
    # THEN only the first case was ever invoked; the others say why they did not run
    assert target.calls == 1
    assert [r.passed for r in results] == [False, False, False]
    assert all("deadline" in r.reason for r in results)


def test_no_budget_means_no_invocation_and_an_immediate_failed_report(monkeypatch: Any) -> None:
    import hook_support
    import pre_traffic

    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("DEADLINE_MARGIN_S", "25")
    cd = CodeDeployStub()
    cd.report("Failed")  # no GetDeployment: nothing is started at all
    target = CountingTarget(0.0)
    hook_support.use_clients({"codedeploy": cd.client, "lambda-invoke": target})
    try:
        # 25 s left = exactly the reserve it was given: 0 ms of budget for checks
        out = pre_traffic.lambda_handler(load_event("pre_traffic.json"), FakeContext(remaining_ms=25_000))
    finally:
        hook_support.use_clients(None)
    cd.done()
    assert out["status"] == "Failed" and out["reason"] == "no time left before the deadline"
    assert target.calls == 0


def test_a_verdict_that_arrives_after_the_deadline_is_never_published(monkeypatch: Any) -> None:
    import hook_support

    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("DEADLINE_MARGIN_S", "1")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:topic")
    cd = CodeDeployStub()
    cd.deployment("hello-fn")
    cd.report("Failed")
    sns = RecordingSns()

    def late_checks(cl: Clients, config: HookConfig) -> Any:
        def checks(deployment: Any, deadline: Deadline) -> CheckRun:
            time.sleep(2.6)  # the judge's GetMetricData is slow today: past the deadline and its 2 s grace
            return CheckRun([CheckResult("judge", True, "PASS", 1.0)], [Notice("Canary PASS", "all good")])

        return checks

    hook_support.use_clients({"codedeploy": cd.client, "sns": sns})
    try:
        context = FakeContext(remaining_ms=1_300, function_name="PostTrafficHook")
        out = hook_support.handle("AfterAllowTraffic", load_event("post_traffic.json"), context, late_checks)
        time.sleep(0.6)  # the abandoned worker finishes its checks meanwhile
    finally:
        hook_support.use_clients(None)
    cd.done()
    assert out["status"] == "Failed" and "did not finish before the hook's deadline" in out["reason"]
    assert sns.published == []  # its PASS verdict was dropped with it


def test_a_verdict_in_time_is_published_after_the_report(monkeypatch: Any) -> None:
    import hook_support

    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:topic")
    cd = CodeDeployStub()
    cd.deployment("hello-fn")
    cd.report("Succeeded")
    order: list[str] = []
    cd.client.meta.events.register(
        "before-parameter-build.codedeploy.PutLifecycleEventHookExecutionStatus",
        lambda **kw: order.append("report"),
    )
    sns = RecordingSns()
    sns_publish = sns.publish
    sns.publish = lambda **kw: (order.append("publish"), sns_publish(**kw))[1]  # type: ignore[method-assign]

    def checks_in_time(cl: Clients, config: HookConfig) -> Any:
        return lambda deployment, deadline: CheckRun(
            [CheckResult("judge", True, "PASS", 1.0)], [Notice("Canary PASS", "all good")]
        )

    hook_support.use_clients({"codedeploy": cd.client, "sns": sns})
    try:
        context = FakeContext(function_name="PostTrafficHook")
        out = hook_support.handle(
            "AfterAllowTraffic", load_event("post_traffic.json"), context, checks_in_time
        )
    finally:
        hook_support.use_clients(None)
    cd.done()
    assert out["status"] == "Succeeded"
    assert order == ["report", "publish"] and sns.published[0]["Subject"] == "Canary PASS"


def test_work_abandoned_at_the_deadline_ends_within_the_invocation_after_the_report(monkeypatch: Any) -> None:
    import hook_support

    # GIVEN a hung smoke invocation (1.5 s) and a deadline 0.4 s away, with time left after it
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("DEADLINE_MARGIN_S", "3.6")
    cd = CodeDeployStub()
    cd.deployment("hello-fn")
    cd.report("Failed")
    reported_at: list[float] = []
    cd.client.meta.events.register(
        "before-parameter-build.codedeploy.PutLifecycleEventHookExecutionStatus",
        lambda **kw: reported_at.append(time.monotonic()),
    )
    target = CountingTarget(1.5)

    def hung_checks(cl: Clients, config: HookConfig) -> Any:
        return lambda deployment, deadline: CheckRun(
            run_invoke_cases(target, "hello-fn", "2", CASES[:1], deadline, max_workers=1)
        )

    hook_support.use_clients({"codedeploy": cd.client})
    started = time.monotonic()
    try:
        context = FakeContext(remaining_ms=4_000)
        out = hook_support.handle("BeforeAllowTraffic", load_event("pre_traffic.json"), context, hung_checks)
    finally:
        hook_support.use_clients(None)
    cd.done()
    # THEN the report left at the deadline, and the hung invocation ended before the handler returned
    assert out["status"] == "Failed"
    assert reported_at[0] - started < 1.0
    assert time.monotonic() - started >= 1.4
    from safedeploy_core.deadline import ABANDONED

    assert ABANDONED.drain(0) == 0  # nothing left to resume in the next invocation
