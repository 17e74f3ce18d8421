"""Rules on the pre- and post-traffic hooks a deployment runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from safedeploy.rules.base import Finding, Rule
from safedeploy.rules.iam import (
    _PARTLY_VISIBLE,
    SD201,
    SD203,
    SD204,
    _invocable_by_codedeploy,
    _lambda_invoke_policy,
    _version_arn,
    allows,
    role_statements,
)
from safedeploy.template.deployments import FunctionDeployment, HookRef, deployments, function_properties
from safedeploy.template.scope import Scope

MISPLACED_NAME = (
    "FunctionName sits beside Properties, where SAM and CloudFormation ignore it, so the hook gets a "
    "generated name: move it under Properties"
)
SD202 = Rule(
    "SD202",
    "error",
    "hook",
    "hook without DeploymentPreference: Enabled: false (e.g. inherited from Globals)",
    twinned=True,
)
SD206 = Rule(
    "SD206",
    "error",
    "hook",
    "circular dependency through the alias or the implicit API (translated template)",
)


def _hook_findings(dep: FunctionDeployment, ref: HookRef, phase: str) -> Iterator[Finding]:
    if ref.scope is None or ref.logical_id is None:
        yield SD201.unverified(
            dep.logical_id,
            f"{phase} hook {ref.display!r} is not defined in this template: not verified",
        )
        return
    where, hook_id, hook = ref.scope, ref.logical_id, ref.display
    name = where.resolve(ref.properties.get("FunctionName"))
    misplaced = "FunctionName" in (where.sam_resources.get(hook_id) or {})
    for found in _invocable_by_codedeploy(dep, hook_id, hook, name):
        misnamed = misplaced and found.rule in (SD201.id, SD201.twin.id)
        yield replace(found, message=f"{found.message}; {MISPLACED_NAME}") if misnamed else found
    pref = function_properties(where, hook_id).get("DeploymentPreference") or {}
    enabled = _boolean(where.resolve(pref.get("Enabled", True))) if pref else False
    if enabled is None:
        yield SD202.unverified(
            hook,
            "the hook's DeploymentPreference.Enabled depends on a value only CloudFormation knows: a hook "
            "must never be deployed through CodeDeploy itself; make sure it resolves to false",
        )
    elif enabled:
        yield SD202.finding(
            hook,
            "a hook must not be deployed through CodeDeploy itself: set DeploymentPreference: Enabled: false",
        )
    statements, complete = role_statements(where, hook_id)
    if not allows(
        statements,
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:<ServerlessDeploymentApplication>/"
        f"<{dep.logical_id}DeploymentGroup>",
    ):
        yield SD203.proven_if(
            complete,
            hook,
            ("the hook's role lacks" if complete else _PARTLY_VISIBLE)
            + " codedeploy:PutLifecycleEventHookExecutionStatus: CodeDeploy would wait an hour for a status "
            "that can never arrive",
        )
    if phase == "PreTraffic" and not allows(
        statements, "lambda:InvokeFunction", _version_arn(dep.logical_id)
    ):
        yield SD204.proven_if(
            complete,
            hook,
            ("the hook's role may not" if complete else f"{_PARTLY_VISIBLE} the right to")
            + f" invoke versions of {dep.logical_id} "
            f"(arn:...:function:{dep.logical_id}:N), so it cannot test the new version",
        )
    yield from _lambda_invoke_policy(where, hook_id, hook)


def _boolean(value: Any) -> bool | None:
    """A template boolean as CloudFormation reads it ("false", false); None when not known here."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def rule_hooks(dep: FunctionDeployment) -> Iterator[Finding]:
    if dep.pre_hook:
        yield from _hook_findings(dep, dep.pre_hook, "PreTraffic")
    if dep.post_hook:
        yield from _hook_findings(dep, dep.post_hook, "PostTraffic")


def rule_cycles(scope: Scope) -> Iterator[Finding]:
    """Circular dependencies on the TRANSLATED template (the SAM file hides them)."""
    from cfnlint.template import Template

    template = Template("", scope.cfn, ["us-east-1"])
    if template.graph is None:
        return
    hooks = _hook_ids(scope)
    seen: set[str] = set()
    for cycle in template.graph.get_cycles(template):
        members = [str(n) for n in cycle]
        culprit = next((m for m in members if m in hooks), members[0])
        if culprit in seen:
            continue
        seen.add(culprit)
        yield SD206.finding(
            culprit,
            f"circular dependency {' -> '.join(members)}: a hook (or the app that holds it) refers to "
            "the alias or the implicit API; discover the URL at run time (SSM parameter, stack output)",
        )


def _hook_ids(scope: Scope) -> set[str]:
    ids: set[str] = set()
    for dep in deployments(scope):
        for hook in (dep.pre_hook, dep.post_hook):
            ref = hook.reference if hook else None
            if isinstance(ref, dict) and "Ref" in ref:
                ids.add(str(ref["Ref"]))
            elif isinstance(ref, dict) and "Fn::GetAtt" in ref:
                ids.add(str(ref["Fn::GetAtt"][0]))
    return ids
