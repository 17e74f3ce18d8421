"""`safedeploy prune` against moto: what it keeps (and why), what it deletes, and how it stops.

moto holds the function, its 12 versions, the aliases with weighted routing, an SQS event source
mapping on a version, CloudWatch's per-version Invocations, and CodeDeploy's records (its
GetApplicationRevision from the project's moto extension). moto lacks ListProvisionedConcurrencyConfigs,
ListFunctionUrlConfigs and GetAccountSettings: the project's service overlay answers those three from
the `Extra` state below, after botocore validated the parameters against Lambda's model.
"""

from __future__ import annotations

import io
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from safedeploy import cli
from safedeploy.errors import UserError
from safedeploy.live import prune as pruning
from safedeploy.live.retention import Facts, PublishedVersion, decide, parse_duration, version_before
from safedeploy.offline.moto_server import extended
from safedeploy.offline.service_overlay import overlay
from tests.helpers import (
    appspec,
    deploy_role_actions,
    lambda_role,
    publish_versions,
    record_calls,
    stack_summaries,
)

FN = "safe-deploy-prod-HelloWorldFunction-AbC123"
STACK = "safe-deploy-prod"
APP, GROUP = "safe-deploy-prod-app", "safe-deploy-prod-HelloWorldFunction-group"
ACCOUNT, REGION = "123456789012", "us-east-1"
MB = 1 << 20


# ---------------------------------------------------------------- the pure decision


def facts(**kwargs: Any) -> Facts:
    versions = [PublishedVersion(str(v), v * MB) for v in range(1, 7)]
    return Facts(FN, versions, kwargs.pop("aliases", {"live": {"6": 100.0}}), **kwargs)


def test_every_reason_keeps_its_version_and_says_so() -> None:
    # GIVEN one reason per version
    decision = decide(
        facts(
            aliases={"live": {"6": 90.0, "5": 10.0}},
            known_good={"4": "last known-good"},
            provisioned={"3": "3"},
            event_sources={"2": ["uuid-1"]},
            invoked={"1": 5.0},
        ),
        keep_newest=1,
    )
    # THEN nothing is deleted and each keeps its reason
    assert decision.delete == []
    assert decision.keep == {
        "1": ["invoked 5 times in the last 24 h"],
        "2": ["event source mapping uuid-1"],
        "3": ["provisioned concurrency (on 3)"],
        "4": ["last known-good"],
        "5": ["alias live (10 %)"],
        "6": ["alias live (90 %)", "newest 1"],
    }


def test_without_reasons_only_the_newest_n_and_the_alias_stay() -> None:
    decision = decide(facts(invoked={"2": 0.0}), keep_newest=2)
    assert list(decision.keep) == ["5", "6"]
    assert [v.version for v in decision.delete] == ["1", "2", "3", "4"]
    assert decision.bytes_to_free == (1 + 2 + 3 + 4) * MB


def test_recency_is_ignored_when_the_window_is_off() -> None:
    decision = decide(facts(invoked={"2": 9.0}, window_s=None), keep_newest=1)
    assert "2" not in decision.keep


def test_without_codedeploy_history_the_version_below_lives_primary_is_known_good() -> None:
    versions = [PublishedVersion(v, 1) for v in ("1", "3", "7")]
    assert list(version_before(versions, "7")) == ["3"]
    assert version_before(versions, "1") == {} and version_before(versions, None) == {}


def test_a_reason_for_a_version_that_is_not_published_keeps_nothing_extra() -> None:
    decision = decide(facts(event_sources={"99": ["uuid"]}), keep_newest=1)
    assert "99" not in decision.keep


