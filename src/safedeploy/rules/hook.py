"""Rules on the pre- and post-traffic hooks a deployment runs."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from safedeploy_core.case_source import SMOKE_TAG

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
from safedeploy.template.scope import Scope, known

MISPLACED_NAME = (
    "FunctionName sits beside Properties, where SAM and CloudFormation ignore it, so the hook gets a "
    "generated name: move it under Properties"
)
SD111 = Rule(
    "SD111",
    "warning",
    "function",
    "this kit's hooks test a function with no safedeploy:smoke-cases tag (or a mistyped one), or one "
    "that names no case file: the hook fails every deployment",
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


def _environment(where: Scope, logical_id: str) -> dict[str, Any]:
    env = function_properties(where, logical_id).get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    return variables if isinstance(variables, dict) else {}


def rule_smoke_cases(dep: FunctionDeployment) -> Iterator[Finding]:
    """This kit's hooks (they read SMOKE_CASE_LOCATION) find the target's cases through its tag
    (safedeploy_core.case_source) and fail when there is none to run."""
    ours = [
        h
        for h in (dep.pre_hook, dep.post_hook)
        if h is not None
        and h.scope is not None
        and h.logical_id is not None
        and "SMOKE_CASE_LOCATION" in _environment(h.scope, h.logical_id)
    ]
    if not ours:
        return
    tags = function_properties(dep.scope, dep.logical_id).get("Tags")
    tags = tags if isinstance(tags, dict) else {}
    if SMOKE_TAG not in tags:
        near = difflib.get_close_matches(SMOKE_TAG, [str(t) for t in tags], n=1, cutoff=0.7)
        has = f"has {near[0]!r} instead (a typo?)" if near else "has no such tag"
        yield SD111.finding(
            dep.logical_id,
            f"{ours[0].display} finds its smoke cases through the tag {SMOKE_TAG!r}, and {dep.logical_id} "
            f"{has}: the hook fails every deployment (unless the tag is set outside this template)",
        )
        return
    key = dep.scope.resolve(tags[SMOKE_TAG])
    if not isinstance(key, str) or not known(key):
        return
    for hook in ours:
        assert hook.scope is not None and hook.logical_id is not None
        location = hook.scope.resolve(_environment(hook.scope, hook.logical_id)["SMOKE_CASE_LOCATION"])
        code = function_properties(hook.scope, hook.logical_id).get("CodeUri")
        if not (isinstance(location, str) and known(location) and isinstance(code, str)):
            continue
        if location.startswith("s3://") or code.startswith("s3://"):
            continue  # read at run time, from S3
        case_file = Path(hook.scope.path).parent / code / location / f"{key}.json"
        if not case_file.is_file():
            yield SD111.finding(
                dep.logical_id,
                f"tag {SMOKE_TAG}={key} names no case file: {hook.display}'s package has no "
                f"{location}/{key}.json, so the hook fails every deployment",
            )
            return
