"""Rules on a function's DeploymentPreference: its type, what can roll it back, what publishes a version."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from safedeploy_core.timing import PREDEFINED

from safedeploy.rules.base import Finding, Rule
from safedeploy.template.deployments import FunctionDeployment, function_properties
from safedeploy.template.scope import Scope

MAX_ALARMS = 10
SHOWN = 3  # names a message lists before "and N more" (the JSON has them all)
PREFIX = "CodeDeployDefault.Lambda"  # SAM prefixes the predefined names with it


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def nearest(name: str, names: tuple[str, ...]) -> list[str]:
    """The closest of difflib's close matches: the same numbers first (a percentage and an interval
    are what a name says; Every1Minutes is one edit from both Every1Minute and Every10Minutes), then
    the fewest edits; every name that ties; [] when none is close."""

    def distance(candidate: str) -> tuple[bool, int]:
        return re.findall(r"\d+", candidate) != re.findall(r"\d+", name), _edits(name, candidate)

    close = difflib.get_close_matches(name, names, n=5)
    best = min((distance(c) for c in close), default=None)
    return [c for c in close if distance(c) == best]


SD101 = Rule(
    "SD101",
    "warning",
    "function",
    "deployment type neither predefined nor defined in the template: a custom config that "
    "must exist in the account (not verified)",
)
SD102 = Rule(
    "SD102",
    "warning",
    "function",
    "AllAtOnce with alarms (they can only fire after every user saw the version)",
)
SD103 = Rule(
    "SD103",
    "error",
    "function",
    "Canary/Linear with neither alarms nor hooks: it can never roll back",
    twinned=True,
)
SD104 = Rule("SD104", "error", "function", "more than 10 alarms on a deployment group", twinned=True)
SD105 = Rule("SD105", "info", "function", "note, once per template: the first create runs no hooks")
SD106 = Rule(
    "SD106",
    "warning",
    "function",
    "environment variable from a parameter: changing only the parameter publishes no version, "
    "so no deployment runs",
)
SD108 = Rule(
    "SD108",
    "warning",
    "template",
    "a deployment-type parameter allows a name that is neither predefined nor defined here "
    "(a typo stays silent until that value is deployed)",
)
SD109 = Rule(
    "SD109",
    "info",
    "function",
    "note, once per template: functions that serve traffic (events, a function URL) with no gradual "
    "deployment at all",
)
SD107 = Rule(
    "SD107",
    "warning",
    "function",
    "Canary/Linear with hooks but no alarm: nothing watches the shifted traffic before 100 %",
)


def rule_deployment_type(dep: FunctionDeployment) -> Iterator[Finding]:
    name = dep.type_name
    if name is None or dep.config is not None:
        return
    custom = {
        dep.scope.resolve(r.get("Properties", {}).get("DeploymentConfigName"))
        for r in dep.scope.resources.values()
        if r.get("Type") == "AWS::CodeDeploy::DeploymentConfig"
    }
    if f"CodeDeployDefault.Lambda{name}" in custom or name in custom:
        return  # defined here, its schedule not known: the timing rules say so
    # SAM prefixes only its predefined names; any other Type goes to CodeDeploy as it is, the name of
    # a custom configuration (samtranslator deployment_preference_collection._replace_deployment_types).
    # One created outside this template may well exist in the account, so this is never proven wrong.
    close = nearest(name, PREDEFINED)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    yield SD101.finding(
        dep.logical_id,
        f"deployment type {name!r} is neither predefined nor an AWS::CodeDeploy::DeploymentConfig of this "
        f"template: SAM passes it to CodeDeploy as a custom configuration's name, which must exist in the "
        f"account (not verified here, and its schedule is unknown, so no timing rule runs); {hint}"
        f"use one of {', '.join(PREDEFINED)} or define the config in this template",
    )


def rule_rollback_triggers(dep: FunctionDeployment) -> Iterator[Finding]:
    if dep.config is None:
        return
    if dep.config.kind == "all-at-once" and dep.alarms:
        parameter = _type_parameter(dep)
        source = f" (the value of parameter {parameter})" if parameter else ""
        yield SD102.finding(
            dep.logical_id,
            f"AllAtOnce{source} with alarms: all traffic moves at once, so an alarm can only roll back "
            "after every user already saw the new version; use Canary or Linear",
            {"parameter": parameter} if parameter else None,
        )
    if dep.config.kind != "all-at-once" and not dep.alarms and not dep.pre_hook and not dep.post_hook:
        yield SD103.finding(
            dep.logical_id,
            f"{dep.type_name} with neither alarms nor hooks: nothing can ever roll this deployment back",
        )
    elif dep.config.kind != "all-at-once" and not dep.alarms:
        until = (
            "until the post-traffic hook runs at 100 %"
            if dep.post_hook
            else "and the shift goes on to 100 % (only the pre-traffic hook, before any traffic, can stop it)"
        )
        yield SD107.finding(
            dep.logical_id,
            f"{dep.type_name} with hooks but no alarm: nothing watches the shifted traffic, so a bad "
            f"version keeps its share {until}; add gate alarms on the new version "
            "(DeploymentPreference.Alarms)",
        )
    if len(dep.alarms) > MAX_ALARMS:
        yield SD104.finding(
            dep.logical_id,
            f"{len(dep.alarms)} alarms: CodeDeploy accepts at most {MAX_ALARMS} per deployment group",
        )
    yield from _parameter_only_environment(dep)


def _parameter_refs(value: Any, parameters: set[str]) -> set[str]:
    if isinstance(value, dict):
        found: set[str] = set()
        for key, inner in value.items():
            if key == "Ref" and inner in parameters:
                found.add(str(inner))
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {p for p in parameters if "${" + p + "}" in str(text)}
                if isinstance(inner, list):
                    found |= _parameter_refs(inner[1], parameters)
            else:
                found |= _parameter_refs(inner, parameters)
        return found
    if isinstance(value, list):
        return set().union(*(_parameter_refs(v, parameters) for v in value)) if value else set()
    return set()


def _parameter_only_environment(dep: FunctionDeployment) -> Iterator[Finding]:
    """SAM names the version after a hash of the UNRESOLVED Environment: a parameter-only change publishes
    no version, so the alias (and its users) keep the old value and no deployment runs."""
    parameters = set(dep.scope.sam.get("Parameters", {}))
    environment = function_properties(dep.scope, dep.logical_id).get("Environment") or {}
    variables = environment.get("Variables") or {}
    used = {name: _parameter_refs(value, parameters) for name, value in variables.items()}
    risky = sorted(f"{name} (from {', '.join(sorted(refs))})" for name, refs in used.items() if refs)
    if risky and not dep.function_props.get("AutoPublishCodeSha256"):
        shown = ", ".join(risky[:SHOWN]) + (f" and {len(risky) - SHOWN} more" if len(risky) > SHOWN else "")
        yield SD106.finding(
            dep.logical_id,
            f"environment {shown}: {SD106_TEXT}",
            {
                "variables": {name: sorted(refs) for name, refs in sorted(used.items()) if refs},
                "parameters": sorted(set().union(*used.values())),
            },
        )


def first_create_note(found: list[FunctionDeployment]) -> Iterator[Finding]:
    if found:
        yield SD105.finding(
            found[0].logical_id,
            "note: the first create of the stack runs no hooks and shifts no traffic; "
            "protection starts with the second deployment",
        )


def _type_parameters(scope: Scope) -> dict[str, list[str]]:
    """Parameters that choose a function's DeploymentPreference.Type (`Type: !Ref P`, Globals
    included) -> the functions they choose it for."""
    parameters = scope.sam.get("Parameters") or {}
    chosen: dict[str, list[str]] = {}
    for logical_id, res in scope.sam_resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        preference = function_properties(scope, logical_id).get("DeploymentPreference")
        ref = preference.get("Type") if isinstance(preference, dict) else None
        if isinstance(ref, dict) and isinstance(ref.get("Ref"), str) and ref["Ref"] in parameters:
            chosen.setdefault(ref["Ref"], []).append(logical_id)
    return chosen


def rule_type_parameter_values(scope: Scope) -> Iterator[Finding]:
    """Each AllowedValues entry of a Type parameter is a deployment that can be chosen: one that is
    neither predefined nor a DeploymentConfig of this template goes to CodeDeploy as a custom
    configuration's name (SAM's deployment_preference_collection passes unknown names unchanged)."""
    custom = {
        str(scope.resolve(r.get("Properties", {}).get("DeploymentConfigName")))
        for r in scope.resources.values()
        if r.get("Type") == "AWS::CodeDeploy::DeploymentConfig"
    }
    for parameter, functions in sorted(_type_parameters(scope).items()):
        allowed = (scope.sam.get("Parameters") or {})[parameter].get("AllowedValues")
        for value in allowed if isinstance(allowed, list) else []:
            name = str(value).removeprefix(PREFIX)
            if name in PREDEFINED or str(value) in custom or f"{PREFIX}{name}" in custom:
                continue
            close = nearest(name, PREDEFINED)
            hint = (
                f"did you mean {' or '.join(map(repr, close))}?"
                if close
                else f"predefined: {', '.join(PREDEFINED)}"
            )
            yield SD108.finding(
                parameter,
                f"AllowedValues {value!r} of {parameter} (DeploymentPreference.Type of "
                f"{', '.join(sorted(functions))}) is neither a predefined deployment type nor a "
                f"DeploymentConfig of this template: choosing it makes CodeDeploy look for a custom "
                f"configuration of that name in the account; {hint}",
            )


def _type_parameter(dep: FunctionDeployment) -> str | None:
    """The parameter that gives the function's DeploymentPreference.Type, if one does."""
    preference = function_properties(dep.scope, dep.logical_id).get("DeploymentPreference")
    ref = preference.get("Type") if isinstance(preference, dict) else None
    parameters = dep.scope.sam.get("Parameters") or {}
    name = ref.get("Ref") if isinstance(ref, dict) else None
    return name if isinstance(name, str) and name in parameters else None


