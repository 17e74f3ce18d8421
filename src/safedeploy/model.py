"""What a template's deployments look like once translated: per function, its deployment config,
hooks and gate alarms, following nested applications that live next to the template.

Intrinsics are evaluated as far as the template allows (parameters, conditions, Sub, Join, Split,
nested outputs); values that only CloudFormation knows become readable placeholders: `<Fn>` for a
function's name, `<Fn.Version>` for its new version number, an ARN around `<Fn>` for GetAtt Arn.
Rules and the rehearsal match on those strings; the rehearsal replaces them with real values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safedeploy_core.timing import DeploymentConfig, deployment_config

from safedeploy.errors import UserError
from safedeploy.templates import PLACEHOLDER_BUCKET, load_template, translate

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "<stack>",
}
_NESTED_PREFIX = f"https://{PLACEHOLDER_BUCKET}.s3.amazonaws.com/"


@dataclass
class Scope:
    """One (translated) template with the parameter values it was given."""

    path: Path
    cfn: dict[str, Any]
    sam: dict[str, Any]
    params: dict[str, Any]
    children: dict[str, Scope] = field(default_factory=dict)
    name: str = ""  # logical ID of the nested application in its parent ("" for the root)

    def qualified(self, logical_id: str) -> str:
        """`Hooks/PreTrafficHook` for a resource of a nested application, `Fn` at the root."""
        return f"{self.name}/{logical_id}" if self.name else logical_id

    @property
    def resources(self) -> dict[str, Any]:
        return self.cfn.get("Resources", {})  # type: ignore[no-any-return]

    def condition(self, name: str) -> bool | None:
        expr = self.cfn.get("Conditions", {}).get(name)
        return None if expr is None else evaluate_condition(self, expr)

    def resolve(self, value: Any) -> Any:
        return resolve(self, value)

    def active(self, logical_id: str) -> bool:
        """False when the resource's Condition is known to be false for these parameters."""
        condition = self.resources.get(logical_id, {}).get("Condition")
        return condition is None or self.condition(condition) is not False


def evaluate_condition(scope: Scope, expr: Any) -> bool | None:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, args),) = expr.items()
        if fn == "Fn::Equals":
            a, b = (scope.resolve(x) for x in args)
            return None if isinstance(a, dict) or isinstance(b, dict) else str(a) == str(b)
        if fn == "Fn::Not":
            inner = evaluate_condition(scope, args[0])
            return None if inner is None else not inner
        if fn in ("Fn::And", "Fn::Or"):
            values = [evaluate_condition(scope, x) for x in args]
            if None in values:
                return None
            return all(values) if fn == "Fn::And" else any(values)
        if fn == "Condition":
            return scope.condition(args)
    return None


def _placeholder(scope: Scope, logical: str, attr: str | None = None) -> str:
    """A readable stand-in for a value only CloudFormation knows: <Fn>, <Fn.Version>, an ARN."""
    kind = scope.resources.get(logical, {}).get("Type")
    if attr is None:
        return f"<{logical}>"
    if attr == "Arn" and kind == "AWS::Lambda::Function":
        return f"arn:aws:lambda:{PSEUDO['AWS::Region']}:{PSEUDO['AWS::AccountId']}:function:<{logical}>"
    if attr == "Version" and kind == "AWS::Lambda::Version":
        owner = scope.resources[logical].get("Properties", {}).get("FunctionName", {})
        if isinstance(owner, dict) and "Ref" in owner:
            return f"<{owner['Ref']}.Version>"
    if attr == "Arn" and kind == "AWS::IAM::Role":
        return f"arn:aws:iam::{PSEUDO['AWS::AccountId']}:role/<{logical}>"
    return f"<{logical}.{attr}>"


