"""What a template's deployments look like once translated: per function, its deployment config,
hooks and gate alarms, with every reference resolved once (through nested applications)."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from safedeploy_core.timing import PREFIX, DeploymentConfig, deployment_config, traffic_config

from safedeploy.template.scope import (
    Scope,
    describe,
    known,
    locate,
    select_branches,
    unknown_conditions,
    unread_origin,
)


def merge_globals(globals_value: Any, own: Any) -> Any:
    """SAM's Globals merge ("Globals section of the AWS SAM template", Overridable properties): a
    resource's primitive value replaces the global one, maps are merged key by key, lists are added."""
    if isinstance(globals_value, dict) and isinstance(own, dict):
        merged = dict(globals_value)
        for key, value in own.items():
            merged[key] = merge_globals(globals_value.get(key), value) if key in globals_value else value
        return merged
    if isinstance(globals_value, list) and isinstance(own, list):
        return [*globals_value, *own]
    return globals_value if own is None else own


def function_properties(scope: Scope, logical_id: str) -> dict[str, Any]:
    """A SAM function's Properties with the template's `Globals.Function` merged in, as SAM does."""
    own = scope.sam_resources.get(logical_id, {}).get("Properties") or {}
    globals_fn = (scope.sam.get("Globals") or {}).get("Function") or {}
    merged: dict[str, Any] = merge_globals(globals_fn, own)
    return merged


@dataclass(frozen=True)
class HookRef:
    """A hook function named in the alias's UpdatePolicy, located in its template when it is there."""

    reference: Any
    scope: Scope | None
    logical_id: str | None
    display: str  # `Hooks/PreTrafficHook`, or the resolved name when not defined in the template

    @property
    def known(self) -> bool:
        return self.scope is not None and self.logical_id is not None

    @property
    def properties(self) -> dict[str, Any]:
        if self.scope is None or self.logical_id is None:
            return {}
        return self.scope.resources[self.logical_id].get("Properties", {})  # type: ignore[no-any-return]

    @property
    def timeout_s(self) -> int | None:
        if self.scope is None:
            return None
        return _int(self.scope.resolve(self.properties.get("Timeout", 3)))

    @property
    def dead_letter(self) -> bool | None:
        """Whether the hook has a dead-letter queue (SAM `DeadLetterQueue`, Globals included); None
        when the hook is not in the template."""
        if self.scope is None or self.logical_id is None:
            return None
        if self.logical_id in self.scope.sam_resources:
            return bool(function_properties(self.scope, self.logical_id).get("DeadLetterQueue"))
        return bool(self.properties.get("DeadLetterConfig"))


def hook_logical_id(scope: Scope, ref: Any) -> tuple[Scope, str] | None:
    """The scope and logical ID of a hook function named in the alias UpdatePolicy."""
    found = locate(scope, ref)
    if found:
        return found
    value = scope.resolve(ref)
    if isinstance(value, str):
        for logical_id, res in scope.resources.items():
            if (
                res.get("Type") == "AWS::Lambda::Function"
                and scope.resolve(res.get("Properties", {}).get("FunctionName")) == value
            ):
                return scope, logical_id
    return None


def hook_ref(scope: Scope, ref: Any) -> HookRef | None:
    if not ref:
        return None
    located = hook_logical_id(scope, ref)
    if located is None:
        return HookRef(ref, None, None, str(scope.resolve(ref)))
    where, logical = located
    return HookRef(ref, where, logical, where.qualified(logical))


