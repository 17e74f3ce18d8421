"""The pipeline's CloudFormation execution role (pipeline/github-oidc-role.yaml) may make the calls
CloudFormation makes with it to create, update and delete every resource of the app's translated
templates (template.yaml and its nested hooks/ and alarms/ stacks), evaluated with the kit's IAM logic.

Proven: for each resource type of the translated templates, every permission the registry schema's
create/update/delete handler lists (cfn-lint's copy) that this app's configuration uses
(safedeploy.iam.stack_operations: own service, plus the EXTRA rules tied to properties the resource
has) is allowed by the role's policies, on the ARN the call names where it is built here: the app's
roles `<stack>-<LogicalId>-<suffix>` (nested: `<stack>-<Nested>-<suffix>-<LogicalId>-<suffix>`) and the
nested stacks against `role/${StackPrefix}-*` and `stack/${StackPrefix}-*/*` for a stack named
`safe-deploy-dev` (samconfig.toml), the code packages in the artefact bucket; "*" for every other call.
Every listed permission left out has its reason in UNUSED, and comes back as needed when the resource
has the property that uses it (a VpcConfig makes the function's ec2 calls needed).

Not proven: that the handlers call nothing beyond what the schemas list; that CloudFormation keeps
the stack prefix when it truncates a generated role name to IAM's 64 characters; that a stack name a
user picks starts with StackPrefix; calls CloudFormation makes itself outside the resource handlers
(reading a nested TemplateURL, the SAM transform, stack-level calls); the permissions boundary or SCPs
of the account.
"""

from __future__ import annotations

import dataclasses

import pytest

from safedeploy.iam.policy import Decision, Request, Statement, evaluate
from safedeploy.iam.principals import renames, role_policies, shapes
from safedeploy.iam.stack_operations import SHAPES, UNUSED, Operation, Skipped, stack_operations
from safedeploy.template.scope import Scope, build_scope
from tests.template.conftest import ROOT

STACK = "safe-deploy-dev"
ARTEFACTS = "<ArtifactBucket.Arn>"  # the bucket `sam deploy --s3-bucket` uploads to (deploy.yml)


def _execution_role() -> tuple[tuple[Statement, ...], dict[str, object]]:
    scope = build_scope(
        ROOT / "pipeline" / "github-oidc-role.yaml",
        {"GitHubOrg": "o", "GitHubRepo": "r", "StackPrefix": "safe-deploy"},
    )
    role = role_policies(scope, "CloudFormationExecutionRole", rename=renames(scope))
    return role.statements, {**shapes(scope), **SHAPES}


def _denied(root_scope: Scope, statements: tuple[Statement, ...], table: dict[str, object]) -> list[str]:
    out = []
    for op in stack_operations(root_scope, STACK, ARTEFACTS):
        if isinstance(op, Operation):
            verdict = evaluate(statements, Request(op.action, op.arn), table)  # type: ignore[arg-type]
            if verdict.decision is not Decision.ALLOWED:
                out.append(f"{op.resource} {op.handler} {op.action} on {op.arn}: {verdict.decision.value}")
    return sorted(set(out))


def test_the_execution_role_may_create_update_and_delete_every_resource(root_scope: Scope) -> None:
    ops = list(stack_operations(root_scope, STACK, ARTEFACTS))
    kept = [o for o in ops if isinstance(o, Operation)]
    # every resource of the root and its three nested stacks, all three handlers
    assert {o.resource.split("/")[0] for o in kept} >= {
        "Hooks",
        "EchoAlarms",
        "HelloWorldAlarms",
        "HelloWorldFunction",
    }
    assert {(o.type, o.handler) for o in kept} >= {
        ("AWS::SQS::Queue", "delete"),
        ("AWS::IAM::Role", "update"),
    }
    # every left-out permission is a decision with its reason, not a silent drop
    assert [o for o in ops if isinstance(o, Skipped) and not o.why] == []
    # the calls whose ARN the model builds are among those checked
    named = {(o.action, o.arn) for o in kept}
    assert (
        "iam:PassRole",
        "arn:aws:iam::<AWS::AccountId>:role/safe-deploy-dev-Hooks-<suffix>-CodeDeployRole-<suffix>",
    ) in named
    assert (
        "cloudformation:CreateStack",
        "arn:aws:cloudformation:us-east-1:<AWS::AccountId>:stack/safe-deploy-dev-Hooks-<suffix>/<stack-id>",
    ) in named
    assert ("s3:GetObject", "<ArtifactBucket.Arn>/HelloWorldFunction.zip") in named
    # every role passed and every package read has its ARN built, none is checked on "*"
    assert [o for o in kept if o.action in ("iam:PassRole", "s3:GetObject") and o.arn == "*"] == []
    # the aliases' UpdatePolicy makes CloudFormation start the traffic shift through CodeDeploy
    assert ("EchoFunctionAliaslive", "codedeploy:CreateDeployment") in {(o.resource, o.action) for o in kept}
    # no reason in UNUSED is stale: each one is a decision about a resource of these templates
    assert {(o.type, o.action) for o in ops if isinstance(o, Skipped)} == set(UNUSED)
    statements, table = _execution_role()
    assert _denied(root_scope, statements, table) == []


def _without(statements: tuple[Statement, ...], sid: str, action: str) -> tuple[Statement, ...]:
    out = []
    for st in statements:
        if st.source.endswith(f"statement {sid}"):
            out.append(dataclasses.replace(st, actions=tuple(a for a in st.actions if a != action)))
        else:
            out.append(st)
    return tuple(out)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: _without(s, "AppServices", "sqs:*"), "Hooks/LostReportQueue create sqs:CreateQueue"),
        (lambda s: _without(s, "AppRoles", "iam:PassRole"), "HelloWorldFunction create iam:PassRole"),
        (
            lambda s: _without(s, "AppRoles", "iam:ListRolePolicies"),
            "EchoFunctionRole delete iam:ListRolePolicies",
        ),
        (
            lambda s: tuple(
                dataclasses.replace(
                    st, resources=("arn:aws:iam::<AWS::AccountId>:role/safe-deploy-dev-Hello*",)
                )
                if st.source.endswith("statement AppRoles")
                else st
                for st in s
            ),
            "Hooks/PreTrafficHookRole create iam:CreateRole",
        ),
        (
            lambda s: _without(s, "NestedStacks", "cloudformation:*"),
            "Hooks create cloudformation:CreateStack",
        ),
    ],
)
def test_a_role_missing_a_needed_grant_fails(root_scope: Scope, edit: object, expected: str) -> None:
    statements, table = _execution_role()
    denied = _denied(root_scope, edit(statements), table)  # type: ignore[operator]
    assert any(d.startswith(expected) for d in denied), denied


def test_a_property_that_uses_another_service_makes_its_permissions_needed(root_scope: Scope) -> None:
    """A VPC configuration on the sample function: the handlers' ec2 calls become needed, and the
    execution role, which grants no ec2, is shown unable to deploy it."""
    function = root_scope.resources["HelloWorldFunction"]
    vpc = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    edited = dataclasses.replace(
        root_scope,
        cfn={
            **root_scope.cfn,
            "Resources": {
                **root_scope.resources,
                "HelloWorldFunction": {
                    **function,
                    "Properties": {**function["Properties"], "VpcConfig": vpc},
                },
            },
        },
    )
    statements, table = _execution_role()
    denied = _denied(edited, statements, table)
    assert "HelloWorldFunction create ec2:DescribeSubnets on *: implicitly denied" in denied
    assert _denied(root_scope, statements, table) == []
