"""The scheduled judge between traffic steps: stop a bad canary, leave everything else alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import hook_support
import pytest
import step_judge
from botocore.stub import Stubber
from safedeploy_core.judge import Policy
from safedeploy_core.step_gate import run_step_gate

from tests.helpers import (
    APP,
    DEPLOYMENT_START,
    GROUP,
    CodeDeployStub,
    FakeContext,
    load_event,
    stubbed_cloudwatch,
    version_series,
)

NOW = DEPLOYMENT_START + timedelta(minutes=3)
BAD = version_series((10800, 108, [200] * 3), (1200, 60, [200] * 3), minutes=3)  # 1 % -> 5 %


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


def cloudwatch(series: dict[str, list[float]]) -> tuple[Any, Stubber]:
    return stubbed_cloudwatch(series, NOW)


def test_a_failing_canary_is_stopped_with_rollback() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.stubber.add_response(
        "stop_deployment",
        {"status": "Pending", "statusMessage": "ok"},
        {"deploymentId": "d-1", "autoRollbackEnabled": True},
    )
    cw, stub = cloudwatch(BAD)
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    cd.done()
    stub.assert_no_pending_responses()
    assert [(a.deployment_id, a.verdict.verdict, a.action) for a in actions] == [("d-1", "FAIL", "stopped")]


def test_a_healthy_canary_is_left_alone() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cw, _ = cloudwatch(version_series((10800, 10, [200] * 3), (1200, 1, [201] * 3), minutes=3))
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    cd.done()
    assert [(a.verdict.verdict, a.action) for a in actions] == [("PASS", "watching")]


def test_only_one_version_with_data_is_nodata_and_waits() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cw, _ = cloudwatch(version_series((10800, 10, [200] * 3), (0, 0, []), minutes=3))
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    assert [(a.verdict.verdict, a.action) for a in actions] == [("NODATA", "watching")]


def test_a_deployment_that_ended_meanwhile_is_not_an_error() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("hello-fn", deployment_id="d-1")
    cd.error("stop_deployment", "DeploymentAlreadyCompletedException")
    cw, _ = cloudwatch(BAD)
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    assert actions[0].action == "ended-meanwhile"


def test_nothing_in_progress_means_no_call_to_cloudwatch() -> None:
    cd = CodeDeployStub()
    in_progress(cd, [])
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    Stubber(cw).activate()  # any call would fail
    assert run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW) == []


def test_functions_outside_the_allow_list_are_not_judged() -> None:
    cd = CodeDeployStub()
    in_progress(cd, ["d-1"])
    cd.deployment("other-fn", deployment_id="d-1")
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    Stubber(cw).activate()
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    assert actions[0].action == "skipped: not allowed"


def test_handler_without_configuration_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.delenv("DEPLOYMENT_APPLICATION", raising=False)
    hook_support.use_clients({})
    out = step_judge.lambda_handler(load_event("schedule.json"), FakeContext())
    hook_support.use_clients(None)
    assert out == {"actions": [], "error": "DEPLOYMENT_APPLICATION is empty"}


@pytest.mark.parametrize(
    ("config", "confidence"),
    [
        ("CodeDeployDefault.LambdaCanary10Percent5Minutes", 0.998),
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", 1 - 0.01 / 9),
        ("MyCustomConfig", 0.999),
    ],
)
def test_each_look_of_the_gate_gets_its_share_of_alpha(config: str, confidence: float) -> None:
    from safedeploy_core.step_gate import sequential_policy

    assert sequential_policy(Policy(), config).confidence == pytest.approx(confidence)


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
    cd.stubber.add_client_error("stop_deployment", "ThrottlingException", "Rate exceeded")
    cd.deployment("hello-fn", deployment_id="d-3")
    cd.stubber.add_response(
        "stop_deployment", {"status": "Pending"}, {"deploymentId": "d-3", "autoRollbackEnabled": True}
    )
    cw, _ = stubbed_cloudwatch(BAD, NOW, repeat=2)  # d-2 and d-3 are both judged
    # WHEN the judge looks
    actions = run_step_gate(cd.client, cw, APP, frozenset({"hello-fn"}), Policy(), now=NOW)
    # THEN each broken one is an error with its reason, and the bad canary is still stopped
    cd.done()
    assert [(a.deployment_id, a.action) for a in actions] == [
        ("d-1", "error"),
        ("d-2", "error"),
        ("d-3", "stopped"),
    ]
    assert "AppSpec" in actions[0].detail and "ThrottlingException" in actions[1].detail