@dataclass
class AlarmSpec:
    reference: str  # how the deployment group names it
    logical_id: str | None
    scope: Scope | None
    props: dict[str, Any] = field(default_factory=dict)
    unread: str = ""  # why an alarm outside the template cannot be read (a SAR application's output)

    @property
    def known(self) -> bool:
        return self.scope is not None

    @property
    def display(self) -> str:
        """`HelloWorldAlarms/ErrorRateGate` for an alarm in the template, else its reference."""
        return self.scope.qualified(self.logical_id) if self.scope and self.logical_id else self.reference

    @property
    def name(self) -> str:
        name = self.props.get("AlarmName")
        return name if isinstance(name, str) else (self.logical_id or self.reference)

    @property
    def period_s(self) -> int | None:
        if "Period" in self.props:
            return _int(self.props["Period"])
        found = (_int(m.get("MetricStat", {}).get("Period")) for m in self.props.get("Metrics", []))
        periods = [p for p in found if p]
        return max(periods) if periods else None

    @property
    def evaluation_periods(self) -> int | None:
        return _int(self.props.get("EvaluationPeriods"))

    @property
    def datapoints_to_alarm(self) -> int | None:
        return _int(self.props.get("DatapointsToAlarm"))

    def unresolved(self) -> list[str]:
        """The properties that shape the alarm's series but depend on a condition left open (their
        value is unknown, e.g. an Fn::If between two lists)."""
        found: list[str] = [
            name
            for name in ("Dimensions", "Metrics")
            if name in self.props and not isinstance(self.props[name], list)
        ]
        metrics = self.props.get("Metrics")
        for i, m in enumerate(metrics if isinstance(metrics, list) else []):
            stat = m.get("MetricStat", {}) if isinstance(m, dict) else None
            metric = stat.get("Metric", {}) if isinstance(stat, dict) else None
            dims = metric.get("Dimensions", []) if isinstance(metric, dict) else None
            if not isinstance(dims, list):
                found.append(f"Metrics[{i}]")
        return found

    def metric_stats(self) -> list[dict[str, Any]]:
        """[{namespace, metric, dimensions: {name: value}, stat}] for plain and metric-math alarms
        (call only when `unresolved()` is empty)."""
        if "MetricName" in self.props:
            dims = {d["Name"]: d.get("Value") for d in self.props.get("Dimensions", []) or []}
            stat = self.props.get("Statistic") or self.props.get("ExtendedStatistic")
            return [
                {
                    "namespace": self.props.get("Namespace"),
                    "metric": self.props["MetricName"],
                    "dimensions": dims,
                    "stat": stat,
                }
            ]
        out = []
        for m in self.props.get("Metrics", []) or []:
            stat = m.get("MetricStat")
            if stat:
                metric = stat.get("Metric", {})
                dims = {d["Name"]: d.get("Value") for d in metric.get("Dimensions", []) or []}
                out.append(
                    {
                        "namespace": metric.get("Namespace"),
                        "metric": metric.get("MetricName"),
                        "dimensions": dims,
                        "stat": stat.get("Stat"),
                        "id": m.get("Id"),
                    }
                )
        return out

    def expression(self) -> str | None:
        for m in self.props.get("Metrics", []) or []:
            if m.get("Expression") and m.get("ReturnData", True):
                return str(m["Expression"])
        return None

    def guard(self) -> int | None:
        """The minimum count per period a metric-math gate needs before it can breach, from an
        expression of the form `IF(count >= K, ...)` (or `>`) where `count` is a Sum query — the
        alarm pack's minimum-invocations guard. None: no such guard."""
        found = _GUARD.match(self.expression() or "")
        if not found:
            return None
        counts = {s.get("id") for s in self.metric_stats() if s.get("stat") == "Sum"}
        if found["id"] not in counts:
            return None
        value = float(found["value"])
        return math.ceil(value) if found["op"] == ">=" else math.floor(value) + 1