SD106_TEXT = (
    "changing only such a parameter publishes no new version (SAM hashes the unresolved Environment), "
    "so no deployment runs and the alias keeps the old value; ship it with a code change"
)


def _shared_key(f: Finding) -> tuple[str, ...] | None:
    """What makes findings on several functions one fact: SD102 from one Type parameter, SD106 from
    the same parameters (a scenario's `when ...:` prefix kept apart)."""
    if f.rule == SD102.id and f.details.get("parameter"):
        return (f.rule, f.message)
    if f.rule == SD106.id and f.details.get("parameters"):
        prefix = f.message.partition("environment ")[0]
        return (f.rule, prefix, *f.details["parameters"])
    return None


def once_per_parameter(findings: list[Finding]) -> list[Finding]:
    """SD102 or SD106 on several functions for one parameter: said once, on the first of them,
    naming the others (and all of them in the JSON)."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for f in findings:
        key = _shared_key(f)
        if key is not None:
            groups.setdefault(key, []).append(f)
    merged = {id(group[0]): group for group in groups.values() if len(group) > 1}
    dropped = {id(f) for group in merged.values() for f in group[1:]}
    out = []
    for f in findings:
        if id(f) in dropped:
            continue
        group = merged.get(id(f))
        if not group:
            out.append(f)
            continue
        names = sorted(g.resource for g in group)
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        on = f"{len(names)} functions: {', '.join(names[:SHOWN])}{more}"
        if f.rule == SD106.id:
            prefix = f.message.partition("environment ")[0]
            parameters = ", ".join(f.details["parameters"])
            message = (
                f"{prefix}environment variables of {on} come from parameter(s) {parameters}: {SD106_TEXT}"
            )
            details = {
                "parameters": f.details["parameters"],
                "variables": {g.resource: g.details["variables"] for g in group},
            }
        else:
            message, details = f"{f.message} (on {on})", {**f.details}
        out.append(replace(f, message=message, details={**details, "functions": names}))
    return out


def rule_ungated_traffic(scope: Scope, found: list[FunctionDeployment]) -> Iterator[Finding]:
    """Functions with events or a URL and no deployment group: every release reaches all their
    traffic at once, and nothing here can roll it back. Said once, naming them."""
    gated = {dep.logical_id for dep in found}
    ungated = sorted(
        logical
        for logical, res in scope.sam_resources.items()
        if res.get("Type") == "AWS::Serverless::Function"
        and logical not in gated
        and scope.active(logical)
        and any(function_properties(scope, logical).get(key) for key in ("Events", "FunctionUrlConfig"))
        and f"{logical}DeploymentGroup" not in scope.resources
    )
    if ungated:
        more = f" and {len(ungated) - SHOWN} more" if len(ungated) > SHOWN else ""
        yield SD109.finding(
            ungated[0],
            f"note: {', '.join(ungated[:SHOWN])}{more} serve traffic with no gradual deployment: each "
            "release reaches all of it at once, with nothing to roll it back (AutoPublishAlias and "
            "DeploymentPreference add both)",
            {"functions": ungated},
        )
