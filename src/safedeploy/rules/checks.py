"""`safedeploy check`: safe-deployment mistakes that `sam validate --lint` and cfn-lint miss.

Each rule reads the translated template (and nested applications next to it) through `template`, and
returns findings that name the resource that must change: the hook for hook problems, the alarm for
alarm problems, the function for DeploymentPreference problems.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from safedeploy_core.timing import PREDEFINED, fit

from safedeploy.rules.registry import RULES, SEVERITY_ORDER, Severity, canonical, unverified
from safedeploy.template.deployments import (
    AlarmSpec,
    FunctionDeployment,
    HookRef,
    deployments,
    function_properties,
)
from safedeploy.template.loader import is_sam, resource_position
from safedeploy.template.scope import UNKNOWN, Scope, locate

HOOK_PREFIX = "CodeDeployHook_"
MAX_ALARMS = 10
VERSION_SCOPED = {"Errors", "Invocations", "Duration"}
# What Lambda publishes in AWS/Lambda (Lambda developer guide, "Types of metrics for Lambda functions"),
# and its only dimensions; CloudWatch returns a series only for the exact dimension set published.
LAMBDA_METRICS = {
    "Invocations", "Errors", "DeadLetterErrors", "DestinationDeliveryFailures", "Throttles",
    "OversizedRecordCount", "ProvisionedConcurrencyInvocations", "ProvisionedConcurrencySpilloverInvocations",
    "RecursiveInvocationsDropped", "Duration", "PostRuntimeExtensionsDuration", "IteratorAge", "OffsetLag",
    "ConcurrentExecutions", "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization",
    "UnreservedConcurrentExecutions", "ClaimedAccountConcurrency", "AsyncEventsReceived", "AsyncEventAge",
    "AsyncEventsDropped", "PolledEventCount", "InvokedEventCount", "FilteredOutEventCount",
    "FailedInvokeEventCount", "DeletedEventCount", "DroppedEventCount",
    "OnFailureDestinationDeliveredEventCount",
}  # fmt: skip
LAMBDA_DIMENSIONS = {"FunctionName", "Resource", "ExecutedVersion", "EventSourceMappingUUID"}


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str
    message: str
    # where to change it: the file that defines the resource (a nested app's own template), 1-based
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            **{k: v for k, v in asdict(self).items() if k != "rule"},
        }

    def located(self, file: str, line: int, column: int) -> Finding:
        return replace(self, file=file, line=line, column=column)


# ---------------------------------------------------------------- IAM helpers
def statements_of_role(scope: Scope, role_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(Allow statements of a role: inline policies and AWS::IAM::Policy attached to it, managed ARNs)."""
    role = scope.resources[role_id].get("Properties", {})
    documents = [(p or {}).get("PolicyDocument", {}) for p in scope.resolve(role.get("Policies", [])) or []]
    for res in scope.resources.values():
        if res.get("Type") == "AWS::IAM::Policy" and {"Ref": role_id} in res.get("Properties", {}).get(
            "Roles", []
        ):
            documents.append(scope.resolve(res["Properties"].get("PolicyDocument", {})))
    statements: list[dict[str, Any]] = []
    for doc in documents:
        raw = doc.get("Statement", [])
        statements.extend(s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict))
    managed = [str(m) for m in role.get("ManagedPolicyArns", []) or []]
    return [s for s in statements if s.get("Effect") == "Allow"], managed


def role_statements(scope: Scope, function_logical: str) -> tuple[list[dict[str, Any]], bool]:
    """(Allow statements of the function's role, whether the role is fully visible in the template)."""
    found = locate(scope, scope.resources.get(function_logical, {}).get("Properties", {}).get("Role"))
    if not found:
        return [], False
    statements, managed = statements_of_role(*found)
    unknown = [m for m in managed if "AWSLambdaBasicExecutionRole" not in m and "AWSLambdaVPCAccess" not in m]
    return statements, not unknown and not opaque(statements)


def opaque(statements: list[dict[str, Any]]) -> bool:
    """Whether some statement's actions or resources depend on values not known here (an open
    condition, a nested output): then a missing grant is not proven missing."""
    return any(_undecided(s.get(key)) for s in statements for key in ("Action", "Resource") if key in s)