_GUARD = re.compile(r"\s*IF\s*\(\s*(?P<id>[A-Za-z_]\w*)\s*(?P<op>>=|>)\s*(?P<value>\d+(?:\.\d+)?)\s*,")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class FunctionDeployment:
    logical_id: str
    scope: Scope
    type_name: str | None
    config: DeploymentConfig | None
    alarms: list[AlarmSpec]
    pre_hook: HookRef | None
    post_hook: HookRef | None
    role: Any
    alias: str | None
    scenario: tuple[tuple[str, bool], ...] = ()  # conditions fixed for this entry (none: all known)
    undecided: tuple[str, ...] = ()  # open conditions beyond the enumerated ones

    @property
    def scenario_text(self) -> str:
        return " and ".join(f"{name} is {str(value).lower()}" for name, value in self.scenario)

    @property
    def function_props(self) -> dict[str, Any]:
        """The function's own SAM Properties (without Globals)."""
        return self.scope.sam_resources.get(self.logical_id, {}).get("Properties", {}) or {}


def _alarm_spec(scope: Scope, ref: Any) -> AlarmSpec:
    found = locate(scope, ref)
    if found:
        where, logical = found
        res = where.resources[logical]
        if res.get("Type") in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            return AlarmSpec(describe(ref), logical, where, where.resolve(res.get("Properties", {})))
    name = scope.resolve(ref)
    if isinstance(name, str):
        for candidate in [scope, *scope.children.values()]:
            for logical, res in candidate.resources.items():
                if res.get("Type") == "AWS::CloudWatch::Alarm":
                    props = candidate.resolve(res.get("Properties", {}))
                    if props.get("AlarmName") == name:
                        return AlarmSpec(name, logical, candidate, props)
    return AlarmSpec(describe(ref), None, None, unread=unread_origin(scope, ref))


# 16 scenarios per function at most; conditions beyond these stay open (`undecided`), and check
# reports no error that rests on them.
MAX_SCENARIO_CONDITIONS = 4


def deployments(scope: Scope) -> list[FunctionDeployment]:
    """One entry per function with a deployment group, and per scenario: the conditions its
    deployment depends on that these parameters leave open (each combination, true and false)."""
    out = []
    resources = scope.resources
    for logical_id, res in scope.sam_resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if not scope.active(logical_id):  # its Condition is false for these parameters: not created
            continue
        group = resources.get(f"{logical_id}DeploymentGroup")
        alias_id = next(
            (
                k
                for k, r in resources.items()
                if r.get("Type") == "AWS::Lambda::Alias"
                and r.get("Properties", {}).get("FunctionName") == {"Ref": logical_id}
            ),
            None,
        )
        if group is None:
            continue
        policy = (
            resources[alias_id].get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
            if alias_id
            else {}
        )
        gprops = group.get("Properties", {})
        alias = resources[alias_id]["Properties"].get("Name") if alias_id else None
        open_conditions = unknown_conditions(scope, [gprops, policy])
        enumerated, undecided = (
            open_conditions[:MAX_SCENARIO_CONDITIONS],
            open_conditions[MAX_SCENARIO_CONDITIONS:],
        )
        for values in reachable(scope, enumerated):
            scenario = tuple(zip(enumerated, values, strict=True))
            where = replace(scope, forced={**scope.forced, **dict(scenario)}) if scenario else scope
            dep = _deployment(where, logical_id, gprops, policy, alias, scenario)
            out.append(replace(dep, undecided=tuple(undecided)) if undecided else dep)
    return out


def reachable(scope: Scope, names: list[str]) -> list[tuple[bool, ...]]:
    """The true/false combinations of these open conditions that some parameter values can produce.

    cfn-lint's condition solver decides it (two Equals of one parameter with different values
    exclude each other, AllowedValues and Rules count), with every condition these parameters decide
    fixed to its value. Were the solver to find none, every combination is checked instead: an
    impossible scenario may then be linted, a possible one is never skipped."""
    every = list(itertools.product((True, False), repeat=len(names)))
    if not names:
        return every
    from types import SimpleNamespace

    from cfnlint.conditions import Conditions

    wanted: dict[str, set[bool]] = {name: {True, False} for name in names}
    for name in scope.cfn.get("Conditions", {}):
        value = None if name in wanted else scope.condition(name)
        if value is not None:
            wanted[name] = {value}
    try:
        found = [
            tuple(s[n] for n in names)
            for s in Conditions(SimpleNamespace(template=scope.cfn)).build_scenarios(wanted)
        ]
    except Exception:  # the solver on a shape it does not model: check them all
        return every
    return [values for values in every if values in found] or every