@pytest.mark.parametrize(("text", "seconds"), [("24h", 86400), ("90m", 5400), ("7d", 604800), ("2", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15d", "yesterday", "-1h"])
def test_bad_or_too_long_durations_are_refused(text: str) -> None:
    with pytest.raises(UserError):
        parse_duration(text)


# ---------------------------------------------------------------- the account (moto)


@dataclass
class Extra:
    """What the overlay answers for the operations moto lacks."""

    provisioned: list[str] = field(default_factory=list)  # qualifiers
    urls: list[str] = field(default_factory=list)
    used: int = 60 * (1 << 30)
    limit: int = 75 * (1 << 30)


def lambda_overlay(client: Any, extra: Extra) -> Any:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}"
    return overlay(
        client,
        {
            "ListProvisionedConcurrencyConfigs": lambda p: {
                "ProvisionedConcurrencyConfigs": [
                    {"FunctionArn": f"{arn}:{q}", "Status": "READY"} for q in extra.provisioned
                ]
            },
            "ListFunctionUrlConfigs": lambda p: {
                "FunctionUrlConfigs": [
                    {
                        "FunctionUrl": "https://x.lambda-url.us-east-1.on.aws/",
                        "FunctionArn": f"{arn}:{q}",
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "LastModifiedTime": "2026-01-01T00:00:00Z",
                        "AuthType": "AWS_IAM",
                    }
                    for q in extra.urls
                ]
            },
            "GetAccountSettings": lambda p: {
                "AccountLimit": {"TotalCodeSize": extra.limit},
                "AccountUsage": {"TotalCodeSize": extra.used, "FunctionCount": 1},
            },
        },
    )


@dataclass
class Account:
    clients: dict[str, Any]
    extra: Extra

    @property
    def lam(self) -> Any:
        return self.clients["lambda"]

    def versions(self) -> list[str]:
        return [
            v["Version"]
            for v in self.lam.list_versions_by_function(FunctionName=FN)["Versions"]
            if v["Version"] != "$LATEST"
        ]

    def deployment(self, current: str, target: str, status: str) -> str:
        cd = self.clients["codedeploy"]
        deployment_id = str(
            cd.create_deployment(
                applicationName=APP,
                deploymentGroupName=GROUP,
                revision={
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": appspec(FN, current, target)},
                },
            )["deploymentId"]
        )
        from moto.backends import get_backend

        get_backend("codedeploy")[ACCOUNT][REGION].deployments[deployment_id].status = status  # type: ignore[call-overload]
        return deployment_id


def stack_resources() -> dict[str, Any]:
    rows = [
        ("ServerlessDeploymentApplication", APP, "AWS::CodeDeploy::Application"),
        ("HelloWorldFunctionDeploymentGroup", GROUP, "AWS::CodeDeploy::DeploymentGroup"),
        ("HelloWorldFunction", FN, "AWS::Lambda::Function"),
    ]
    return stack_summaries(rows)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """The issue's scenario: versions 1-12, `live` on 12 with 10 % on 11, `beta` on 4, an SQS mapping on
    6, version 9 invoked an hour ago (and 3 thirty hours ago: outside the 24 h window), the last
    successful deployment 11 -> 12."""
    with mock_aws(), extended():
        extra = Extra()
        lam = lambda_overlay(boto3.client("lambda", region_name=REGION), extra)
        role = lambda_role(boto3.client("iam", region_name=REGION))
        publish_versions(lam, role, FN, [{"RELEASE": str(n)} for n in range(1, 13)])
        lam.update_alias(
            FunctionName=FN,
            Name="live",
            FunctionVersion="12",
            RoutingConfig={"AdditionalVersionWeights": {"11": 0.1}},
        )
        lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="4")
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=f"{FN}:6")
        cw = boto3.client("cloudwatch", region_name=REGION)
        now = datetime.now(UTC)
        for version, ago in (("9", timedelta(hours=1)), ("3", timedelta(hours=30))):
            cw.put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {
                        "MetricName": "Invocations",
                        "Dimensions": [
                            {"Name": "FunctionName", "Value": FN},
                            {"Name": "Resource", "Value": f"{FN}:live"},
                            {"Name": "ExecutedVersion", "Value": version},
                        ],
                        "Timestamp": now - ago,
                        "Value": 3.0,
                    }
                ],
            )
        cd = boto3.client("codedeploy", region_name=REGION)
        cd.create_application(applicationName=APP, computePlatform="Lambda")
        cd.create_deployment_group(applicationName=APP, deploymentGroupName=GROUP, serviceRoleArn=role)
        cfn = boto3.client("cloudformation", region_name=REGION)
        monkeypatch.setattr(cfn, "list_stack_resources", lambda **kwargs: stack_resources())
        clients = {"lambda": lam, "codedeploy": cd, "cloudwatch": cw, "cloudformation": cfn}
        monkeypatch.setattr(
            "safedeploy.live.aws.client", lambda service, region, mode="standard": clients[service]
        )
        acct = Account(clients, extra)
        acct.deployment("11", "12", "Succeeded")
        yield acct


