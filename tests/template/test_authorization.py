"""CodeDeploy's service role, read from the TRANSLATED templates, evaluated with IAM's logic against
the calls CodeDeploy makes for a Lambda deployment (safedeploy.iam)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safedeploy.iam.actions import Where
from safedeploy.iam.calls import codedeploy_calls, lambda_service_calls
from safedeploy.iam.enforce import function_role
from safedeploy.iam.policy import Decision, Request, evaluate
from safedeploy.iam.principals import renames, role_policies, shapes, walk
from safedeploy.iam.rule import service_role_problems
from safedeploy.template.deployments import deployments
from safedeploy.template.scope import Scope, build_scope, locate
from tests.template.conftest import ROOT

# The statement as it stood: every Lambda action on `<function ARN>:*` only.
OLD_SHIFT = """              - Sid: ShiftTargetAliases
                Effect: Allow
                Action:
                  - lambda:GetAlias
                  - lambda:UpdateAlias
                  - lambda:GetProvisionedConcurrencyConfig
                Resource: !Split [",", !Sub ["${Arns}:*", {Arns: !Join [":*,", !Ref TargetFunctionArns]}]]
"""


def kit_copy(tmp_path: Path, old_role: bool) -> Path:
    """The three templates in a scratch folder, the hooks' role optionally as it was."""
    for rel in ("template.yaml", "alarms/template.yaml", "hooks/template.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    if old_role:
        hooks = tmp_path / "hooks" / "template.yaml"
        text = hooks.read_text()
        start = text.index("              # Lambda authorizes GetAlias/UpdateAlias")
        end = text.index("              # metric-alarm gates only")
        hooks.write_text(text[:start] + OLD_SHIFT + text[end:])
    return tmp_path / "template.yaml"


def test_the_service_role_may_make_every_call_codedeploy_makes(root_scope: Scope) -> None:
    found = deployments(root_scope)
    assert {d.logical_id for d in found} == {"HelloWorldFunction", "EchoFunction"}
    rename, table = renames(root_scope), shapes(root_scope)
    for dep in found:
        located = locate(dep.scope, dep.role)
        assert located is not None and located[1] == "CodeDeployRole"
        role = role_policies(*located, rename=rename)
        calls = codedeploy_calls(dep, Where(), rename)
        assert {c.action for c in calls} == {
            "lambda:GetAlias",
            "lambda:UpdateAlias",
            "lambda:InvokeFunction",
            "cloudwatch:DescribeAlarms",
            "sns:Publish",
        }
        for call in calls:
            verdict = evaluate(role.statements, Request(call.action, call.resource), table)
            assert verdict.decision is Decision.ALLOWED, (call, verdict)
        assert service_role_problems(root_scope, dep) == []


def test_the_service_role_may_not_touch_other_functions(root_scope: Scope) -> None:
    dep = deployments(root_scope)[0]
    located = locate(dep.scope, dep.role)
    assert located is not None
    rename = renames(root_scope)
    role = role_policies(*located, rename=rename)
    other = "arn:aws:lambda:us-east-1:<AWS::AccountId>:function:not_generated_here"  # CloudFormation makes no name with "_"
    for action in ("lambda:UpdateAlias", "lambda:InvokeFunction", "lambda:GetAlias"):
        verdict = evaluate(role.statements, Request(action, other), shapes(root_scope))
        assert verdict.decision is Decision.IMPLICIT_DENY


def test_the_old_qualified_only_role_is_proven_unable_to_move_the_alias(tmp_path: Path) -> None:
    scope = build_scope(kit_copy(tmp_path, old_role=True))
    for dep in deployments(scope):
        problems = service_role_problems(scope, dep)
        assert [p.proven for p in problems] == [True, True], problems
        assert "lambda:GetAlias" in problems[0].message and "implicitly denied" in problems[0].message
        assert "lambda:UpdateAlias" in problems[1].message
        assert f"function:<{dep.logical_id}> " in problems[1].message  # the unqualified ARN


@pytest.mark.parametrize("old_role", [False, True])
def test_provisioned_concurrency_is_readable_on_the_alias_either_way(tmp_path: Path, old_role: bool) -> None:
    """CodeDeploy reads it only for an alias with provisioned concurrency (the sample has none); the
    grant stays, on the qualified ARNs, as AWSCodeDeployRoleForLambda has it."""
    scope = build_scope(kit_copy(tmp_path, old_role))
    dep = deployments(scope)[0]
    located = locate(dep.scope, dep.role)
    assert located is not None
    rename = renames(scope)
    role = role_policies(*located, rename=rename)
    alias = f"arn:aws:lambda:us-east-1:<AWS::AccountId>:function:<{dep.logical_id}>:live"
    verdict = evaluate(
        role.statements, Request("lambda:GetProvisionedConcurrencyConfig", alias), shapes(scope)
    )
    assert verdict.decision is Decision.ALLOWED


def test_lambda_may_do_its_part_with_every_functions_role(root_scope: Scope) -> None:
    """Logs, the hooks' dead-letter queue, the dead-letter consumer's SQS polling: Lambda's own calls
    with each function's role, the managed policies SAM attaches read from the shipped copies."""
    rename, table = renames(root_scope), shapes(root_scope)
    seen = set()
    for sc in walk(root_scope):
        for logical, res in sc.resources.items():
            if res["Type"] != "AWS::Lambda::Function" or not sc.active(logical):
                continue
            located = function_role(sc, logical)
            assert located is not None
            role = role_policies(*located, rename=rename)
            for call in lambda_service_calls(sc, logical, Where(), rename):
                verdict = evaluate(role.statements, Request(call.action, call.resource), table)
                assert verdict.decision is Decision.ALLOWED, (logical, call, verdict)
                seen.add((logical, call.action))
    assert ("PreTrafficHook", "sqs:SendMessage") in seen and (
        "LostReportFunction",
        "sqs:ReceiveMessage",
    ) in seen


def test_the_pipelines_deploy_role_may_make_every_call_watch_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`safedeploy watch` as the pipeline runs it (the Stubber answers of tests/unit/test_live.py),
    its clients guarded by the deploy role of pipeline/github-oidc-role.yaml."""
    from safedeploy import cli
    from safedeploy.iam.enforce import Account
    from tests.helpers import APP, GROUP
    from tests.unit.test_live import AWS, STACK, active

    scope = build_scope(
        ROOT / "pipeline" / "github-oidc-role.yaml",
        {"GitHubOrg": "o", "GitHubRepo": "r", "StackPrefix": "safe-deploy"},
    )
    account = Account(
        {"DeployRole": role_policies(scope, "DeployRole", rename={}).statements}, lambda d: (APP, GROUP)
    )
    aws = AWS(monkeypatch)
    for client in aws.clients.values():
        account.guard(client, "DeployRole")
    aws.stack()
    active(aws, ["d-1"])
    aws.poll("Succeeded", 1.0, {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Succeeded"})
    assert cli.main(["watch", "--stack", STACK, "--format", "json", "--interval", "1"]) == 0
    aws.done()
    decided = {(d.action, d.decision) for d in account.log}
    assert {a for a, _ in decided} >= {"cloudformation:ListStackResources", "codedeploy:GetDeployment"}
    assert {d for _, d in decided} == {Decision.ALLOWED}, account.denied()
