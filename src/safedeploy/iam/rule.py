"""`check`'s authorization rule: can the deployment group's service role do what CodeDeploy does?

A pure function over a deployment as the translated template gives it: every call of calls.py is
evaluated against the role's policies (principals.py) with IAM's logic (policy.py). A call the role
is proven unable to make is a problem; one that rests on something not known here (a managed policy
not shipped, an open condition, a placeholder that may or may not match) is an unverified problem.
The SAM-generated role (AWSCodeDeployRoleForLambda, shipped) is evaluated like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from safedeploy.iam.actions import Where
from safedeploy.iam.calls import codedeploy_calls
from safedeploy.iam.policy import Request, evaluate
from safedeploy.iam.principals import ACCOUNT_PLACEHOLDER, renames, role_policies, shapes, trust_statements
from safedeploy.template.deployments import FunctionDeployment
from safedeploy.template.scope import Scope, locate


@dataclass(frozen=True)
class Problem:
    proven: bool
    message: str


def _hint(action: str) -> str:
    if action in ("lambda:GetAlias", "lambda:UpdateAlias"):
        return (
            " (Lambda authorizes it against the unqualified function ARN; a grant on NAME:* does not "
            "match that: grant it on the function's ARN)"
        )
    return ""


def service_role_problems(
    root: Scope, dep: FunctionDeployment, skip: frozenset[str] = frozenset()
) -> list[Problem]:
    """What CodeDeploy could not do with `dep`'s service role, proven or not verified (actions in
    `skip` left to other rules)."""
    if dep.role is None:
        return []
    found = locate(dep.scope, dep.role)
    if found is None:
        return [
            Problem(
                False,
                "DeploymentPreference.Role is not defined in this template: whether CodeDeploy may move "
                "the alias, invoke the hooks and read the alarms with it is not verified",
            )
        ]
    rename = renames(root)
    role = role_policies(*found, rename=rename)
    table = shapes(root)
    problems: list[Problem] = []
    # CodeDeploy assumes the role first (sts:AssumeRole as codedeploy.amazonaws.com, for this account)
    trust = trust_statements(*found, "codedeploy.amazonaws.com", rename)
    context = {"aws:SourceAccount": ACCOUNT_PLACEHOLDER}
    assumed = evaluate(trust, Request("sts:AssumeRole", "*", context), table)
    if assumed.decision.denied:
        problems.append(
            Problem(
                True,
                f"{role.role}'s trust policy does not let codedeploy.amazonaws.com assume it "
                f"({assumed.decision.value}), so the deployment fails on AWS",
            )
        )
    elif not assumed.allowed:
        because = "; ".join(assumed.because) or "a value not known here"
        problems.append(
            Problem(
                False,
                f"not verified: whether codedeploy.amazonaws.com may assume {role.role}: "
                f"it rests on {because}",
            )
        )
    for call in codedeploy_calls(dep, Where(), rename):
        if call.action in skip:
            continue
        verdict = evaluate(role.statements, Request(call.action, call.resource), table)
        if verdict.allowed and not role.bounded:
            continue
        what = f"{role.role} may not {call.action} on {call.resource} (CodeDeploy {call.why})"
        if verdict.decision.denied:
            problems.append(
                Problem(
                    True,
                    f"{what}: {verdict.decision.value}, so the deployment fails on AWS{_hint(call.action)}",
                )
            )
        elif verdict.allowed:
            problems.append(
                Problem(False, f"not verified: {what}: the role has a permissions boundary not read here")
            )
        else:
            because = "; ".join(verdict.because) or "a value not known here"
            problems.append(Problem(False, f"not verified: {what}: it rests on {because}"))
    return problems
