"""BeforeAllowTraffic hook: every failure mode reports exactly one, correct status."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import app as hello_world
import boto3
import hook_support
import pre_traffic
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from safedeploy.offline.inprocess_lambda import InProcessLambda
from tests.helpers import (
    REGION,
    SMOKE_CASES,
    CodeDeployStub,
    FakeContext,
    lambda_role,
    load_event,
    publish_versions,
)

FN = "hello-fn"
TAGS = {"safedeploy:smoke-cases": "hello_world"}


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", f"arn:aws:lambda:{REGION}:123456789012:function:{FN},echo-fn")
    monkeypatch.setenv("SMOKE_CASE_LOCATION", str(SMOKE_CASES))
    monkeypatch.setenv("ENVIRONMENT_NAME", "dev")


@pytest.fixture
def aws(hook_env: None) -> Iterator[dict[str, Any]]:
    with mock_aws(), InProcessLambda().installed() as runtime:
        lam = boto3.client("lambda", region_name=REGION)
        role = lambda_role(boto3.client("iam", region_name=REGION))
        runtime.register(FN, hello_world.lambda_handler)
        cd = CodeDeployStub()
        hook_support.use_clients({"codedeploy": cd.client, "lambda": lam, "lambda-invoke": lam})
        yield {"lambda": lam, "role": role, "runtime": runtime, "cd": cd}
        hook_support.use_clients(None)


def run(event: Any = None, remaining_ms: int = 120_000) -> dict[str, Any]:
    event = load_event("pre_traffic.json") if event is None else event
    return pre_traffic.lambda_handler(event, FakeContext(remaining_ms=remaining_ms))  # type: ignore[no-any-return]


def deploy(aws: dict[str, Any], new_env: dict[str, str], name: str = FN, tags: dict[str, str] = TAGS) -> None:
    publish_versions(aws["lambda"], aws["role"], name, [{"FAULT_MODE": "none"}, new_env], tags)


def test_healthy_target_succeeds_and_only_the_new_version_was_invoked(aws: dict[str, Any]) -> None:
    # GIVEN version 1 live and a healthy version 2
    deploy(aws, {"FAULT_MODE": "none"})
    aws["cd"].deployment(FN, current="1", target="2")
    aws["cd"].report("Succeeded")
    # WHEN the hook runs
    out = run()
    # THEN it reported Succeeded once, after three passing cases, all answered by version 2
    aws["cd"].done()
    assert out["status"] == "Succeeded" and out["report"] == "reported"
    assert [c["passed"] for c in out["checks"]] == [True, True, True]
    assert {i.executed_version for i in aws["runtime"].invocations} == {"2"}
    assert len(aws["runtime"].invocations) == 3


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FAULT_MODE": "error"}, "function error (Unhandled): injected fault"),
        ({"FAULT_MODE": "bad-response"}, "$.message is missing"),
        ({"FAULT_MODE": "slow", "FAULT_SLOW_MS": "1600"}, "budget 1500 ms"),
    ],
)
def test_faulty_target_fails(aws: dict[str, Any], env: dict[str, str], expected: str) -> None:
    deploy(aws, env)
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed"
    assert expected in out["reason"]


def test_target_answering_500_fails(aws: dict[str, Any]) -> None:
    aws["runtime"].register(
        FN, lambda event, ctx: {"statusCode": 500, "body": json.dumps({"message": "boom"})}
    )
    deploy(aws, {})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "status 500, expected 200" in out["reason"]


def test_hung_target_fails_before_the_hook_deadline(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # GIVEN a version that sleeps 2.5 s and a hook with 0.4 s left before its margin
    monkeypatch.setenv("DEADLINE_MARGIN_S", "1")
    one_case = {"cases": [{"name": "hello", "request": {"path": "/hello"}, "expect": {"status": 200}}]}
    (tmp_path / "hello_world.json").write_text(json.dumps(one_case))
    monkeypatch.setenv("SMOKE_CASE_LOCATION", str(tmp_path))
    deploy(aws, {"FAULT_MODE": "slow", "FAULT_SLOW_MS": "2500"})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    started = time.monotonic()
    out = run(remaining_ms=1400)
    elapsed = time.monotonic() - started
    # THEN it reported Failed without waiting for the hung invocation
    aws["cd"].done()
    assert out["status"] == "Failed" and "hook's deadline" in out["reason"]
    assert elapsed < 2.5
    # (let the abandoned invocation finish so it cannot disturb the next test)
    for _ in range(100):
        if aws["runtime"].invocations:
            break
        time.sleep(0.05)


def test_a_ten_second_hook_invokes_the_version_and_reports_a_hung_one_within_its_timeout(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # GIVEN a hook whose Lambda timeout is 10 s, with the reserve scaled to it, and a version that hangs
    one_case = {"cases": [{"name": "hello", "request": {"path": "/hello"}, "expect": {"status": 200}}]}
    (tmp_path / "hello_world.json").write_text(json.dumps(one_case))
    monkeypatch.setenv("SMOKE_CASE_LOCATION", str(tmp_path))
    deploy(aws, {"FAULT_MODE": "slow", "FAULT_SLOW_MS": "11000"})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run(remaining_ms=10_000)
    # THEN it invoked the version (a fixed 25-s reserve left it no time at all) and its report went
    # out before the 10 s were up
    aws["cd"].done()
    assert out["status"] == "Failed" and "hook's deadline" in out["reason"]
    assert [c["check"] for c in out["checks"]] == ["hello"] and out["elapsed_ms"] < 10_000
    for _ in range(100):
        if aws["runtime"].invocations:
            break
        time.sleep(0.05)
    assert aws["runtime"].invocations


def test_the_reserve_scales_with_the_budget_and_its_report_fits_in_it() -> None:
    from safedeploy_core.deadline import MAX_RESERVE_S, MIN_RESERVE_S, Reserve

    for budget in (3, 10, 30, 60, 120, 180, 900):
        reserve = Reserve.for_budget(budget)
        assert MIN_RESERVE_S <= reserve.total_s <= MAX_RESERVE_S
        # grace, then every try at its full connect + read timeouts, with the standard backoff
        backoff = 2 ** (reserve.tries - 1) - 1
        report = reserve.tries * (reserve.connect_timeout_s + reserve.read_timeout_s) + backoff
        assert reserve.grace_s + report <= reserve.total_s + 0.05 and reserve.tries >= 2
    assert Reserve.for_budget(10).total_s == MIN_RESERVE_S  # 4 s of checks in a 10-s hook
    assert Reserve.for_budget(120).total_s == 25.0 and Reserve.for_budget(120).tries == 3
    assert Reserve.for_budget(10, fixed_s=3.0).total_s == 3.0


def test_access_denied_on_codedeploy_still_reports_failed(aws: dict[str, Any]) -> None:
    aws["cd"].error("get_deployment", "AccessDeniedException")
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "GetDeployment failed: AccessDeniedException" in out["reason"]


def test_access_denied_on_lambda_invoke_fails(aws: dict[str, Any]) -> None:
    deploy(aws, {})
    denied = boto3.client("lambda", region_name=REGION)
    stub = Stubber(denied)
    for _ in range(3):
        stub.add_client_error("invoke", "AccessDeniedException", "not authorized", 403)
    stub.activate()
    hook_support.use_clients(
        {"codedeploy": aws["cd"].client, "lambda": aws["lambda"], "lambda-invoke": denied}
    )
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    stub.assert_no_pending_responses()
    assert out["status"] == "Failed" and "Invoke failed: AccessDeniedException" in out["reason"]


def test_already_completed_report_counts_as_done(aws: dict[str, Any]) -> None:
    deploy(aws, {})
    aws["cd"].deployment(FN)
    aws["cd"].report("Succeeded", error_code="LifecycleEventAlreadyCompletedException")
    out = run()
    aws["cd"].done()
    assert out["report"] == "already-completed"


def test_report_that_cannot_be_sent_raises_so_lambda_retries(aws: dict[str, Any]) -> None:
    deploy(aws, {})
    aws["cd"].deployment(FN)
    aws["cd"].report("Succeeded", error_code="AccessDeniedException")
    with pytest.raises(hook_support.StatusNotReported, match="AccessDeniedException"):
        run()
    aws["cd"].done()


@pytest.mark.parametrize(
    ("event", "missing"),
    [
        ({}, "DeploymentId and LifecycleEventHookExecutionId"),
        ({"DeploymentId": "d-1"}, "LifecycleEventHookExecutionId"),
        ({"LifecycleEventHookExecutionId": "x"}, "DeploymentId"),
    ],
)
def test_malformed_event_names_the_missing_field_and_calls_nothing(
    aws: dict[str, Any], event: dict[str, str], missing: str
) -> None:
    out = run(event)
    aws["cd"].done()  # no call was expected, none was made
    assert out["status"] == "Failed" and out["report"] == "not-reported: malformed event"
    assert f"lacks {missing}" in out["reason"]


def test_function_outside_the_allow_list_is_refused_without_invoking(aws: dict[str, Any]) -> None:
    deploy(aws, {}, name="other-fn")
    aws["runtime"].register("other-fn", hello_world.lambda_handler)
    aws["cd"].deployment("other-fn")
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "not in this hook's allow-list" in out["reason"]
    assert aws["runtime"].invocations == []


def test_function_without_smoke_case_tag_fails(aws: dict[str, Any]) -> None:
    deploy(aws, {}, tags={})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "has no tag 'safedeploy:smoke-cases'" in out["reason"]


def test_invalid_smoke_case_file_fails(
    aws: dict[str, Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hello_world.json").write_text(
        json.dumps({"cases": [{"name": "x", "request": {"path": "nope"}, "expect": {"status": 200}}]})
    )
    monkeypatch.setenv("SMOKE_CASE_LOCATION", str(tmp_path))
    deploy(aws, {})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and ".path must be a string starting with '/'" in out["reason"]


def test_misconfigured_hook_reports_failed(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "")
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "ALLOWED_FUNCTIONS is empty" in out["reason"]


def test_a_bug_in_the_checks_still_reports_failed(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(pre_traffic, "run_invoke_cases", broken)
    deploy(aws, {})
    aws["cd"].deployment(FN)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and out["reason"] == "unexpected ZeroDivisionError: bug"


def test_a_judge_policy_that_is_not_json_is_a_configuration_error() -> None:
    from safedeploy_core.config import HookConfig
    from safedeploy_core.errors import ConfigError

    env = {"ALLOWED_FUNCTIONS": "fn"}
    assert (
        HookConfig.from_env({**env, "JUDGE_POLICY": '{"confidence": 0.995}'}).judge_policy.confidence == 0.995
    )
    for bad in ("{nope", '{"confidance": 1}', "[1]"):
        with pytest.raises(ConfigError, match="JUDGE_POLICY is not a valid judge policy"):
            HookConfig.from_env({**env, "JUDGE_POLICY": bad})
    assert HookConfig.from_env({**env, "ENVIRONMENT_NAME": "prod"}).undecided_verdict == "fail"
    assert HookConfig.from_env(env).undecided_verdict == "pass"


@pytest.mark.parametrize(
    ("hooks", "expected"),
    [
        # the AppSpec names this function, but only for the other lifecycle event
        ({"AfterAllowTraffic": "PreTrafficHook"}, "the AppSpec names no BeforeAllowTraffic hook"),
        (
            {"BeforeAllowTraffic": "someone-else", "AfterAllowTraffic": "PreTrafficHook"},
            "hook is someone-else",
        ),
    ],
)
def test_a_hook_runs_only_for_the_lifecycle_event_the_appspec_gives_it(
    aws: dict[str, Any], hooks: dict[str, str], expected: str
) -> None:
    deploy(aws, {"FAULT_MODE": "none"})
    aws["cd"].deployment(FN, hooks=hooks)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and expected in out["reason"]
    assert aws["runtime"].invocations == []  # nothing was invoked for a request not meant for it


def test_a_deployment_of_another_application_fails(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYMENT_APPLICATION", "my-app")
    deploy(aws, {"FAULT_MODE": "none"})
    aws["cd"].deployment(FN, application="other-app")
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert (
        out["status"] == "Failed"
        and "belongs to application other-app; this hook serves my-app" in out["reason"]
    )
    assert aws["runtime"].invocations == []


def test_a_deployment_on_another_compute_platform_fails(aws: dict[str, Any]) -> None:
    deploy(aws, {"FAULT_MODE": "none"})
    aws["cd"].deployment(FN, platform="ECS")
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "compute platform ECS, not Lambda" in out["reason"]
