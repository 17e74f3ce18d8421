"""watch, route and drill against botocore Stubber answers shaped like the real APIs (and moto aliases)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from safedeploy import cli
from safedeploy.errors import UserError
from safedeploy.live.aws import IN_PROGRESS, StackDeployment
from safedeploy.live.route import route
from tests.helpers import APP, DEPLOYMENT_START, GROUP, REVISION, appspec, lambda_role, publish_versions

FN = "safe-deploy-dev-HelloWorldFunction-AbC123"
STACK = "safe-deploy-dev"


class AWS:
    """Stubbed clients by service name, handed to the CLI in place of real ones."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}
        for service in ("cloudformation", "codedeploy", "cloudwatch", "lambda"):
            client = boto3.client(service, region_name="us-east-1")
            self.clients[service], self.stubs[service] = client, Stubber(client)
            self.stubs[service].activate()
        monkeypatch.setattr("safedeploy.live.aws.client", lambda service, region: self.clients[service])
        monkeypatch.setattr("time.sleep", lambda s: None)

    def add(self, service: str, operation: str, response: dict[str, Any], params: Any = None) -> None:
        self.stubs[service].add_response(operation, response, params)

    def error(self, service: str, operation: str, code: str, message: str = "stubbed") -> None:
        self.stubs[service].add_client_error(operation, code, message)

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()

    def stack(self) -> None:
        self.add(
            "cloudformation",
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    _res("ServerlessDeploymentApplication", APP, "AWS::CodeDeploy::Application"),
                    _res("HelloWorldFunctionDeploymentGroup", GROUP, "AWS::CodeDeploy::DeploymentGroup"),
                    _res("HelloWorldFunction", FN, "AWS::Lambda::Function"),
                ]
            },
            {"StackName": STACK},
        )

    def poll(
        self,
        status: str,
        weight: float,
        events: dict[str, str],
        alarm: str = "OK",
        extra: dict[str, Any] | None = None,
        counts: tuple[int, int, int, int] = (90, 0, 10, 1),
    ) -> None:
        """`counts`: calls and errors of the old, then the new version, as GetMetricData returns them."""
        info = {
            "deploymentId": "d-1",
            "applicationName": APP,
            "deploymentGroupName": GROUP,
            "status": status,
            "createTime": DEPLOYMENT_START,
            "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            **(extra or {}),
        }
        if status in ("Succeeded", "Failed", "Stopped"):
            info["completeTime"] = DEPLOYMENT_START + timedelta(minutes=4)
        self.add("codedeploy", "get_deployment", {"deploymentInfo": info}, {"deploymentId": "d-1"})
        self.add(
            "codedeploy", "list_deployment_targets", {"targetIds": [f"{FN}:live"]}, {"deploymentId": "d-1"}
        )
        self.add(
            "codedeploy",
            "get_deployment_target",
            {
                "deploymentTarget": {
                    "deploymentTargetType": "LambdaTarget",
                    "lambdaTarget": {
                        "deploymentId": "d-1",
                        "targetId": f"{FN}:live",
                        "status": status,
                        "lifecycleEvents": [
                            {"lifecycleEventName": k, "status": v} for k, v in events.items()
                        ],
                        "lambdaFunctionInfo": {
                            "functionName": FN,
                            "functionAlias": "live",
                            "currentVersion": "1",
                            "targetVersion": "2",
                            "targetVersionWeight": weight,
                        },
                    },
                }
            },
            {"deploymentId": "d-1", "targetId": f"{FN}:live"},
        )
        self.add(
            "codedeploy",
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "applicationName": APP,
                    "deploymentGroupName": GROUP,
                    "alarmConfiguration": {"enabled": True, "alarms": [{"name": "gate-error-rate"}]},
                }
            },
            {"applicationName": APP, "deploymentGroupName": GROUP},
        )
        self.add(
            "cloudwatch",
            "describe_alarms",
            {"MetricAlarms": [{"AlarmName": "gate-error-rate", "StateValue": alarm}]},
            {"AlarmNames": ["gate-error-rate"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
        )
        old_calls, old_errors, new_calls, new_errors = counts
        values = {"inv_baseline": old_calls, "err_baseline": old_errors, "inv_canary": new_calls}
        values["err_canary"] = new_errors
        self.add(
            "cloudwatch",
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": qid,
                        "Timestamps": [DEPLOYMENT_START],
                        "Values": [float(v)],
                        "StatusCode": "Complete",
                    }
                    for qid, v in values.items()
                ]
            },
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"},
        )