def prune(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    assert cli.main(["prune", "--stack", STACK, "--format", "json", *args]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_the_issue_scenario_keeps_exactly_4_6_9_11_12(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN prune runs with --keep 2 and the default 24 h window
    report = prune(capsys, "--keep", "2", "--yes")
    # THEN exactly 4, 6, 9, 11 and 12 remain, each for its reason
    assert account.versions() == ["4", "6", "9", "11", "12"]
    (fn,) = report["functions"]
    keep = fn["keep"]
    assert list(keep) == ["4", "6", "9", "11", "12"]
    assert keep["4"] == ["alias beta (100 %)"]
    assert keep["6"][0].startswith("event source mapping ")
    assert keep["9"] == ["invoked 3 times in the last 24 h"]
    assert "alias live (10 %)" in keep["11"] and any("last known-good" in r for r in keep["11"])
    assert "alias live (90 %)" in keep["12"] and "newest 2" in keep["12"]
    assert [v["version"] for v in fn["delete"]] == ["1", "2", "3", "5", "7", "8", "10"]
    (outcome,) = report["outcomes"]
    assert outcome["deleted"] == ["1", "2", "3", "5", "7", "8", "10"] and report["complete"]
    assert outcome["bytes_freed"] == sum(v["code_size"] for v in fn["delete"]) > 0
    assert report["code_storage"] == {"used": account.extra.used, "limit": account.extra.limit}


def test_provisioned_concurrency_and_a_function_url_keep_their_versions(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    account.extra.provisioned = ["2"]
    account.extra.urls = ["beta"]  # a URL on an alias keeps the alias's versions
    report = prune(capsys, "--keep", "2", "--dry-run")
    keep = report["functions"][0]["keep"]
    assert keep["2"] == ["provisioned concurrency (on 2)"]
    assert "function URL (on beta)" in keep["4"]


def test_a_dry_run_changes_nothing(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    report = prune(capsys, "--keep", "2", "--dry-run")
    assert report["dry_run"] and report["outcomes"] == []
    assert len(account.versions()) == 12


def test_older_than_zero_ignores_invocations(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    report = prune(capsys, "--keep", "2", "--older-than", "0", "--dry-run")
    assert "9" not in report["functions"][0]["keep"]


def test_a_longer_window_keeps_an_older_invocation(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    report = prune(capsys, "--keep", "2", "--older-than", "2d", "--dry-run")
    assert report["functions"][0]["keep"]["3"] == ["invoked 3 times in the last 48 h"]


def test_without_yes_a_pipe_is_refused(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal
    assert cli.main(["prune", "--stack", STACK, "--keep", "2"]) == 2
    assert "refusing to delete without --yes" in capsys.readouterr().err
    assert len(account.versions()) == 12


def test_on_a_terminal_it_asks(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO("n\n")
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", terminal)
    assert cli.main(["prune", "--stack", STACK, "--keep", "2"]) == 2
    captured = capsys.readouterr()
    assert "delete 7 version(s)" in captured.err and "nothing deleted" in captured.err
    assert "keep   v9     invoked 3 times in the last 24 h" in captured.out
    assert len(account.versions()) == 12


def test_a_deployment_in_progress_is_refused(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    deployment_id = account.deployment("12", "13", "InProgress")
    assert cli.main(["prune", "--stack", STACK, "--keep", "2", "--yes"]) == 2
    assert f"deployment {deployment_id} of HelloWorldFunction is in progress" in capsys.readouterr().err
    assert len(account.versions()) == 12


def test_without_codedeploy_history_the_version_before_live_is_known_good(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}"  # by ARN: matched on its plain name
    assert cli.main(["prune", "--function", arn, "--keep", "1", "--dry-run", "--format", "json"]) == 0
    keep = json.loads(capsys.readouterr().out)["functions"][0]["keep"]
    assert "last known-good (the version before live's, no CodeDeploy history)" in keep["11"]
    assert keep["6"][0].startswith("event source mapping ")


def test_a_version_deleted_meanwhile_counts_as_gone(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def someone_else_deletes(question: str) -> bool:
        account.lam.delete_function(FunctionName=FN, Qualifier="5")
        return True

    monkeypatch.setattr("safedeploy.commands.prune.confirm", someone_else_deletes)
    assert cli.main(["prune", "--stack", STACK, "--keep", "2", "--format", "json"]) == 0
    (outcome,) = json.loads(capsys.readouterr().out)["outcomes"]
    assert outcome["already_gone"] == ["5"] and outcome["deleted"] == ["1", "2", "3", "7", "8", "10"]


def test_an_alias_moved_meanwhile_keeps_its_version(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def alias_moves(question: str) -> bool:
        account.lam.update_alias(FunctionName=FN, Name="beta", FunctionVersion="7")
        return True

    monkeypatch.setattr("safedeploy.commands.prune.confirm", alias_moves)
    assert cli.main(["prune", "--stack", STACK, "--keep", "2", "--format", "json"]) == 0
    (outcome,) = json.loads(capsys.readouterr().out)["outcomes"]
    assert outcome["kept_meanwhile"] == ["7"] and "7" in account.versions()


def test_ctrl_c_lets_the_deletion_under_way_finish_and_stops(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN Ctrl-C arrives while version 2 is being deleted
    calls: list[int] = []

    def interrupt_on_second(**kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # on its way to Lambda
            os.kill(os.getpid(), signal.SIGINT)

    account.lam.meta.events.register("before-call.lambda.DeleteFunction", interrupt_on_second)
    # WHEN prune runs
    report = prune(capsys, "--keep", "2", "--yes", code=130)
    # THEN version 2 was deleted completely, nothing after it was started, and the summary says so
    (outcome,) = report["outcomes"]
    assert outcome["deleted"] == ["1", "2"] and outcome["not_started"] == ["3", "5", "7", "8", "10"]
    assert outcome["stopped"] == "interrupted before deleting version 3" and not report["complete"]
    assert account.versions() == ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]


def throttle(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """Lambda answers the next `times` DeleteFunction calls with 429 TooManyRequestsException."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.delete_function
    seen: list[str] = []

    def throttled(self: Any, function_name: str, qualifier: str | None = None) -> None:
        seen.append(str(qualifier))
        if len(seen) <= times:
            error = LambdaClientError("TooManyRequestsException", "Rate exceeded")
            error.code = 429
            raise error
        original(self, function_name, qualifier)

    monkeypatch.setattr(LambdaBackend, "delete_function", throttled)
    return seen


def test_throttled_deletions_are_retried_by_the_client(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Lambda client built as prune builds it (adaptive retries), throttled twice
    from safedeploy.live import aws

    lam = lambda_overlay(
        boto3.client("lambda", region_name=REGION, config=aws.retry_config("adaptive")), account.extra
    )
    attempts = throttle(monkeypatch, 2)
    clients = {**account.clients, "lambda": lam}
    target = pruning.Target(FN, "HelloWorldFunction", APP, GROUP)
    decision = decide(pruning.gather(clients, target, None), keep_newest=11)
    # WHEN the one deletion runs
    outcome = pruning.delete_versions(clients, target, decision)
    # THEN it was tried three times and done
    assert len(attempts) == 3 and outcome.deleted == ["1"] and outcome.stopped is None


def test_throttling_that_outlasts_the_retries_stops_cleanly(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    lam = lambda_overlay(
        boto3.client("lambda", region_name=REGION, config=Config(retries={"total_max_attempts": 2})),
        account.extra,
    )
    clients = {**account.clients, "lambda": lam}
    target = pruning.Target(FN, "HelloWorldFunction", APP, GROUP)
    decision = decide(pruning.gather(clients, target, None), keep_newest=2)
    throttle(monkeypatch, 100)
    outcome = pruning.delete_versions(clients, target, decision)
    assert outcome.deleted == [] and outcome.not_started[0] == "1"
    assert outcome.stopped is not None and "still throttled after the client's retries" in outcome.stopped
    assert len(account.versions()) == 12


def test_a_refused_read_names_the_missing_action(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    def denied(self: Any, *args: Any, **kwargs: Any) -> None:
        error = LambdaClientError("AccessDeniedException", "not authorized to perform this action")
        error.code = 403
        raise error

    monkeypatch.setattr(LambdaBackend, "list_versions_by_function", denied)
    assert cli.main(["prune", "--stack", STACK, "--yes"]) == 2
    err = capsys.readouterr().err
    assert "no permission for lambda:ListVersionsByFunction" in err and len(err.strip().splitlines()) == 1


def test_an_unknown_function_is_one_line(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["prune", "--function", "nope", "--yes"]) == 2
    assert "function 'nope' not found" in capsys.readouterr().err


def test_the_pipeline_role_allows_every_call_prune_makes(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    called = record_calls(account.clients)
    prune(capsys, "--keep", "2", "--yes")
    assert "lambda:DeleteFunction" in called and "cloudwatch:ListMetrics" in called
    assert called - deploy_role_actions() == set()


def test_a_deployment_that_starts_before_the_deletions_stops_them_all(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def deployment_starts(question: str) -> bool:
        account.deployment("12", "13", "InProgress")
        return True

    monkeypatch.setattr("safedeploy.commands.prune.confirm", deployment_starts)
    report = prune(capsys, "--keep", "2", code=1)
    (outcome,) = report["outcomes"]
    assert outcome["deleted"] == [] and "is in progress" in outcome["stopped"]
    assert len(account.versions()) == 12


def test_an_unknown_stack_is_one_line(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(account.clients, "cloudformation", boto3.client("cloudformation", region_name=REGION))
    assert cli.main(["prune", "--stack", "nope", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "stack 'nope' not found" in err and len(err.strip().splitlines()) == 1


def test_keep_must_leave_the_newest(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["prune", "--stack", STACK, "--keep", "0", "--yes"]) == 2
    assert "--keep must be at least 1" in capsys.readouterr().err
    assert len(account.versions()) == 12


def test_a_refused_deletion_stops_and_names_the_action(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    def denied(self: Any, *args: Any, **kwargs: Any) -> None:
        error = LambdaClientError("AccessDeniedException", "not authorized")
        error.code = 403
        raise error

    monkeypatch.setattr(LambdaBackend, "delete_function", denied)
    report = prune(capsys, "--keep", "2", "--yes", code=1)
    (outcome,) = report["outcomes"]
    assert outcome["stopped"].startswith("version 1 not deleted: no permission for lambda:DeleteFunction")
    assert outcome["not_started"] == ["1", "2", "3", "5", "7", "8", "10"] and len(account.versions()) == 12


def test_a_function_of_a_stack_is_pruned_with_its_stacks_deployments(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the function carries CloudFormation's stack tag, and a deployment of its group runs
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}"
    account.lam.tag_resource(Resource=arn, Tags={"aws:cloudformation:stack-name": STACK})
    called = record_calls(account.clients)
    running = account.deployment("12", "13", "InProgress")
    # WHEN prune is given the function alone
    assert cli.main(["prune", "--function", FN, "--keep", "2", "--yes"]) == 2
    # THEN the stack's deployment group is found and the deployment in progress refuses it
    assert f"deployment {running} of HelloWorldFunction is in progress" in capsys.readouterr().err
    assert len(account.versions()) == 12 and called - deploy_role_actions() == set()
