"""Rules on the traffic a deployment shifts: what reaches the function without going through the alias
that CodeDeploy moves (SAM binds a function's own events, API and URL to the alias; a resource written
by hand that names the unqualified function invokes $LATEST and never sees the canary or its rollback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from safedeploy.rules.base import Finding, Rule
from safedeploy.template.deployments import FunctionDeployment, function_properties
from safedeploy.template.scope import Scope

SD110 = Rule(
    "SD110",
    "warning",
    "template",
    "traffic bound to the unqualified function (an integration, event source mapping, function URL, "
    "permission, rule target): it runs $LATEST and bypasses the gradual deployment",
)
SD207 = Rule(
    "SD207",
    "warning",
    "hook",
    "a pre-traffic hook pointed at the alias: before the shift the alias runs the old version, so the "
    "hook tests the old one",
)

# The resources that send traffic to a function, and that a person writes next to a SAM function.
ROUTING_TYPES = {
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Url",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::S3::Bucket",
    "AWS::AppSync::DataSource",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::StepFunctions::StateMachine",
    "AWS::Cognito::UserPool",
    "AWS::IoT::TopicRule",
}


def unqualified(value: Any, fn: str) -> bool:
    """Whether a template value names function `fn` without a version or alias: `!Ref Fn`,
    `!GetAtt Fn.Arn`, `${Fn}`/`${Fn.Arn}` in a Sub not followed by `:qualifier`, or such a value in a
    Join not followed by a `:...` part."""
    if isinstance(value, dict):
        if value.get("Ref") == fn or value.get("Fn::GetAtt") in ([fn, "Arn"], f"{fn}.Arn"):
            return True
        if "Fn::Sub" in value:
            args = value["Fn::Sub"]
            text = args if isinstance(args, str) else args[0] if isinstance(args, list) and args else ""
            if isinstance(text, str) and re.search(r"\$\{" + re.escape(fn) + r"(\.Arn)?\}(?!:)", text):
                return True
            return isinstance(args, list) and len(args) > 1 and unqualified(args[1], fn)
        if "Fn::Join" in value:
            args = value["Fn::Join"]
            parts = args[1] if isinstance(args, list) and len(args) == 2 and isinstance(args[1], list) else []
            delimiter = str(args[0]) if parts else ""
            for i, part in enumerate(parts):
                last = i + 1 == len(parts)
                nxt = (
                    "" if last else (delimiter + parts[i + 1] if isinstance(parts[i + 1], str) else delimiter)
                )
                if unqualified(part, fn) and not (nxt.startswith(":") and not last):
                    return True
            return False
        return any(unqualified(v, fn) for v in value.values())
    if isinstance(value, list):
        return any(unqualified(v, fn) for v in value)
    return False


def _on_alias(value: Any, fn: str, aliases: set[str]) -> bool:
    """Whether a value names one of `fn`'s aliases (`!Ref FnAliaslive`, `${Fn.Arn}:live`)."""
    if isinstance(value, dict):
        if value.get("Ref") in aliases:
            return True
        sub = value.get("Fn::Sub")
        text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) and sub else ""
        if isinstance(text, str) and re.search(r"\$\{" + re.escape(fn) + r"(\.Arn)?\}:", text):
            return True
        return any(_on_alias(v, fn, aliases) for v in value.values())
    if isinstance(value, list):
        return any(_on_alias(v, fn, aliases) for v in value)
    return False


def rule_bypass(scope: Scope, found: list[FunctionDeployment]) -> Iterator[Finding]:
    functions = sorted({dep.logical_id for dep in found if dep.alias})
    resources = scope.resources
    aliases = {
        fn: {
            k
            for k, r in resources.items()
            if r.get("Type") == "AWS::Lambda::Alias"
            and (r.get("Properties") or {}).get("FunctionName") == {"Ref": fn}
        }
        for fn in functions
    }
    # A permission only lets a caller in; it sends no traffic. One on the unqualified function matters
    # when it is the function's only one: then whatever that caller invokes is $LATEST.
    granted_on_alias = {
        fn
        for fn in functions
        for r in resources.values()
        if r.get("Type") == "AWS::Lambda::Permission"
        and _on_alias((r.get("Properties") or {}).get("FunctionName"), fn, aliases[fn])
    }
    for logical, res in resources.items():
        kind = res.get("Type")
        if kind not in ROUTING_TYPES:
            continue
        props = res.get("Properties") or {}
        if kind == "AWS::Lambda::Url" and props.get("Qualifier"):
            continue
        for fn in functions:
            if kind == "AWS::Lambda::Permission" and fn in granted_on_alias:
                continue
            if unqualified(props, fn):
                what = (
                    f"this permission, {fn}'s only one, is on the unqualified function, so what its "
                    f"principal invokes is $LATEST"
                    if kind == "AWS::Lambda::Permission"
                    else f"this {kind} names {fn} without its alias, so its traffic runs $LATEST"
                )
                yield SD110.finding(
                    logical,
                    f"{what}: it never sees the gradual shift, the gate alarms or a rollback; point it at "
                    f"the alias (!Ref {fn}.Alias, or ${{{fn}.Arn}}:<alias>)",
                )


def _names(value: Any, target: str, suffix: str) -> bool:
    """Whether a hook's environment refers to the target's alias (suffix `.Alias`) or version."""
    if isinstance(value, dict):
        ref = value.get("Ref")
        if isinstance(ref, str) and ref == f"{target}{suffix}":
            return True
        return any(_names(v, target, suffix) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, target, suffix) for v in value)
    return False


def rule_pre_traffic_alias(dep: FunctionDeployment) -> Iterator[Finding]:
    hook = dep.pre_hook
    if hook is None or hook.scope is None or hook.logical_id is None or hook.scope is not dep.scope:
        return
    env = (function_properties(hook.scope, hook.logical_id).get("Environment") or {}).get("Variables") or {}
    target = dep.logical_id
    if _names(env, target, ".Alias") and not _names(env, target, ".Version"):
        yield SD207.finding(
            hook.display,
            f"the pre-traffic hook's environment names {target}.Alias and not {target}.Version: before "
            "traffic shifts, the alias still runs the old version, so the hook tests the old one; pass "
            f"!Ref {target}.Version (or take the version from the deployment's AppSpec)",
        )
