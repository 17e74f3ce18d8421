"""Rules on the gate alarms a deployment watches: the series they read, and when they can fire."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from safedeploy.rules.base import Finding, Rule
from safedeploy.rules.metrics import LAMBDA_DIMENSIONS, LAMBDA_METRICS, NAMESPACES
from safedeploy.template.deployments import AlarmSpec, FunctionDeployment, function_properties
from safedeploy.template.scope import PSEUDO

VERSION_SCOPED = {"Errors", "Invocations", "Duration"}

SD301 = Rule(
    "SD301",
    "error",
    "alarm",
    "dimensions that do not exist behind an alias (Resource=fn:N, a version ARN, "
    "ExecutedVersion without Resource)",
    twinned=True,
)
SD302 = Rule(
    "SD302",
    "warning",
    "alarm",
    "Errors/Invocations/Duration on the whole function or alias (blends old and new)",
)
SD303 = Rule(
    "SD303",
    "error",
    "alarm",
    "a gate that cannot fire before the deployment ends, even at best",
    twinned=True,
)
SD304 = Rule(
    "SD304",
    "info",
    "alarm",
    "TreatMissingData left at missing or ignore: INSUFFICIENT_DATA, which CodeDeploy does not act on",
)
SD305 = Rule("SD305", "warning", "alarm", "an 'Errors > 0' count gate (or its twin 'Errors >= 1')")
SD306 = Rule(
    "SD306",
    "warning",
    "function",
    "gate alarm not defined in the template, or composite (not verifiable)",
)
SD307 = Rule(
    "SD307",
    "error",
    "alarm",
    "a metric Lambda does not publish (a near-miss name such as Error)",
    twinned=True,
)
SD308 = Rule(
    "SD308",
    "error",
    "alarm",
    "a dimension Lambda does not publish (e.g. Alias): the alarm never gets data",
    twinned=True,
)
SD309 = Rule(
    "SD309",
    "error",
    "alarm",
    "a dimension value Lambda never uses: an ARN for FunctionName or ExecutedVersion, "
    "Resource on another alias",
    twinned=True,
)
SD310 = Rule(
    "SD310",
    "warning",
    "alarm",
    "TreatMissingData breaching: a healthy version with no traffic yet rolls back",
)
SD312 = Rule(
    "SD312",
    "error",
    "function",
    "a gate alarm listed by its logical id as a plain string: CodeDeploy watches alarm names, so the "
    "template's alarm is not watched",
    twinned=True,
)
SD313 = Rule(
    "SD313",
    "error",
    "alarm",
    "a metric, dimension or dimension value its namespace never publishes (API Gateway, Step Functions, "
    "SQS): the alarm never gets data",
    twinned=True,
)
SD311 = Rule(
    "SD311", "warning", "alarm", "a gate whose worst case is longer than the shift or its first step"
)


def _logical_id_as_name(dep: FunctionDeployment, alarm: AlarmSpec) -> Iterator[Finding]:
    """CodeDeploy watches alarms by name (DeploymentPreference.Alarms goes to the deployment group's
    AlarmConfiguration as names). A plain string equal to an alarm's logical id names that alarm only
    if its AlarmName is that string; without one, CloudFormation names it `<stack>-<logical id>-<random>`
    (CloudFormation user guide, "Name type"), so the gate watches some other alarm, or none."""
    res = dep.scope.resources.get(alarm.reference) or {}
    if res.get("Type") not in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        return
    name = dep.scope.resolve((res.get("Properties") or {}).get("AlarmName"))
    named = (
        f"its AlarmName is {name!r}"
        if name is not None
        else f"it has no AlarmName, so CloudFormation names it <stack>-{alarm.reference}-<random>"
    )
    yield SD312.finding(
        dep.logical_id,
        f"gate alarm {alarm.reference!r} is listed by its logical id, but CodeDeploy watches alarm names "
        f"and {named}: the template's alarm {alarm.reference} is not watched; write !Ref {alarm.reference}",
    )


def _alarm_findings(dep: FunctionDeployment, alarm: AlarmSpec) -> Iterator[Finding]:
    if not alarm.known and alarm.reference in dep.scope.resources:
        yield from _logical_id_as_name(dep, alarm)
        return
    if not alarm.known:
        yield SD306.finding(
            dep.logical_id,
            f"gate alarm {alarm.reference!r} is not defined here{alarm.unread}: its dimensions and timing "
            "are not verified",
        )
        return
    rid = alarm.display
    if alarm.props and "AlarmRule" in alarm.props:
        yield SD306.finding(
            rid,
            "composite alarm as a gate: CodeDeploy's support is undocumented, and reading it needs "
            "cloudwatch:DescribeAlarms on * (a narrower scope returns no composite alarms)",
        )
        return
    open_parts = alarm.unresolved()
    if open_parts:
        yield SD306.finding(
            rid,
            f"the gate alarm's {', '.join(open_parts)} depend on a condition left open: its series and "
            "timing are not verified (give the parameters values, or --parameter)",
        )
        return
    yield from _dimension_findings(dep, alarm, rid)
    yield from _timing_findings(dep, alarm, rid)
    treat = alarm.props.get("TreatMissingData")
    if treat != "notBreaching":
        # breaching: a new version with no traffic yet fires the gate and rolls a healthy release back;
        # missing (the default) and ignore leave INSUFFICIENT_DATA, which CodeDeploy does not act on.
        effect = (
            "reads as breaching and rolls a healthy release back; use notBreaching for gates"
            if treat == "breaching"
            else "leaves the alarm in INSUFFICIENT_DATA, which CodeDeploy does not act on; "
            "notBreaching says so explicitly"
        )
        yield (SD310 if treat == "breaching" else SD304).finding(
            rid,
            f"TreatMissingData is {alarm.props.get('TreatMissingData', 'missing')!r}: a new version with "
            f"no traffic yet {effect}",
        )
    stats = alarm.metric_stats()
    if alarm.expression() is None and len(stats) == 1 and stats[0]["metric"] == "Errors":
        threshold = alarm.props.get("Threshold")
        operator = alarm.props.get("ComparisonOperator")
        try:
            value = float(str(threshold))
        except (TypeError, ValueError):
            value = None
        # "> 0" and ">= 1" both fire on a single error
        count_gate = value is not None and (
            (operator == "GreaterThanThreshold" and value < 1)
            or (operator == "GreaterThanOrEqualToThreshold" and value <= 1)
        )
        if count_gate:
            yield SD305.finding(
                rid,
                "an 'Errors > 0' count gate fires in healthy minutes at scale (0.1 % errors over 600 calls "
                "a minute breaches 45 % of minutes): gate on a rate with a minimum-invocations guard",
            )


def _series_findings(dep: FunctionDeployment, stat: dict[str, Any], rid: str) -> Iterator[Finding]:
    """A metric, dimension or value Lambda never publishes: the alarm can never see data."""
    metric = stat["metric"]
    if isinstance(metric, str) and "<" not in metric and metric not in LAMBDA_METRICS:
        close = difflib.get_close_matches(metric, sorted(LAMBDA_METRICS), n=1)
        if close:
            yield SD307.finding(
                rid,
                f"AWS/Lambda publishes no metric {metric!r} (did you mean {close[0]!r}?): this alarm never "
                "gets data and never rolls back",
            )
        else:
            yield SD307.unverified(
                rid,
                f"{metric!r} is not a Lambda metric known here (Lambda developer guide, types of metrics): "
                "check the name, or the alarm never gets data",
            )
    dims = stat["dimensions"]
    unknown = sorted(d for d in dims if d not in LAMBDA_DIMENSIONS)
    if unknown:
        yield SD308.finding(
            rid,
            f"{metric} with dimension(s) {', '.join(unknown)}: Lambda publishes only FunctionName, Resource "
            "and ExecutedVersion (and CloudWatch matches the exact combination), so this alarm never gets "
            "data; for an alias use Resource=fn:alias",
        )
    values = {k: v for k, v in dims.items() if isinstance(v, str)}
    if values.get("FunctionName", "").startswith("arn:"):
        yield SD309.finding(
            rid,
            f"{metric} with FunctionName={values['FunctionName']}: the dimension holds the function's name, "
            "not its ARN; use !Ref Fn",
        )
    if ":function:" in values.get("ExecutedVersion", ""):
        yield SD309.finding(
            rid,
            f"{metric} with ExecutedVersion={values['ExecutedVersion']}: the dimension holds the version "
            "number; use !GetAtt Fn.Version.Version (not !Ref Fn.Version, the version's ARN)",
        )
    resource = values.get("Resource", "")
    name, sep, qualifier = resource.rpartition(":")
    other_alias = qualifier != dep.alias and not qualifier.isdigit() and not qualifier.endswith(".Version>")
    if (
        sep
        and dep.alias
        and not resource.startswith("arn:")
        and name == f"<{dep.logical_id}>"
        and other_alias
    ):
        yield SD309.finding(
            rid,
            f"{metric} with Resource={resource}: that is alias {qualifier!r}, but CodeDeploy shifts "
            f"{dep.alias!r}; the gate watches traffic that is not being shifted",
        )


def _dimension_findings(dep: FunctionDeployment, alarm: AlarmSpec, rid: str) -> Iterator[Finding]:
    for stat in alarm.metric_stats():
        if stat["namespace"] != "AWS/Lambda":
            yield from _other_namespace_findings(alarm, stat, rid)
            continue
        yield from _series_findings(dep, stat, rid)
        yield from _generated_name_findings(dep, stat, rid)
        dims = stat["dimensions"]
        resource = dims.get("Resource")
        if resource is not None:
            qualifier = str(resource).rsplit(":", 1)[-1] if ":" in str(resource) else ""
            if qualifier.isdigit() or qualifier.endswith(".Version>") or qualifier == "$LATEST":
                yield SD301.finding(
                    rid,
                    f"{stat['metric']} with Resource={resource}: Lambda publishes no per-version "
                    "Resource series behind an alias, so this alarm stays INSUFFICIENT_DATA and never "
                    "rolls back; use Resource=fn:alias plus ExecutedVersion",
                )
                continue
        if "ExecutedVersion" in dims and resource is None:
            yield SD301.finding(
                rid,
                f"{stat['metric']} with ExecutedVersion but no Resource: that series does not exist; "
                "add Resource=fn:alias",
            )
            continue
        if stat["metric"] in VERSION_SCOPED and "ExecutedVersion" not in dims:
            yield SD302.finding(
                rid,
                f"{stat['metric']} on the whole function/alias blends the old and the new version during "
                "the shift; add Resource=fn:alias and ExecutedVersion=!GetAtt Fn.Version.Version",
            )


def _timing_findings(dep: FunctionDeployment, alarm: AlarmSpec, rid: str) -> Iterator[Finding]:
    from safedeploy_core.timing import wall_clock

    from safedeploy.planning.gate_timing import gate_timing

    verdict = gate_timing(
        dep.config,
        alarm.period_s,
        alarm.evaluation_periods,
        alarm.datapoints_to_alarm,
        post_hook=dep.post_hook is not None,
        post_s=dep.post_hook.timeout_s if dep.post_hook is not None else 0,
        missing_breaches=alarm.props.get("TreatMissingData") == "breaching",
        wall_clock=wall_clock(alarm.props),
    )
    if verdict is not None:
        yield {"SD303": SD303, "SD311": SD311}[verdict.rule].finding(rid, verdict.message, verdict.details)


def rule_alarms(dep: FunctionDeployment) -> Iterator[Finding]:
    for alarm in dep.alarms:
        yield from _alarm_findings(dep, alarm)


def _other_namespace_findings(alarm: AlarmSpec, stat: dict[str, Any], rid: str) -> Iterator[Finding]:
    """A series another namespace never publishes, by the table in metrics.py (each row cites its page)."""
    namespace = NAMESPACES.get(str(stat["namespace"]))
    if namespace is None:
        return
    metric, dims = stat["metric"], stat["dimensions"]
    if isinstance(metric, str) and "<" not in metric and metric not in namespace.metrics:
        close = difflib.get_close_matches(metric, sorted(namespace.metrics), n=1)
        if close or namespace.complete:
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            yield SD313.finding(
                rid,
                f"{namespace.name} publishes no metric {metric!r}{hint}: this alarm never gets data, never "
                f"rolling back (source: {namespace.sources[0]})",
            )
        else:
            yield SD313.unverified(
                rid,
                f"{metric!r} is not a {namespace.name} metric known here (source: {namespace.sources[0]}): "
                "check the name, or the alarm never gets data",
            )
    unknown = sorted(d for d in dims if namespace.dimensions is not None and d not in namespace.dimensions)
    if unknown:
        yield SD313.finding(
            rid,
            f"{metric} with dimension(s) {', '.join(unknown)}: {namespace.name} publishes only "
            f"{', '.join(sorted(namespace.dimensions or ()))}, so this alarm never gets data",
        )
    api = dims.get("ApiName")
    where = alarm.scope
    if namespace.name == "AWS/ApiGateway" and isinstance(api, str) and where is not None:
        logical = api[1:-1] if api.startswith("<") and api.endswith(">") else None
        if logical and where.resources.get(logical, {}).get("Type") == "AWS::ApiGateway::RestApi":
            yield SD313.finding(
                rid,
                f"{metric} with ApiName=!Ref {logical}: Ref of a REST API returns its id, but the ApiName "
                "dimension holds the API's name (its Name property; for SAM's implicit API, the stack name), "
                "so this alarm never gets data",
            )


STACK = PSEUDO["AWS::StackName"]


def _generated_name_findings(dep: FunctionDeployment, stat: dict[str, Any], rid: str) -> Iterator[Finding]:
    """A function without FunctionName is named by CloudFormation, `<stack>-<logical id>-<random>`
    (CloudFormation user guide, "Name type"): a dimension value built from the stack name and a literal
    can never be that name."""
    if function_properties(dep.scope, dep.logical_id).get("FunctionName") is not None:
        return
    for key in ("FunctionName", "Resource"):
        value = stat["dimensions"].get(key)
        if not isinstance(value, str) or STACK not in value or f"<{dep.logical_id}>" in value:
            continue
        name, _, qualifier = value.partition(":")
        if dep.logical_id not in name and not (qualifier and qualifier == dep.alias):
            continue  # another function's series, by what it names
        yield SD309.finding(
            rid,
            f"{stat['metric']} with {key}={value}: {dep.logical_id} has no FunctionName, so CloudFormation "
            f"names it {STACK}-{dep.logical_id}-<random>, which a name built from the stack name never "
            f"matches; this alarm never gets data (use !Ref {dep.logical_id}, or "
            f"!Sub ${{{dep.logical_id}}}:{dep.alias or 'alias'} for Resource)",
        )