def _deployment(
    scope: Scope,
    logical_id: str,
    gprops: dict[str, Any],
    policy: dict[str, Any],
    alias: str | None,
    scenario: tuple[tuple[str, bool], ...],
) -> FunctionDeployment:
    gprops, policy = select_branches(scope, gprops), select_branches(scope, policy)
    type_name, config = _config(scope, gprops.get("DeploymentConfigName"))
    alarms = [
        _alarm_spec(scope, a.get("Name"))
        for a in (gprops.get("AlarmConfiguration") or {}).get("Alarms", []) or []
        if isinstance(a, dict)
    ]
    return FunctionDeployment(
        logical_id=logical_id,
        scope=scope,
        type_name=type_name,
        config=config,
        alarms=alarms,
        pre_hook=hook_ref(scope, policy.get("BeforeAllowTrafficHook")),
        post_hook=hook_ref(scope, policy.get("AfterAllowTrafficHook")),
        role=gprops.get("ServiceRoleArn"),
        alias=alias,
        scenario=scenario,
    )


def _config(scope: Scope, value: Any) -> tuple[str | None, DeploymentConfig | None]:
    """(name, traffic schedule) of DeploymentConfigName: predefined, or a custom
    AWS::CodeDeploy::DeploymentConfig of this template (TimeBasedCanary / TimeBasedLinear / AllAtOnce)."""
    custom = _custom_config(scope, value)
    if custom is not None:
        return custom
    name = _config_name(value)
    return name, deployment_config(name) if name else None


def _custom_config(scope: Scope, value: Any) -> tuple[str, DeploymentConfig | None] | None:
    found = locate(scope, value) if isinstance(value, dict) and "Ref" in value else None
    if found is None:
        name = _config_name(value)
        found = next(
            (
                (scope, k)
                for k, r in scope.resources.items()
                if r.get("Type") == "AWS::CodeDeploy::DeploymentConfig"
                and name is not None
                and scope.resolve(r.get("Properties", {}).get("DeploymentConfigName"))
                in (name, f"{PREFIX}{name}")
            ),
            None,
        )
    if found is None:
        return None
    where, logical = found
    resource = where.resources[logical]
    if resource.get("Type") != "AWS::CodeDeploy::DeploymentConfig":
        return None
    props = where.resolve(resource.get("Properties", {}))
    routing = props.get("TrafficRoutingConfig") or {}
    kind = routing.get("Type")
    given = props.get("DeploymentConfigName")
    name = str(given) if given and known(given) else f"custom config {logical}"
    if kind == "TimeBasedCanary":
        spec = routing.get("TimeBasedCanary") or {}
        return name, traffic_config(
            name, "canary", _num(spec.get("CanaryPercentage")), _num(spec.get("CanaryInterval"))
        )
    if kind == "TimeBasedLinear":
        spec = routing.get("TimeBasedLinear") or {}
        return name, traffic_config(
            name, "linear", _num(spec.get("LinearPercentage")), _num(spec.get("LinearInterval"))
        )
    if kind == "AllAtOnce":
        return name, traffic_config(name, "all-at-once", 100, 0)
    return name, None


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return -1.0


def _config_name(value: Any) -> str | None:
    if isinstance(value, str | int | float):  # SAM passes a name it does not know through unchanged
        return str(value).removeprefix("CodeDeployDefault.Lambda")
    if isinstance(value, dict) and "Fn::Sub" in value:
        args = value["Fn::Sub"]
        if isinstance(args, list) and isinstance(args[1], dict):
            name = args[1].get("ConfigName")
            return str(name) if isinstance(name, str | int | float) else None
    return None