def _res(logical: str, physical: str, kind: str) -> dict[str, Any]:
    return {
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceType": kind,
        "LastUpdatedTimestamp": DEPLOYMENT_START,
        "ResourceStatus": "UPDATE_COMPLETE",
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> AWS:
    return AWS(monkeypatch)


def active(aws: AWS, ids: list[str]) -> None:
    aws.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ids},
        {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": IN_PROGRESS},
    )


# ------------------------------------------------------------------ watch
def test_watch_follows_a_successful_deployment(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    active(aws, ["d-1"])
    aws.poll("InProgress", 0.1, {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"})
    aws.poll(
        "Succeeded",
        1.0,
        {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Succeeded", "AfterAllowTraffic": "Succeeded"},
    )
    assert cli.main(["watch", "--stack", STACK, "--format", "json", "--interval", "1"]) == 0
    aws.done()
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["status"], x["traffic_pct"]) for x in lines] == [("InProgress", 10.0), ("Succeeded", 100.0)]
    assert lines[0]["left_s"] is not None and lines[-1]["hooks"]["AfterAllowTraffic"] == "Succeeded"
    # what CloudWatch has per version, to whole minutes that ended 60 s (its visibility) before the end
    final = lines[-1]["metrics"]
    assert (final["old"], final["new"]) == ({"calls": 90, "errors": 0}, {"calls": 10, "errors": 1})
    assert final["until"] == (DEPLOYMENT_START + timedelta(minutes=3)).isoformat()


def test_watch_metrics_trail_the_traffic_by_the_visibility_delay() -> None:
    from datetime import datetime

    from safedeploy.live.watch import Snapshot, version_metrics

    snap = Snapshot("d-1", "InProgress", "c", function=FN, current_version="1", target_version="2")
    start = datetime(2026, 12, 1, 12, 0, 30)
    # 89 s in: the first whole minute (12:00-12:01) becomes visible only at 12:02
    assert version_metrics(None, snap, "live", start, start + timedelta(seconds=89))["until"] is None
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": []},
            {
                "MetricDataQueries": ANY,
                "StartTime": datetime(2026, 12, 1, 12, 0),
                "EndTime": datetime(2026, 12, 1, 12, 1),
                "ScanBy": "TimestampAscending",
            },
        )
        found = version_metrics(cloudwatch, snap, "live", start, start + timedelta(seconds=90))
        assert found["until"] == "2026-12-01T12:01:00" and found["new"] == {"calls": 0, "errors": 0}
        stub.add_client_error("get_metric_data", "AccessDenied", "no cloudwatch:GetMetricData")
        denied = version_metrics(cloudwatch, snap, "live", start, start + timedelta(seconds=90))
        assert "AccessDenied" in denied["unavailable"]  # watch goes on without its figures


SINCE = "2026-11-26T11:59:00+00:00"


def since_query(aws: AWS, ids: list[str]) -> None:
    aws.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ids},
        {"applicationName": APP, "deploymentGroupName": GROUP, "createTimeRange": {"start": ANY}},
    )


def stack_status(aws: AWS, status: str) -> None:
    aws.add(
        "cloudformation",
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "CreationTime": DEPLOYMENT_START, "StackStatus": status}]},
        {"StackName": STACK},
    )