def _undecided(value: Any) -> bool:
    """An intrinsic left unresolved, or a value an open condition chooses (placeholders such as
    <Fn> are CloudFormation's own names and match a grant as the real name would)."""
    if isinstance(value, dict):
        return True
    if isinstance(value, list):
        return any(_undecided(v) for v in value)
    return isinstance(value, str) and UNKNOWN in value


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for st in statements:
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        resources = st.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, str(r)) for r in resources if r is not None
        ):
            return True
    return False


def _version_arn(function_logical: str) -> str:
    """The new version's ARN as the translated template names it (`!Ref Fn.Version`)."""
    return f"arn:aws:lambda:us-east-1:123456789012:function:<{function_logical}>:<{function_logical}.Version>"


# ---------------------------------------------------------------- rules per function
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
    close = difflib.get_close_matches(name, PREDEFINED, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    yield Finding(
        "SD101",
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
        yield Finding(
            "SD102",
            dep.logical_id,
            "AllAtOnce with alarms: all traffic moves at once, so an alarm can only roll back "
            "after every user already saw the new version; use Canary or Linear",
        )
    if dep.config.kind != "all-at-once" and not dep.alarms and not dep.pre_hook and not dep.post_hook:
        yield Finding(
            "SD103",
            dep.logical_id,
            f"{dep.type_name} with neither alarms nor hooks: nothing can ever roll this deployment back",
        )
    elif dep.config.kind != "all-at-once" and not dep.alarms:
        yield Finding(
            "SD107",
            dep.logical_id,
            f"{dep.type_name} with hooks but no alarm: nothing watches the shifted traffic, so a bad "
            "version keeps its share until the post-traffic hook runs at 100 %; add gate alarms on the "
            "new version (DeploymentPreference.Alarms)",
        )
    if len(dep.alarms) > MAX_ALARMS:
        yield Finding(
            "SD104",
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
        yield Finding(
            "SD106",
            dep.logical_id,
            f"environment {', '.join(risky)}: changing only such a parameter publishes no new version "
            "(SAM hashes the unresolved Environment), so no deployment runs and the alias keeps the old "
            "value; ship it with a code change",
        )


# ---------------------------------------------------------------- rules per hook
def _hook_findings(dep: FunctionDeployment, ref: HookRef, phase: str) -> Iterator[Finding]:
    if ref.scope is None or ref.logical_id is None:
        yield Finding(
            "SD251",
            dep.logical_id,
            f"{phase} hook {ref.display!r} is not defined in this template: not verified",
        )
        return
    where, hook_id, hook = ref.scope, ref.logical_id, ref.display
    name = where.resolve(ref.properties.get("FunctionName"))
    yield from _invocable_by_codedeploy(dep, hook_id, hook, name)
    pref = function_properties(where, hook_id).get("DeploymentPreference") or {}
    enabled = _boolean(where.resolve(pref.get("Enabled", True))) if pref else False
    if enabled is None:
        yield Finding(
            "SD252",
            hook,
            "the hook's DeploymentPreference.Enabled depends on a value only CloudFormation knows: a hook "
            "must never be deployed through CodeDeploy itself; make sure it resolves to false",
        )
    elif enabled:
        yield Finding(
            "SD202",
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
        yield Finding(
            "SD203" if complete else "SD253",
            hook,
            ("the hook's role lacks" if complete else _PARTLY_VISIBLE)
            + " codedeploy:PutLifecycleEventHookExecutionStatus: CodeDeploy would wait an hour for a status "
            "that can never arrive",
        )
    if phase == "PreTraffic" and not allows(
        statements, "lambda:InvokeFunction", _version_arn(dep.logical_id)
    ):
        yield Finding(
            "SD204" if complete else "SD254",
            hook,
            ("the hook's role may not" if complete else f"{_PARTLY_VISIBLE} the right to")
            + f" invoke versions of {dep.logical_id} "
            f"(arn:...:function:{dep.logical_id}:N), so it cannot test the new version",
        )
    yield from _lambda_invoke_policy(where, hook_id, hook)


_PARTLY_VISIBLE = (
    "not verified: the hook's role has grants or managed policies not known here, and what is visible lacks"
)


# What AWSCodeDeployRoleForLambda (the policy of the role SAM generates) lets CodeDeploy invoke.
CODEDEPLOY_MANAGED_INVOKE = {
    "Effect": "Allow",
    "Action": "lambda:InvokeFunction",
    "Resource": f"arn:aws:lambda:*:*:function:{HOOK_PREFIX}*",
}


def _invocable_by_codedeploy(
    dep: FunctionDeployment, hook_id: str, hook: str, name: Any
) -> Iterator[Finding]:
    """CodeDeploy invokes hooks with the deployment group's service role: it must allow this hook."""
    role_found = locate(dep.scope, dep.role) if dep.role else None
    if role_found is None:
        yield Finding(
            "SD251",
            hook,
            "DeploymentPreference.Role is not defined in this template: check that it may invoke this hook",
        )
        return
    role_id = role_found[1]
    statements, managed = statements_of_role(*role_found)
    generated = any("AWSCodeDeployRoleForLambda" in m for m in managed)
    if generated:
        statements.append(CODEDEPLOY_MANAGED_INVOKE)
    # A name built with !Sub/!Join keeps its literal parts ("CodeDeployHook_<stack>-pre"): the
    # placeholder matches a wildcard in a grant as the real value would.
    arns = [f"arn:aws:lambda:us-east-1:123456789012:function:<{hook_id}>"]
    if isinstance(name, str):
        arns.append(f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
    if not any(allows(statements, "lambda:InvokeFunction", arn) for arn in arns):
        hint = (
            f"the generated CodeDeploy role may only invoke functions named {HOOK_PREFIX}*: name this hook "
            f"{HOOK_PREFIX}... (<= 64 characters) or give DeploymentPreference.Role a role that may invoke it"
            if generated
            else f"DeploymentPreference.Role ({role_id}) may not invoke this hook"
        )
        if opaque(statements):
            yield Finding(
                "SD251",
                hook,
                f"the role's grants depend on values not known here, so whether CodeDeploy may invoke "
                f"this hook is not verified: {hint}",
            )
        elif isinstance(name, str) and name.startswith("<") and name != f"<{hook_id}>":
            # The name's beginning is only known to CloudFormation: not proven wrong.
            yield Finding(
                "SD251",
                hook,
                f"hook name {name!r} starts with a value only CloudFormation knows, so whether "
                f"CodeDeploy may invoke it is not verified: {hint}",
            )
        else:
            yield Finding("SD201", hook, f"{hint}; otherwise the deployment fails at this hook")
    literal = re.sub(r"<[^>]*>", "", name) if isinstance(name, str) else ""
    if len(literal) > 64:
        yield Finding("SD201", hook, f"hook name {name!r} is longer than 64 characters")


def _boolean(value: Any) -> bool | None:
    """A template boolean as CloudFormation reads it ("false", false); None when not known here."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _lambda_invoke_policy(scope: Scope, hook_id: str, hook: str) -> Iterator[Finding]:
    sam_props = scope.sam_resources.get(hook_id, {}).get("Properties", {}) or {}
    for policy in sam_props.get("Policies", []) or []:
        if isinstance(policy, dict) and "LambdaInvokePolicy" in policy:
            target = (policy["LambdaInvokePolicy"] or {}).get("FunctionName")
            ref = target.get("Ref") if isinstance(target, dict) else None
            getatt = target.get("Fn::GetAtt") if isinstance(target, dict) else None
            if (
                (isinstance(ref, str) and ref.endswith((".Version", ".Alias")))
                or getatt
                or (isinstance(target, str) and ":" in target)
            ):
                yield Finding(
                    "SD205",
                    hook,
                    "LambdaInvokePolicy builds arn:...:function:${FunctionName}, so a version or alias "
                    "there yields a wrong ARN: write a statement on arn:...:function:NAME:* instead",
                )


def rule_hooks(dep: FunctionDeployment) -> Iterator[Finding]:
    if dep.pre_hook:
        yield from _hook_findings(dep, dep.pre_hook, "PreTraffic")
    if dep.post_hook:
        yield from _hook_findings(dep, dep.post_hook, "PostTraffic")


# ---------------------------------------------------------------- rules per gate alarm
def _alarm_findings(dep: FunctionDeployment, alarm: AlarmSpec) -> Iterator[Finding]:
    if not alarm.known:
        yield Finding(
            "SD306",
            dep.logical_id,
            f"gate alarm {alarm.reference!r} is not defined here{alarm.unread}: its dimensions and timing "
            "are not verified",
        )
        return
    rid = alarm.display
    if alarm.props and "AlarmRule" in alarm.props:
        yield Finding(
            "SD306",
            rid,
            "composite alarm as a gate: CodeDeploy's support is undocumented, and reading it needs "
            "cloudwatch:DescribeAlarms on * (a narrower scope returns no composite alarms)",
        )
        return
    open_parts = alarm.unresolved()
    if open_parts:
        yield Finding(
            "SD306",
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
        yield Finding(
            "SD310" if treat == "breaching" else "SD304",
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
            yield Finding(
                "SD305",
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
            yield Finding(
                "SD307",
                rid,
                f"AWS/Lambda publishes no metric {metric!r} (did you mean {close[0]!r}?): this alarm never "
                "gets data and never rolls back",
            )
        else:
            yield Finding(
                "SD357",
                rid,
                f"{metric!r} is not a Lambda metric known here (Lambda developer guide, types of metrics): "
                "check the name, or the alarm never gets data",
            )
    dims = stat["dimensions"]
    unknown = sorted(d for d in dims if d not in LAMBDA_DIMENSIONS)
    if unknown:
        yield Finding(
            "SD308",
            rid,
            f"{metric} with dimension(s) {', '.join(unknown)}: Lambda publishes only FunctionName, Resource "
            "and ExecutedVersion (and CloudWatch matches the exact combination), so this alarm never gets "
            "data; for an alias use Resource=fn:alias",
        )
    values = {k: v for k, v in dims.items() if isinstance(v, str)}
    if values.get("FunctionName", "").startswith("arn:"):
        yield Finding(
            "SD309",
            rid,
            f"{metric} with FunctionName={values['FunctionName']}: the dimension holds the function's name, "
            "not its ARN; use !Ref Fn",
        )
    if ":function:" in values.get("ExecutedVersion", ""):
        yield Finding(
            "SD309",
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
        yield Finding(
            "SD309",
            rid,
            f"{metric} with Resource={resource}: that is alias {qualifier!r}, but CodeDeploy shifts "
            f"{dep.alias!r}; the gate watches traffic that is not being shifted",
        )


def _dimension_findings(dep: FunctionDeployment, alarm: AlarmSpec, rid: str) -> Iterator[Finding]:
    for stat in alarm.metric_stats():
        if stat["namespace"] != "AWS/Lambda":
            continue
        yield from _series_findings(dep, stat, rid)
        dims = stat["dimensions"]
        resource = dims.get("Resource")
        if resource is not None:
            qualifier = str(resource).rsplit(":", 1)[-1] if ":" in str(resource) else ""
            if qualifier.isdigit() or qualifier.endswith(".Version>") or qualifier == "$LATEST":
                yield Finding(
                    "SD301",
                    rid,
                    f"{stat['metric']} with Resource={resource}: Lambda publishes no per-version "
                    "Resource series behind an alias, so this alarm stays INSUFFICIENT_DATA and never "
                    "rolls back; use Resource=fn:alias plus ExecutedVersion",
                )
                continue
        if "ExecutedVersion" in dims and resource is None:
            yield Finding(
                "SD301",
                rid,
                f"{stat['metric']} with ExecutedVersion but no Resource: that series does not exist; "
                "add Resource=fn:alias",
            )
            continue
        if stat["metric"] in VERSION_SCOPED and "ExecutedVersion" not in dims:
            yield Finding(
                "SD302",
                rid,
                f"{stat['metric']} on the whole function/alias blends the old and the new version during "
                "the shift; add Resource=fn:alias and ExecutedVersion=!GetAtt Fn.Version.Version",
            )


def _timing_findings(dep: FunctionDeployment, alarm: AlarmSpec, rid: str) -> Iterator[Finding]:
    config = dep.config
    if (
        config is None
        or config.kind == "all-at-once"
        or alarm.period_s is None
        or alarm.evaluation_periods is None
    ):
        return
    from safedeploy_core.timing import VISIBILITY_S, detection

    timing = detection(alarm.period_s, alarm.evaluation_periods, alarm.datapoints_to_alarm)
    post = dep.post_hook
    post_s = post.timeout_s if post is not None else 0
    best, worst = timing.best_s, timing.worst_s
    if post_s is not None and fit(best, config, post_s) == "never":
        after = f" and the {post_s} s of its post-traffic hook" if post_s else ""
        yield Finding(
            "SD303",
            rid,
            f"even at best {best} s to ALARM ({timing.datapoints} x {alarm.period_s} s periods + "
            f"{VISIBILITY_S} s until CloudWatch has them) outlasts the whole {config.shift_s} s shift of "
            f"{config.name}{after}: it can never roll back during the deployment; use fewer or "
            "shorter periods, or a longer deployment type",
        )
    elif worst > config.shift_s:
        if post is None:
            tail = "and no post-traffic hook keeps the deployment open for it"
        elif post_s is None:
            tail = "while the post-traffic hook runs (its timeout is not known here)"
        else:
            tail = f"while the post-traffic hook runs (at most {post_s} s)"
        yield Finding(
            "SD311",
            rid,
            f"worst-case {worst} s to ALARM is longer than the whole {config.shift_s} s shift of "
            f"{config.name}: at worst it fires after all traffic moved, {tail}; the parts: "
            f"{_parts(timing)}",
        )
    elif worst > config.first_window_s:
        yield Finding(
            "SD311",
            rid,
            f"worst-case {worst} s to ALARM is slower than the first {config.first_window_s} s step of "
            f"{config.name}: more traffic moves before it can fire; the parts: {_parts(timing)}",
        )


def _parts(timing: Any) -> str:
    from safedeploy_core.timing import CODEDEPLOY_POLL_S, VISIBILITY_S

    return (
        f"{timing.period_s} s alignment + {timing.datapoints_s} s of breaching periods + {VISIBILITY_S} s "
        f"visibility + {timing.evaluation_s} s evaluation + {CODEDEPLOY_POLL_S} s CodeDeploy poll (assumed)"
    )


def rule_alarms(dep: FunctionDeployment) -> Iterator[Finding]:
    for alarm in dep.alarms:
        yield from _alarm_findings(dep, alarm)


# ---------------------------------------------------------------- template-wide
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
        yield Finding(
            "SD206",
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


FUNCTION_RULES: tuple[Callable[[FunctionDeployment], Iterator[Finding]], ...] = (
    rule_deployment_type,
    rule_rollback_triggers,
    rule_hooks,
    rule_alarms,
)


SERVERLESS = "AWS::Serverless::"


def rule_not_translated(scope: Scope) -> Iterator[Finding]:
    """AWS::Serverless::* resources without the SAM transform: CloudFormation rejects the template, and
    nothing here can be checked on a translation that will not happen."""
    if is_sam(scope.sam):
        return
    serverless = sorted(
        k for k, r in scope.sam_resources.items() if str(r.get("Type", "")).startswith(SERVERLESS)
    )
    if serverless:
        yield Finding(
            "SD001",
            serverless[0],
            f"{len(serverless)} AWS::Serverless resource(s) ({', '.join(serverless[:3])}"
            f"{', …' if len(serverless) > 3 else ''}) but no `Transform: AWS::Serverless-2016-10-31`: "
            "CloudFormation rejects the template, and its deployments cannot be checked untranslated",
        )


def first_create_note(found: list[FunctionDeployment]) -> Iterator[Finding]:
    if found:
        yield Finding(
            "SD105",
            found[0].logical_id,
            "note: the first create of the stack runs no hooks and shifts no traffic; "
            "protection starts with the second deployment",
        )


def check(
    scope: Scope, ignore: frozenset[str] = frozenset(), *, template_ignores: bool = True
) -> list[Finding]:
    """Every finding, less those ignored by id (`--ignore`, a config file) or by the resource's own
    `Metadata: {safedeploy: {ignore: [SDxxx]}}` (unless `template_ignores` is off: `check --strict`)."""
    not_translated = list(rule_not_translated(scope))
    if not_translated:
        return not_translated
    for name in scope.cfn.get("Conditions", {}) or {}:
        scope.condition(name)  # a circular definition is a TemplateError (SD002), found before anything else
    findings: list[Finding] = list(rule_cycles(scope))
    found = deployments(scope)
    findings.extend(first_create_note(found))
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
        position = resource_position(where.path, _source_resource(where, logical))
        if position:
            return finding.located(str(where.path), *position)
    return finding.located(str(scope.path), 1, 1)


def _source_resource(scope: Scope, logical: str) -> str:
    """A generated resource's SAM origin: `FnDeploymentGroup`/`FnAliaslive`/`FnRole` -> `Fn`."""
    if logical in scope.sam_resources:
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
                yield Finding(f.rule, f.resource, f"when {dep.scenario_text}: {f.message}")


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