def resolve(scope: Scope, value: Any) -> Any:  # noqa: PLR0912
    """Evaluate intrinsics as far as the template allows; unknown values become placeholders."""
    if isinstance(value, list):
        return [resolve(scope, v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: resolve(scope, v) for k, v in value.items()}
    ((fn, args),) = value.items()
    if fn == "Ref":
        if args in scope.params:
            return scope.params[args]
        if args in PSEUDO:
            return PSEUDO[args]
        if args == "AWS::NoValue":
            return None
        return _placeholder(scope, args)
    if fn == "Fn::Sub":
        template, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        variables = {k: resolve(scope, v) for k, v in variables.items()}

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if name in scope.params or name in PSEUDO:
                return str(resolve(scope, {"Ref": name}))
            if "." in name:
                logical, attr = name.split(".", 1)
                return str(resolve(scope, {"Fn::GetAtt": [logical, attr]}))
            return _placeholder(scope, name)

        return re.sub(r"\$\{([^}!]+)\}", sub, template)
    if fn == "Fn::If":
        cond = scope.condition(args[0])
        return resolve(scope, args[1] if cond or cond is None else args[2])
    if fn == "Fn::Join":
        parts = resolve(scope, args[1])
        parts = parts if isinstance(parts, list) else [parts]
        return str(args[0]).join(str(p) for p in parts if p is not None)
    if fn == "Fn::Split":
        return str(resolve(scope, args[1])).split(str(args[0]))
    if fn == "Fn::Select":
        items = resolve(scope, args[1])
        return items[int(args[0])] if isinstance(items, list) else None
    if fn == "Fn::GetAtt":
        logical, attr = args.split(".", 1) if isinstance(args, str) else args
        if attr.startswith("Outputs.") and logical in scope.children:
            child = scope.children[logical]
            output = child.cfn.get("Outputs", {}).get(attr.split(".", 1)[1])
            if output is not None:
                return child.resolve(output.get("Value"))
        return _placeholder(scope, logical, attr)
    return {fn: resolve(scope, args)}


def locate(scope: Scope, ref: Any) -> tuple[Scope, str] | None:
    """The template and logical ID a reference points at, through nested application outputs."""
    if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in scope.resources:
        return scope, str(ref["Ref"])
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        args = ref["Fn::GetAtt"]
        logical, attr = args.split(".", 1) if isinstance(args, str) else args
        if attr.startswith("Outputs.") and logical in scope.children:
            child = scope.children[logical]
            output = child.cfn.get("Outputs", {}).get(attr.split(".", 1)[1])
            return locate(child, output.get("Value")) if output else None
        if logical in scope.resources:
            return scope, str(logical)
    return None


@dataclass
class AlarmSpec:
    reference: str  # how the deployment group names it
    logical_id: str | None
    scope: Scope | None
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.scope is not None

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

    def metric_stats(self) -> list[dict[str, Any]]:
        """[{namespace, metric, dimensions: {name: value}, stat}] for plain and metric-math alarms."""
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
    pre_hook: Any
    post_hook: Any
    role: Any
    alias: str | None

    @property
    def function_props(self) -> dict[str, Any]:
        return self.scope.sam.get("Resources", {}).get(self.logical_id, {}).get("Properties", {}) or {}


def _nested_path(scope_path: Path, url: Any) -> Path | None:
    if isinstance(url, str) and url.startswith(_NESTED_PREFIX):
        return (scope_path.parent / url[len(_NESTED_PREFIX) :]).resolve()
    return None


def _declared_defaults(cfn: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["Default"]
        for k, v in cfn.get("Parameters", {}).items()
        if isinstance(v, dict) and "Default" in v
    }


def build_scope(
    path: Path,
    overrides: dict[str, Any] | None = None,
    parent: Scope | None = None,
    depth: int = 0,
    name: str = "",
) -> Scope:
    sam = load_template(path)
    plain = {k: v for k, v in (overrides or {}).items() if isinstance(v, str | int | float)}
    declared = set(sam.get("Parameters", {}))
    unknown = sorted(set(plain) - declared)
    if unknown and parent is None:
        raise UserError(f"{path.name} has no parameter(s) {', '.join(unknown)}")
    cfn = translate(sam, {k: v for k, v in plain.items() if k in declared})
    params = {**_declared_defaults(cfn), **(overrides or {})}
    for param, decl in cfn.get("Parameters", {}).items():
        if decl.get("Type") == "CommaDelimitedList" and isinstance(params.get(param), str):
            params[param] = params[param].split(",")
    scope = Scope(path, cfn, sam, params, name=name)
    if depth < 3:
        for logical_id, res in cfn.get("Resources", {}).items():
            if res.get("Type") == "AWS::CloudFormation::Stack":
                child_path = _nested_path(path, res.get("Properties", {}).get("TemplateURL"))
                if child_path and child_path.is_file():
                    child_params = {
                        k: scope.resolve(v) for k, v in res["Properties"].get("Parameters", {}).items()
                    }
                    scope.children[logical_id] = build_scope(
                        child_path, child_params, scope, depth + 1, logical_id
                    )
    return scope


def _alarm_spec(scope: Scope, ref: Any) -> AlarmSpec:
    found = locate(scope, ref)
    if found:
        where, logical = found
        res = where.resources[logical]
        if res.get("Type") in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            return AlarmSpec(_describe(ref), logical, where, where.resolve(res.get("Properties", {})))
    name = scope.resolve(ref)
    if isinstance(name, str):
        for candidate in [scope, *scope.children.values()]:
            for logical, res in candidate.resources.items():
                if res.get("Type") == "AWS::CloudWatch::Alarm":
                    props = candidate.resolve(res.get("Properties", {}))
                    if props.get("AlarmName") == name:
                        return AlarmSpec(name, logical, candidate, props)
    return AlarmSpec(_describe(ref), None, None)


def _describe(ref: Any) -> str:
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        args = ref["Fn::GetAtt"]
        return ".".join(args) if isinstance(args, list) else str(args)
    if isinstance(ref, dict) and "Ref" in ref:
        return str(ref["Ref"])
    return str(ref)


def deployments(scope: Scope) -> list[FunctionDeployment]:
    out = []
    resources = scope.resources
    for logical_id, res in scope.sam.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
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
        gprops = group.get("Properties", {})
        type_name = _config_name(gprops.get("DeploymentConfigName"))
        policy = (
            resources[alias_id].get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
            if alias_id
            else {}
        )
        alarms = [
            _alarm_spec(scope, a.get("Name"))
            for a in (gprops.get("AlarmConfiguration") or {}).get("Alarms", []) or []
        ]
        out.append(
            FunctionDeployment(
                logical_id=logical_id,
                scope=scope,
                type_name=type_name,
                config=deployment_config(type_name) if type_name else None,
                alarms=alarms,
                pre_hook=policy.get("BeforeAllowTrafficHook"),
                post_hook=policy.get("AfterAllowTrafficHook"),
                role=gprops.get("ServiceRoleArn"),
                alias=resources[alias_id]["Properties"].get("Name") if alias_id else None,
            )
        )
    return out


def _config_name(value: Any) -> str | None:
    if isinstance(value, str | int | float):  # SAM passes a name it does not know through unchanged
        return str(value).removeprefix("CodeDeployDefault.Lambda")
    if isinstance(value, dict) and "Fn::Sub" in value:
        args = value["Fn::Sub"]
        if isinstance(args, list) and isinstance(args[1], dict):
            name = args[1].get("ConfigName")
            return str(name) if isinstance(name, str | int | float) else None
    return None


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
