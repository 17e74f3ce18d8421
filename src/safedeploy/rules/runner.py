"""`safedeploy check`'s run: every rule on every deployment scenario, errors resting on open conditions
reported as their unverified twins, findings of some scenarios named with them, ignores applied, and
each finding located in the file that defines its resource."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from safedeploy.rules.alarm import rule_alarms
from safedeploy.rules.base import SEVERITY_ORDER, Finding
from safedeploy.rules.function import (
    first_create_note,
    once_per_parameter,
    rule_deployment_type,
    rule_rollback_triggers,
    rule_type_parameter_values,
    rule_ungated_traffic,
)
from safedeploy.rules.general import rule_not_translated, rule_samconfig_capabilities
from safedeploy.rules.hook import rule_cycles, rule_hooks, rule_smoke_cases
from safedeploy.rules.iam import rule_service_role
from safedeploy.rules.registry import canonical, unverified
from safedeploy.rules.traffic import rule_bypass, rule_pre_traffic_alias
from safedeploy.template.deployments import FunctionDeployment, deployments
from safedeploy.template.loader import resource_position, source_text
from safedeploy.template.scope import Scope

FUNCTION_RULES: tuple[Callable[[FunctionDeployment], Iterator[Finding]], ...] = (
    rule_deployment_type,
    rule_rollback_triggers,
    rule_hooks,
    rule_alarms,
    rule_pre_traffic_alias,
    rule_smoke_cases,
    rule_service_role,
)


def check(
    scope: Scope, ignore: frozenset[str] = frozenset(), *, template_ignores: bool = True
) -> list[Finding]:
    """Every finding, less those ignored by id (`--ignore`, a config file) or by the resource's own
    `Metadata: {safedeploy: {ignore: [SDxxx]}}` (unless `template_ignores` is off: `check --strict`)."""
    not_translated = list(rule_not_translated(scope))
    if not_translated:
        return [_locate_finding(scope, f) for f in not_translated]
    for name in scope.cfn.get("Conditions", {}) or {}:
        scope.condition(name)  # a circular definition is a TemplateError (SD002), found before anything else
    findings: list[Finding] = [*rule_cycles(scope), *rule_type_parameter_values(scope)]
    found = deployments(scope)
    findings.extend(first_create_note(found))
    findings.extend(rule_bypass(scope, found))
    findings.extend(rule_ungated_traffic(scope, found))
    findings.extend(rule_samconfig_capabilities(scope))
    by_function: dict[str, list[tuple[FunctionDeployment, list[Finding]]]] = {}
    for dep in found:
        own = [f for rule in FUNCTION_RULES for f in rule(dep)]
        if dep.undecided:  # the deployment also rests on conditions not enumerated: nothing is proven
            unverified_because = (
                f" (not verified: depends on condition(s) {', '.join(dep.undecided)} left open)"
            )
            own = [
                replace(f, rule=unverified(f.rule), message=f.message + unverified_because)
                if f.severity == "error"
                else f
                for f in own
            ]
        by_function.setdefault(dep.logical_id, []).append((dep, own))
    for scenarios in by_function.values():
        findings.extend(_across_scenarios(scenarios))
    findings = once_per_parameter(findings)
    kept = [
        f
        for f in dict.fromkeys(findings)
        if f.rule not in ignore and not (template_ignores and f.rule in _ignored_by(scope, f))
    ]
    located = [_locate_finding(scope, f) for f in kept]
    return sorted(located, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule, f.resource))


def _locate_finding(scope: Scope, finding: Finding) -> Finding:
    """The file, line and column of the resource a finding names (`App/Resource`: in the nested
    application's own template; a resource SAM generated: the SAM resource that made it)."""
    *apps, logical = finding.resource.split("/")
    where = scope
    for app in apps:
        if app not in where.children:
            break
        where = where.children[app]
    else:
        position = (
            _parameter_position(where, logical)
            if logical in (where.sam.get("Parameters") or {})
            else resource_position(where.path, _source_resource(where, logical))
        )
        if position:
            return finding.located(str(where.path), *position)
    return finding.located(str(scope.path), 1, 1)


def _parameter_position(scope: Scope, name: str) -> tuple[int, int] | None:
    """1-based (line, column) of a parameter's key inside the Parameters section (a property of the
    same name elsewhere is not it)."""
    lines = source_text(scope.path).splitlines()
    # the top-level section (YAML at column 0, JSON one level in), not a ParameterGroups entry's list
    section = re.compile(r'^(Parameters|\s{0,4}"Parameters")\s*:')
    start = next((i for i, line in enumerate(lines) if section.match(line)), None)
    if start is None:
        return None
    key = re.compile(rf'^(\s+)"?{re.escape(name)}"?\s*:')
    for number, line in enumerate(lines[start + 1 :], start=start + 2):
        match = key.match(line)
        if match:
            return number, len(match.group(1)) + 1
    return None


def _source_resource(scope: Scope, logical: str) -> str:
    """A generated resource's SAM origin: `FnDeploymentGroup`/`FnAliaslive`/`FnRole` -> `Fn`."""
    if logical in scope.sam_resources or logical in (scope.sam.get("Parameters") or {}):
        return logical
    for origin in scope.sam_resources:
        if logical.startswith(origin):
            return origin
    return logical


def _across_scenarios(scenarios: list[tuple[FunctionDeployment, list[Finding]]]) -> Iterator[Finding]:
    """A finding of every scenario as it is; one of some scenarios only, named with its scenario."""
    if len(scenarios) == 1:
        yield from scenarios[0][1]
        return
    everywhere = set.intersection(*(set(found) for _, found in scenarios))
    yield from sorted(everywhere, key=lambda f: (f.rule, f.resource))
    for dep, found in scenarios:
        for f in found:
            if f not in everywhere:
                yield replace(f, message=f"when {dep.scenario_text}: {f.message}")


def _ignored_by(scope: Scope, finding: Finding) -> set[str]:
    """The rule ids a resource's Metadata ignores (`App/Resource`: the nested template's resource)."""
    *apps, logical = finding.resource.split("/")
    where = scope
    for app in apps:
        if app not in where.children:
            return set()
        where = where.children[app]
    metadata = (where.sam_resources.get(logical) or {}).get("Metadata") or {}
    if not isinstance(metadata, dict):
        return set()
    ours = _mapping(metadata.get("safedeploy")).get("ignore")
    # cfn-lint's own resource-level syntax, so one Metadata entry serves both linters
    theirs = _mapping(_mapping(metadata.get("cfn-lint")).get("config")).get("ignore_checks")
    return {canonical(str(x)) for listed in (ours, theirs) if isinstance(listed, list) for x in listed}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
