"""`safedeploy rollback`: refusals against moto, and whole rollbacks in the rehearsal's fake account
(moto server + the real function in its own process + the hooks in-process + the CodeDeploy engine),
where the rollback's own deployment runs the real pre- and post-traffic hooks against the version it
goes back to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from safedeploy import cli
from safedeploy.errors import UserError
from safedeploy.live import rollback as rolling
from safedeploy.offline.moto_server import extended
from safedeploy.offline.service_overlay import overlay
from safedeploy.rehearsal.options import Fault
from tests.helpers import (
    ROOT,
    appspec,
    deploy_role_actions,
    lambda_role,
    publish_versions,
    record_calls,
    stack_summaries,
)

FN = "safe-deploy-dev-HelloWorldFunction-AbC123"
STACK = "safe-deploy-dev"
APP, GROUP = "safe-deploy-dev-app", "safe-deploy-dev-HelloWorldFunction-group"
ACCOUNT, REGION = "123456789012", "us-east-1"


def resources(function: str, application: str, group: str, template_version: str) -> dict[str, Any]:
    rows = [
        ("ServerlessDeploymentApplication", application, "AWS::CodeDeploy::Application"),
        ("HelloWorldFunctionDeploymentGroup", group, "AWS::CodeDeploy::DeploymentGroup"),
        ("HelloWorldFunction", function, "AWS::Lambda::Function"),
        (
            "HelloWorldFunctionVersion0a1b2c3d4e",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{template_version}",
            "AWS::Lambda::Version",
        ),
    ]
    return stack_summaries(rows)


def set_status(deployment_id: str, status: str) -> None:
    from moto.backends import get_backend

    get_backend("codedeploy")[ACCOUNT][REGION].deployments[deployment_id].status = status  # type: ignore[call-overload]


# ---------------------------------------------------------------- refusals (moto)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """v1..v3 of the function, `live` on v3 after a Succeeded deployment 2 -> 3 with both hooks."""
    with mock_aws(), extended():
        lam = boto3.client("lambda", region_name=REGION)
        role = lambda_role(boto3.client("iam", region_name=REGION))
        publish_versions(lam, role, FN, [{"RELEASE": str(n)} for n in range(1, 4)])
        lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="3")
        cd = overlay(
            boto3.client("codedeploy", region_name=REGION),
            {"ListDeploymentTargets": lambda p: {"targetIds": []}},  # moto lacks it
        )
        cd.create_application(applicationName=APP, computePlatform="Lambda")
        cd.create_deployment_group(applicationName=APP, deploymentGroupName=GROUP, serviceRoleArn=role)
        previous = cd.create_deployment(
            applicationName=APP,
            deploymentGroupName=GROUP,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(FN, "2", "3")}},
        )["deploymentId"]
        set_status(previous, "Succeeded")
        cfn = boto3.client("cloudformation", region_name=REGION)
        monkeypatch.setattr(cfn, "list_stack_resources", lambda **kw: resources(FN, APP, GROUP, "3"))
        clients = {
            "lambda": lam,
            "codedeploy": cd,
            "cloudformation": cfn,
            "cloudwatch": boto3.client("cloudwatch", region_name=REGION),
        }
        monkeypatch.setattr(
            "safedeploy.live.aws.client", lambda service, region, mode="standard": clients[service]
        )
        yield clients


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", "7"],
            "version '7' of safe-deploy-dev-HelloWorldFunction-AbC123 does not exist (published: 1, 2, 3)",
        ),
        (["--to", "3"], "already is on version 3"),
        (["--to", "2", "--function", "Nope"], "stack 'safe-deploy-dev' has no function 'Nope'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = ["rollback", "--stack", STACK, "--function", "HelloWorldFunction", *args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert len(account["codedeploy"].list_deployments()["deployments"]) == 1  # none created


def test_a_deployment_in_progress_is_refused(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    running = account["codedeploy"].create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(FN, "3", "4")}},
    )["deploymentId"]
    set_status(running, "InProgress")
    assert cli.main(["rollback", "--stack", STACK, "--function", "HelloWorldFunction", "--to", "2"]) == 2
    assert f"deployment {running} of HelloWorldFunction is in progress" in capsys.readouterr().err


def test_manual_weights_are_refused(account: dict[str, Any]) -> None:
    account["lambda"].update_alias(
        FunctionName=FN, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}}
    )
    with pytest.raises(UserError, match="has manual weights"):
        rolling.prepare(account, STACK, "HelloWorldFunction", "1")


def test_an_unknown_stack_is_one_line(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = boto3.client("cloudformation", region_name=REGION)  # moto: no such stack
    monkeypatch.setitem(account, "cloudformation", cfn)
    assert cli.main(["rollback", "--stack", "nope", "--function", "HelloWorldFunction", "--to", "2"]) == 2
    assert "stack 'nope' not found" in capsys.readouterr().err


def test_the_deployment_carries_the_groups_hooks_and_the_versions(account: dict[str, Any]) -> None:
    # GIVEN the plan for going back from v3 to v2
    plan = rolling.prepare(account, STACK, "HelloWorldFunction", "2")
    assert (plan.from_version, plan.target_version, plan.template_version) == ("3", "2", "3")
    # WHEN the deployment is created
    deployment_id = rolling.start(account["codedeploy"], plan)
    # THEN it is the group's, with the hooks of its last deployment and an AppSpec from 3 to 2
    info = account["codedeploy"].get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert (info["applicationName"], info["deploymentGroupName"]) == (APP, GROUP)
    content = info["revision"]["appSpecContent"]["content"]
    assert content == appspec(FN, "3", "2")
    # and a second rollback now is refused: that deployment is in progress
    set_status(deployment_id, "InProgress")
    with pytest.raises(UserError, match="in progress"):
        rolling.start(account["codedeploy"], plan)


def test_the_user_is_told_what_the_template_still_describes(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN CodeDeploy, here played by the poll's sleep, succeeds and moves the alias
    def codedeploy_succeeds(seconds: float) -> None:
        (created,) = account["codedeploy"].list_deployments(includeOnlyStatuses=["Created"])["deployments"]
        codedeploys_lambda = boto3.client("lambda", region_name=REGION)  # not the command's client
        codedeploys_lambda.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
        set_status(created, "Succeeded")

    monkeypatch.setattr("safedeploy.live.rollback.time.sleep", codedeploy_succeeds)
    called = record_calls(account)
    argv = ["rollback", "--stack", STACK, "--function", "HelloWorldFunction", "--to", "2", "--interval", "1"]
    assert cli.main([*argv, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["succeeded"] and result["alias_version"] == "2" and result["from_version"] == "3"
    assert "the template of stack safe-deploy-dev still describes v3's code" in result["notes"][0]
    assert "leaves live on v2" in result["notes"][1]
    # every call it made is one the pipeline's role allows
    assert "codedeploy:CreateDeployment" in called and called - deploy_role_actions() == set()


# ---------------------------------------------------------------- whole rollbacks (the rehearsal's world)


def rollback_in_world(
    target_fault: Fault, monkeypatch: pytest.MonkeyPatch
) -> tuple[rolling.RollbackResult, str, str | None]:
    """This app's template in the fake account: v1 (the version to go back to, with `target_fault`)
    and v2 with `live` on v2 after a Succeeded deployment 1 -> 2; then `rollback --to 1`,
    CodeDeploy played by the rehearsal's engine with the template's real hooks and gate alarms."""
    from safedeploy.rehearsal import run
    from safedeploy.rehearsal.functions import STACK as WORLD_STACK
    from safedeploy.rehearsal.options import RehearsalOptions

    options = RehearsalOptions(
        ROOT / "template.yaml", "HelloWorldFunction", fault=target_fault, speed=2000, rps=20
    )
    with run.rehearsal(options, rollback=True) as world, extended():
        name, alias, app, group = world.function, world.alias, world.application, world.group
        back_to, current = world.target_version, world.from_version
        assert (current, back_to) == ("2", "1")
        fake = world.world
        # the release 1 -> 2 that CloudFormation ran: the group's last deployment, with the hooks
        last = fake.client("codedeploy").create_deployment(
            applicationName=app,
            deploymentGroupName=group,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": appspec(name, back_to, current, alias, world.hooks)},
            },
        )["deploymentId"]
        fake.backend("codedeploy").deployments[last].status = "Succeeded"
        cfn = fake.client("cloudformation")
        monkeypatch.setattr(cfn, "list_stack_resources", lambda **kw: resources(name, app, group, current))
        lam = fake.client("lambda")
        clients = {
            "cloudformation": cfn,
            "lambda": lam,
            "codedeploy": overlay(
                fake.client("codedeploy"), {"ListDeploymentTargets": lambda p: {"targetIds": []}}
            ),
            "cloudwatch": fake.client("cloudwatch"),
        }
        # the command's own steps; between `start` and `finish` the engine plays CodeDeploy
        plan = rolling.prepare(clients, WORLD_STACK, "HelloWorldFunction", back_to)
        created: list[str] = []

        def start() -> str:
            created.append(rolling.start(clients["codedeploy"], plan))
            return created[0]

        world.run(create_deployment=start)
        result = rolling.finish(clients, plan, created[0], interval=0, timeout=5)
        live_now = str(lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"])
    return result, live_now, world.engine.outcome.caught_by


@pytest.mark.slow
def test_a_healthy_earlier_version_is_rolled_back_to(monkeypatch: pytest.MonkeyPatch) -> None:
    result, live, caught_by = rollback_in_world("none", monkeypatch)
    assert result.status == "Succeeded" and result.succeeded and caught_by is None
    assert (result.from_version, result.target_version, live) == ("2", "1", "1")


@pytest.mark.slow
def test_an_earlier_version_that_fails_its_smoke_cases_is_not_rolled_back_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result, live, caught_by = rollback_in_world("error", monkeypatch)
    # the rollback's own deployment failed its pre-traffic hook and was rolled back: live unchanged
    assert result.status == "Failed" and not result.succeeded and caught_by == "pre-traffic hook"
    assert live == "2" and result.alias_version == "2"
    assert "stays on v2" in result.notes[0]
