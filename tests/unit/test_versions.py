"""`safedeploy versions` against moto: versions, weights, configuration and the diff, values masked;
code sizes and the account's code storage (moto lacks GetAccountSettings: the project's service
overlay answers it)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from safedeploy import cli
from safedeploy.offline.service_overlay import ServiceError, overlay
from tests.helpers import lambda_role, publish_versions

FN = "safe-deploy-dev-HelloWorldFunction-AbC123"
GB = 1 << 30
SETTINGS = {
    "AccountLimit": {"TotalCodeSize": 75 * GB},
    "AccountUsage": {"TotalCodeSize": 3 * GB, "FunctionCount": 4},
}
REFUSED: list[ServiceError] = []  # what GetAccountSettings raises instead of answering


def account_settings(params: dict[str, Any]) -> dict[str, Any]:
    if REFUSED:
        raise REFUSED[0]
    return SETTINGS


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Any:
    with mock_aws():
        lam = overlay(
            boto3.client("lambda", region_name="us-east-1"), {"GetAccountSettings": account_settings}
        )
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        role = lambda_role(boto3.client("iam", region_name="us-east-1"))
        publish_versions(
            lam,
            role,
            FN,
            [
                {"FAULT_MODE": "none", "TOKEN": "s3cret"},
                {"FAULT_MODE": "error", "TOKEN": "s3cret", "NEW": "1"},
            ],
        )
        lam.update_function_configuration(FunctionName=FN, MemorySize=512)
        lam.publish_version(FunctionName=FN)  # v3: more memory
        lam.update_alias(
            FunctionName=FN,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"3": 0.25}},
        )
        clients = {"lambda": lam, "cloudformation": cfn}
        stack = {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "HelloWorldFunction",
                    "PhysicalResourceId": FN,
                    "ResourceType": "AWS::Lambda::Function",
                    "ResourceStatus": "UPDATE_COMPLETE",
                }
            ]
        }
        monkeypatch.setattr(cfn, "list_stack_resources", lambda **kwargs: stack)
        monkeypatch.setattr("safedeploy.live.aws.client", lambda service, region: clients[service])
        yield lam


def versions(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert cli.main(["versions", "--stack", "safe-deploy-dev", "--format", "json", *args]) == 0
    document = json.loads(capsys.readouterr().out)
    return document["functions"]  # type: ignore[no-any-return]


def test_an_alias_with_two_weighted_versions(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    (fn,) = versions(capsys)
    assert (fn["function"], fn["name"], fn["alias"]) == ("HelloWorldFunction", FN, "live")
    assert fn["weights"] == {"1": 75.0, "3": 25.0} and (fn["primary"], fn["newest"]) == ("1", "3")
    by_version = {v["version"]: v for v in fn["versions"]}
    assert set(by_version) == {"1", "3"}  # v2 is neither on the alias nor the newest
    assert by_version["1"]["memory_mb"] == 128 and by_version["3"]["memory_mb"] == 512
    assert by_version["3"]["environment"] == {"FAULT_MODE": "****", "NEW": "****", "TOKEN": "****"}
    changed = {c["field"]: (c["live"], c["newest"]) for c in fn["changes"]}
    assert changed["memory_mb"] == (128, 512)
    assert changed["environment.FAULT_MODE"] == ("****", "****")  # changed, value not shown
    assert changed["environment.NEW"] == (None, "****")  # added
    assert "environment.TOKEN" not in changed  # same value on both: no change
    assert "s3cret" not in json.dumps(fn)


def test_values_are_shown_when_asked(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    (fn,) = versions(capsys, "--show-values")
    changed = {c["field"]: (c["live"], c["newest"]) for c in fn["changes"]}
    assert changed["environment.FAULT_MODE"] == ("none", "error")


def test_text_output_names_every_version(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["versions", "--stack", "safe-deploy-dev"]) == 0
    out = capsys.readouterr().out
    assert "v1   75.00 % on live" in out and "v3   25.00 % on live  (newest)" in out
    assert "memory_mb: 128 → 512" in out and "s3cret" not in out


def test_a_stack_without_the_alias_is_a_clear_error(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["versions", "--stack", "safe-deploy-dev", "--alias", "nope"]) == 2
    assert "no function of stack 'safe-deploy-dev' has an alias 'nope'" in capsys.readouterr().err


def test_code_sizes_and_the_account_code_storage(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN three published versions of one package, as Lambda reports their CodeSize
    size = account.get_function_configuration(FunctionName=FN, Qualifier="1")["CodeSize"]
    assert size > 0
    # WHEN versions runs
    assert cli.main(["versions", "--stack", "safe-deploy-dev", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    # THEN each shown version has its size, every published one is listed, and the storage is there
    (fn,) = document["functions"]
    assert {v["version"]: v["code_size"] for v in fn["versions"]} == {"1": size, "3": size}
    assert fn["published"] == {"1": size, "2": size, "3": size}
    assert document["code_storage"] == {"used": 3 * GB, "limit": 75 * GB}
    assert cli.main(["versions", "--stack", "safe-deploy-dev"]) == 0
    out = capsys.readouterr().out
    assert "3 published version(s)" in out and "account code storage: 3.0 GB of 75.0 GB (4.0 %)" in out


def test_storage_refused_is_reported_not_fatal(
    account: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(f"{__name__}.REFUSED", [ServiceError("AccessDeniedException", "not authorized", 403)])
    assert cli.main(["versions", "--stack", "safe-deploy-dev", "--format", "json"]) == 0
    storage = json.loads(capsys.readouterr().out)["code_storage"]
    assert "AccessDeniedException" in storage["unavailable"]
