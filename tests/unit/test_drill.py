"""`drill` leaves nothing half-done: moto holds the real function, versions and alias; CodeDeploy and
CloudFormation are botocore Stubbers (moto's CodeDeploy has no StopDeployment/GetApplicationRevision)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from safedeploy.errors import UserError
from safedeploy.live.drill import drill
from safedeploy.live.watch import Snapshot
from tests.helpers import APP, DEPLOYMENT_START, GROUP, REVISION, appspec, lambda_role, publish_versions

FN = "safe-deploy-dev-HelloWorldFunction-AbC123"
STACK = "safe-deploy-dev"
ENV = {"FAULT_MODE": "none", "POWERTOOLS_SERVICE_NAME": "svc"}


class Account:
    """moto Lambda with v1 (healthy) on `live`; stubbed CodeDeploy/CloudFormation for this stack."""

    def __init__(self) -> None:
        self.lam = boto3.client("lambda", region_name="us-east-1")
        publish_versions(self.lam, lambda_role(boto3.client("iam", region_name="us-east-1")), FN, [ENV])
        self.clients: dict[str, Any] = {"lambda": self.lam}
        self.stubs: dict[str, Stubber] = {}
        for service in ("cloudformation", "codedeploy", "cloudwatch"):
            client = boto3.client(service, region_name="us-east-1")
            self.clients[service], self.stubs[service] = client, Stubber(client)
            self.stubs[service].activate()
        self.cd = self.stubs["codedeploy"]

    def prelude(self) -> None:
        """Everything drill reads before it changes anything."""
        cfn = self.stubs["cloudformation"]
        cfn.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": DEPLOYMENT_START,
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [{"OutputKey": "EnvironmentName", "OutputValue": "dev"}],
                    }
                ]
            },
        )
        resources = [
            ("ServerlessDeploymentApplication", APP, "AWS::CodeDeploy::Application"),
            ("HelloWorldFunctionDeploymentGroup", GROUP, "AWS::CodeDeploy::DeploymentGroup"),
            ("HelloWorldFunction", FN, "AWS::Lambda::Function"),
        ]
        cfn.add_response(
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": logical,
                        "PhysicalResourceId": physical,
                        "ResourceType": kind,
                        "LastUpdatedTimestamp": DEPLOYMENT_START,
                        "ResourceStatus": "UPDATE_COMPLETE",
                    }
                    for logical, physical, kind in resources
                ]
            },
        )
        self.cd.add_response("list_deployments", {"deployments": []})  # nothing in progress
        self.cd.add_response("list_deployments", {"deployments": ["d-0"]})  # the last deployment's hooks
        self.cd.add_response(
            "get_deployment",
            {"deploymentInfo": {"deploymentId": "d-0", "applicationName": APP, "revision": REVISION}},
        )
        self.cd.add_response(
            "get_application_revision",
            {
                "applicationName": APP,
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": appspec(FN, "0", "1")},
                },
            },
        )

    def created(self) -> None:
        self.cd.add_response("create_deployment", {"deploymentId": "d-1"})

    def poll(self, status: str = "InProgress", weight: float = 0.1) -> None:
        self.cd.add_response(
            "get_deployment",
            {
                "deploymentInfo": {
                    "deploymentId": "d-1",
                    "applicationName": APP,
                    "deploymentGroupName": GROUP,
                    "status": status,
                    "createTime": DEPLOYMENT_START,
                    "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                }
            },
        )
        self.cd.add_response("list_deployment_targets", {"targetIds": [f"{FN}:live"]})
        self.cd.add_response(
            "get_deployment_target",
            {
                "deploymentTarget": {
                    "lambdaTarget": {
                        "lambdaFunctionInfo": {
                            "functionName": FN,
                            "currentVersion": "1",
                            "targetVersion": "2",
                            "targetVersionWeight": weight,
                        }
                    }
                }
            },
        )
        self.cd.add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "applicationName": APP,
                    "deploymentGroupName": GROUP,
                    "alarmConfiguration": {},
                }
            },
        )

    def stopped(self) -> None:
        """The clean-up finds the deployment still running and stops it with rollback."""
        self.cd.add_response(
            "get_deployment", {"deploymentInfo": {"status": "InProgress"}}, {"deploymentId": "d-1"}
        )
        self.cd.add_response(
            "stop_deployment", {"status": "Pending"}, {"deploymentId": "d-1", "autoRollbackEnabled": True}
        )

    def canary_on_the_faulty_version(self) -> None:
        """What CodeDeploy had done when the drill was cut short: 10 % on the faulty version."""
        self.lam.update_alias(
            FunctionName=FN,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
        )

    def assert_restored(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        alias = self.lam.get_alias(FunctionName=FN, Name="live")
        assert alias["FunctionVersion"] == "1"
        assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        assert self.lam.get_function_configuration(FunctionName=FN)["Environment"]["Variables"] == ENV
        published = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName=FN)["Versions"]]
        assert published == ["$LATEST", "1"]  # the faulty version is gone


@pytest.fixture
def account() -> Iterator[Account]:
    with mock_aws():
        yield Account()


def run(account: Account, **kwargs: Any) -> Any:
    return drill(
        account.clients,
        STACK,
        "HelloWorldFunction",
        "error",
        100.0,
        interval=0,
        sleep=lambda s: None,
        **kwargs,
    )


def test_ctrl_c_mid_follow_stops_the_deployment_and_restores_everything(account: Account) -> None:
    # GIVEN a drill whose canary already sends 10 % to the faulty version
    account.prelude()
    account.created()
    account.poll()
    account.stopped()

    def interrupt(snapshot: Snapshot) -> None:
        account.canary_on_the_faulty_version()
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while it follows

    # WHEN the user interrupts it
    with pytest.raises(UserError) as info:
        run(account, on_update=interrupt)
    # THEN the deployment was stopped, the alias, $LATEST and the versions are as before, and it says so
    account.assert_restored()
    assert info.value.exit_code == 130
    message = str(info.value)
    assert message.startswith("drill interrupted; clean-up: deployment d-1 stopped with rollback")
    assert "alias live put back on v1" in message and "faulty version 2 deleted" in message
    assert "LEFT" not in message


def test_sigterm_is_handled_like_ctrl_c(account: Account) -> None:
    account.prelude()
    account.created()
    account.poll()
    account.stopped()
    with pytest.raises(UserError, match="drill interrupted; clean-up: deployment d-1 stopped"):
        run(account, on_update=lambda s: os.kill(os.getpid(), signal.SIGTERM))
    account.assert_restored()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_a_timeout_stops_the_deployment_it_started(account: Account) -> None:
    account.prelude()
    account.created()
    account.poll("Created", 0.0)
    account.stopped()
    with pytest.raises(UserError) as info:
        run(account, timeout=-1)
    account.assert_restored()
    assert "still Created after" in str(info.value) and "deployment d-1 stopped with rollback" in str(
        info.value
    )


def test_a_failed_create_deployment_deletes_the_faulty_version(account: Account) -> None:
    account.prelude()
    account.cd.add_client_error("create_deployment", "DeploymentLimitExceededException", "too many")
    with pytest.raises(UserError) as info:
        run(account)
    account.assert_restored()
    message = str(info.value)
    assert "CreateDeployment: DeploymentLimitExceededException: too many" in message
    assert "$LATEST environment restored" in message and "faulty version 2 deleted" in message


def test_a_restore_that_keeps_failing_says_what_is_left_and_keeps_the_first_error(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function whose configuration cannot be updated once the fault is on
    account.prelude()
    account.cd.add_client_error("create_deployment", "AccessDeniedException", "no")
    real = account.lam.update_function_configuration
    calls: list[dict[str, Any]] = []

    def update(**kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) > 1:
            raise ClientError(
                {"Error": {"Code": "ResourceConflictException", "Message": "update in progress"}},
                "UpdateFunctionConfiguration",
            )
        return real(**kwargs)

    monkeypatch.setattr(account.lam, "update_function_configuration", update)
    # WHEN the drill fails and its clean-up cannot restore $LATEST
    with pytest.raises(UserError) as info:
        run(account)
    # THEN the first error is kept, the restore was retried, and what is left is named with its fix
    message = str(info.value)
    assert "CreateDeployment: AccessDeniedException: no" in message
    assert len(calls) == 1 + 4
    assert "LEFT: $LATEST of" in message and "FAULT_MODE back to none, FAULT_RATE back to (unset)" in message
    assert "faulty version 2 deleted" in message