def test_watch_since_waits_for_the_deployment_the_stack_update_starts(
    aws: AWS, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN `sam deploy` running: the stack updates, and CloudFormation starts the deployment later
    aws.stack()
    since_query(aws, [])
    stack_status(aws, "UPDATE_IN_PROGRESS")
    since_query(aws, ["d-1"])
    aws.add(
        "codedeploy",
        "get_deployment",
        {"deploymentInfo": {"deploymentId": "d-1", "createTime": DEPLOYMENT_START}},
    )
    aws.poll(
        "Stopped",
        0.0,
        {"BeforeAllowTraffic": "Succeeded"},
        alarm="ALARM",
        extra={"rollbackInfo": {"rollbackMessage": "rolled back"}},
    )
    # WHEN the pipeline watches it, THEN the job fails on the rollback
    assert cli.main(["watch", "--stack", STACK, "--since", SINCE, "--interval", "1", "--format", "json"]) == 1
    aws.done()
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rolled_back"] is True


def test_watch_since_ends_quietly_when_the_update_started_no_deployment(
    aws: AWS, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.stack()
    since_query(aws, [])
    stack_status(aws, "UPDATE_COMPLETE")  # no new version: CloudFormation shifted nothing
    assert cli.main(["watch", "--stack", STACK, "--since", SINCE, "--interval", "1"]) == 0
    aws.done()
    assert "no deployment started since 2026-11-26T11:59:00+00:00" in capsys.readouterr().out


def test_watch_reports_an_alarm_stop_and_the_rollback(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    active(aws, ["d-1"])
    aws.poll(
        "Stopped",
        0.0,
        {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Failed"},
        alarm="ALARM",
        extra={
            "errorInformation": {"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated"},
            "rollbackInfo": {"rollbackDeploymentId": "d-2", "rollbackMessage": "Rolled back by d-2"},
        },
    )
    assert cli.main(["watch", "--stack", STACK, "--interval", "1"]) == 1
    aws.done()
    out = " ".join(capsys.readouterr().out.split())
    assert "deployment d-1 stopped: ALARM_ACTIVE" in out and "gate-error-rate" in out
    assert "rolled back to the previous version" in out


def test_watch_reports_a_failed_hook(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    aws.poll(
        "Failed",
        0.0,
        {"BeforeAllowTraffic": "Failed"},
        extra={"errorInformation": {"code": "HEALTH_CONSTRAINTS", "message": "lifecycle event failed"}},
    )
    assert (
        cli.main(["watch", "--stack", STACK, "--deployment-id", "d-1", "--format", "json", "--interval", "1"])
        == 1
    )
    final = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert final["status"] == "Failed" and "BeforeAllowTraffic" in final["reason"]


def test_watch_unknown_stack_is_one_line_and_exit_2(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.error(
        "cloudformation", "list_stack_resources", "ValidationError", "Stack with id nope does not exist"
    )
    assert cli.main(["watch", "--stack", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("safedeploy: error: stack 'nope' not found") and "\n" not in err


# ------------------------------------------------------------------ route
def alias(
    aws: AWS, version: str, weights: dict[str, float] | None = None, op: str = "get_alias", params: Any = None
) -> None:
    aws.add(
        "lambda",
        op,
        {
            "AliasArn": f"arn:aws:lambda:us-east-1:123456789012:function:{FN}:live",
            "Name": "live",
            "FunctionVersion": version,
            **({"RoutingConfig": {"AdditionalVersionWeights": weights}} if weights else {}),
        },
        params if params is not None else {"FunctionName": FN, "Name": "live"},
    )


def route_json(*args: str) -> int:
    return cli.main(
        ["route", "--stack", STACK, "--function", "HelloWorldFunction", *args, "--format", "json"]
    )


def test_route_show(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    alias(aws, "3", {"4": 0.25})
    assert (
        cli.main(
            ["route", "--stack", STACK, "--function", "HelloWorldFunction", "--show", "--format", "json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["weights"] == {"4": 25.0, "3": 75.0}


def versions(aws: AWS, *published: str) -> None:
    aws.add(
        "lambda",
        "list_versions_by_function",
        {"Versions": [{"Version": "$LATEST"}, *({"Version": v} for v in published)]},
        {"FunctionName": FN},
    )


def test_route_refuses_during_a_deployment(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    alias(aws, "3")
    versions(aws, "3", "4")
    active(aws, ["d-9"])
    assert cli.main(["route", "--stack", STACK, "--function", "HelloWorldFunction", "--weight", "10"]) == 2
    aws.done()
    assert "deployment d-9 is in progress" in capsys.readouterr().err


def test_route_sets_a_weight_and_resets(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    alias(aws, "3")
    active(aws, [])
    aws.add(
        "lambda",
        "list_versions_by_function",
        {"Versions": [{"Version": "$LATEST"}, {"Version": "3"}, {"Version": "4"}]},
        {"FunctionName": FN},
    )
    alias(
        aws,
        "3",
        {"4": 0.1},
        op="update_alias",
        params={
            "FunctionName": FN,
            "Name": "live",
            "FunctionVersion": "3",
            "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}},
        },
    )
    assert route_json("--weight", "10") == 0
    assert json.loads(capsys.readouterr().out)["weights"] == {"4": 10.0, "3": 90.0}
    aws.stack()
    alias(aws, "3", {"4": 0.1})
    versions(aws, "3", "4")
    active(aws, [])
    alias(
        aws,
        "4",
        op="update_alias",
        params={
            "FunctionName": FN,
            "Name": "live",
            "FunctionVersion": "4",
            "RoutingConfig": {"AdditionalVersionWeights": {}},
        },
    )
    assert route_json("--reset", "--version", "4") == 0
    aws.done()
    assert json.loads(capsys.readouterr().out)["weights"] == {"4": 100.0}


@pytest.mark.parametrize("version", ["9", "$LATEST", "live"])
def test_route_sets_only_published_versions(
    aws: AWS, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    # GIVEN versions 3 and 4 only
    aws.stack()
    alias(aws, "3")
    versions(aws, "3", "4")
    # WHEN a weight for another version is asked for, THEN it is refused and the alias is not touched
    assert route_json("--weight", "10", "--version", version) == 2
    aws.done()  # no UpdateAlias (nor a deployment check) was made
    assert (
        f"version {version!r} of {FN} is not a published version (published: 3, 4)" in capsys.readouterr().err
    )


def test_route_checks_for_a_deployment_right_before_it_changes_the_alias(aws: AWS) -> None:
    # GIVEN a deployment that starts while route looks up the versions
    calls: list[str] = []
    for service in ("lambda", "codedeploy"):
        aws.clients[service].meta.events.register(
            "before-parameter-build", lambda model, **kwargs: calls.append(model.name)
        )
    aws.stack()
    alias(aws, "3")
    versions(aws, "3", "4")
    active(aws, ["d-9"])
    # WHEN a weight is set, THEN the deployment check is the last call and nothing was changed
    assert route_json("--weight", "10") == 2
    aws.done()
    assert calls == ["GetAlias", "ListVersionsByFunction", "ListDeployments"]


def test_route_unknown_function(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    aws.stack()
    assert cli.main(["route", "--stack", STACK, "--function", "Nope", "--show"]) == 2
    assert "has no function 'Nope' (functions: HelloWorldFunction)" in capsys.readouterr().err


def test_route_against_moto_aliases() -> None:
    with mock_aws():
        lam = boto3.client("lambda", region_name="us-east-1")
        publish_versions(lam, lambda_role(boto3.client("iam", region_name="us-east-1")), FN, [{}, {}, {}])
        cd = boto3.client("codedeploy", region_name="us-east-1")
        stub = Stubber(cd)
        for _ in range(3):  # one check per change of weights
            stub.add_response("list_deployments", {"deployments": []}, None)
        stub.activate()
        stack = StackDeployment(STACK, APP, {"HelloWorldFunction": GROUP}, {"HelloWorldFunction": FN})
        assert route(lam, cd, stack, "HelloWorldFunction", "live")["weights"] == {"1": 100.0}
        assert route(lam, cd, stack, "HelloWorldFunction", "live", weight=20)["weights"] == {
            "3": 20.0,
            "1": 80.0,
        }
        stored = lam.get_alias(FunctionName=FN, Name="live")
        assert stored["RoutingConfig"]["AdditionalVersionWeights"] == {"3": 0.2}
        assert route(lam, cd, stack, "HelloWorldFunction", "live", reset=True)["weights"] == {"1": 100.0}
        with pytest.raises(UserError, match="already is the alias's primary"):
            route(lam, cd, stack, "HelloWorldFunction", "live", weight=5, version="1")


# ------------------------------------------------------------------ drill
def drill_prelude(aws: AWS, environment: str) -> None:
    aws.add(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "CreationTime": DEPLOYMENT_START,
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [{"OutputKey": "EnvironmentName", "OutputValue": environment}],
                }
            ]
        },
        {"StackName": STACK},
    )


def test_drill_refuses_prod_without_i_know(aws: AWS, capsys: pytest.CaptureFixture[str]) -> None:
    drill_prelude(aws, "prod")
    assert cli.main(["drill", "--stack", STACK]) == 2
    assert "is a prod environment" in capsys.readouterr().err


def test_drill_proves_the_rollback_and_restores_the_configuration(
    aws: AWS, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"FAULT_MODE": "none", "POWERTOOLS_SERVICE_NAME": "svc"}
    drill_prelude(aws, "dev")
    aws.stack()
    active(aws, [])
    alias(aws, "5")
    aws.add(
        "codedeploy",
        "list_deployments",
        {"deployments": ["d-0"]},
        {"applicationName": APP, "deploymentGroupName": GROUP},
    )
    aws.add(
        "codedeploy",
        "get_deployment",
        {"deploymentInfo": {"deploymentId": "d-0", "applicationName": APP, "revision": REVISION}},
        {"deploymentId": "d-0"},
    )
    aws.add(
        "codedeploy",
        "get_application_revision",
        {
            "applicationName": APP,
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": appspec(FN, "4", "5")},
            },
        },
        {"applicationName": APP, "revision": REVISION},
    )
    aws.add(
        "lambda",
        "get_function_configuration",
        {"FunctionName": FN, "Environment": {"Variables": env}},
        {"FunctionName": FN},
    )
    faulty = {**env, "FAULT_MODE": "error", "FAULT_RATE": "100"}
    aws.add(
        "lambda",
        "update_function_configuration",
        {"FunctionName": FN},
        {"FunctionName": FN, "Environment": {"Variables": faulty}},
    )
    aws.add(
        "lambda",
        "get_function",
        {"Configuration": {"FunctionName": FN, "LastUpdateStatus": "Successful"}},
        {"FunctionName": FN},
    )  # the function_updated_v2 waiter
    aws.add(
        "lambda",
        "publish_version",
        {"FunctionName": FN, "Version": "6"},
        {"FunctionName": FN, "Description": ANY},
    )
    aws.add(
        "codedeploy",
        "create_deployment",
        {"deploymentId": "d-1"},
        {
            "applicationName": APP,
            "deploymentGroupName": GROUP,
            "description": "safedeploy drill",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": ANY}},
        },
    )
    aws.poll(
        "Failed",
        0.0,
        {"BeforeAllowTraffic": "Failed"},
        extra={
            "errorInformation": {"code": "HEALTH_CONSTRAINTS", "message": "BeforeAllowTraffic failed"},
            "rollbackInfo": {"rollbackMessage": "rolled back"},
        },
    )
    alias(aws, "5")  # rolled back: the alias is on the known-good version
    # the clean-up: the deployment has ended, the alias is right, $LATEST restored, v6 deleted
    aws.add("codedeploy", "get_deployment", {"deploymentInfo": {"status": "Failed"}}, {"deploymentId": "d-1"})
    alias(aws, "5")
    aws.add(
        "lambda",
        "update_function_configuration",
        {"FunctionName": FN},
        {"FunctionName": FN, "Environment": {"Variables": env}},
    )
    aws.add("lambda", "delete_function", {}, {"FunctionName": FN, "Qualifier": "6"})
    assert cli.main(["drill", "--stack", STACK, "--format", "json"]) == 0
    aws.done()
    result = json.loads(capsys.readouterr().out)
    assert (
        result["rolled_back"] is True
        and result["faulty_version"] == "6"
        and result["restored_version"] == "5"
    )
    assert result["detection_s"] == 240.0
