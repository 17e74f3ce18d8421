"""The calls each principal makes, as (IAM action, resource) requests.

CodeDeploy's service role, for a Lambda deployment (CodeDeploy user guide, "Service role for
CodeDeploy" and AWSCodeDeployRoleForLambda, the policy AWS publishes for exactly this): it reads and
moves the alias (GetAlias, UpdateAlias on the function), reads the provisioned concurrency of the
alias it shifts, invokes the lifecycle hooks, reads the state of the group's alarms and publishes
to the group's trigger topics. Its S3 reads (revisions stored in S3) do not arise for SAM, whose
revisions are AppSpec content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safedeploy.iam.actions import Where, arn
from safedeploy.template.deployments import FunctionDeployment
from safedeploy.template.scope import UNKNOWN, Scope


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    why: str


def function_arn(name: str, where: Where) -> str:
    """A function's ARN from the name or ARN CloudFormation gives (unqualified unless it names one)."""
    return name if name.startswith("arn:") else arn("lambda", "function", where, FunctionName=name)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else UNKNOWN


def codedeploy_calls(dep: FunctionDeployment, where: Where, rename: Mapping[str, str]) -> list[Call]:
    """What CodeDeploy does with the deployment group's service role while it deploys `dep`."""

    def named(value: str) -> str:
        for old, new in rename.items():
            value = value.replace(old, new)
        return value

    scope = dep.scope
    fn = named(_text(scope.resolve({"Fn::GetAtt": [dep.logical_id, "Arn"]})))
    alias = dep.alias or UNKNOWN
    calls = [
        Call("lambda:GetAlias", fn, "reads the alias it shifts"),
        Call("lambda:UpdateAlias", fn, "moves the alias's traffic weights"),
    ]
    # Only for an alias with provisioned concurrency: SAM's own integration test deploys a custom
    # role without this action (function_with_custom_code_deploy.yaml) and passes on AWS.
    alias_props = scope.resources.get(f"{dep.logical_id}Alias{alias}", {}).get("Properties") or {}
    if "ProvisionedConcurrencyConfig" in alias_props:
        calls.append(
            Call(
                "lambda:GetProvisionedConcurrencyConfig",
                f"{fn}:{alias}",
                "reads the alias's provisioned concurrency",
            )
        )
    for phase, hook in (("BeforeAllowTraffic", dep.pre_hook), ("AfterAllowTraffic", dep.post_hook)):
        if hook is None:
            continue
        name = hook.scope.resolve({"Ref": hook.logical_id}) if hook.scope and hook.logical_id else None
        name = name if isinstance(name, str) else scope.resolve(hook.reference)
        calls.append(
            Call(
                "lambda:InvokeFunction", named(function_arn(_text(name), where)), f"invokes the {phase} hook"
            )
        )
    for alarm in dep.alarms:
        name = alarm.name if alarm.known else _text(scope.resolve(alarm.reference))
        calls.append(
            Call(
                "cloudwatch:DescribeAlarms",
                named(arn("cloudwatch", "alarm", where, AlarmName=name)),
                "polls the gate alarms",
            )
        )
    group = scope.resources.get(f"{dep.logical_id}DeploymentGroup", {}).get("Properties", {})
    for trigger in scope.resolve(group.get("TriggerConfigurations") or []) or []:
        if isinstance(trigger, dict):
            target = _text(trigger.get("TriggerTargetArn"))
            calls.append(Call("sns:Publish", named(target), "publishes the group's deployment triggers"))
    return calls


def lambda_service_calls(scope: Scope, logical: str, where: Where, rename: Mapping[str, str]) -> list[Call]:
    """What Lambda itself does with a function's execution role (Lambda developer guide: execution
    role; asynchronous invocation, dead-letter queues; SQS event source mappings)."""

    def named(value: Any) -> str:
        text = _text(value)
        for old, new in rename.items():
            text = text.replace(old, new)
        return text

    name = named(scope.resolve({"Ref": logical}))
    group = f"/aws/lambda/{name}"
    calls = [
        Call(
            "logs:CreateLogGroup",
            arn("logs", "log-group", where, LogGroupName=group),
            "Lambda: the log group",
        ),
        *(
            Call(
                action,
                arn("logs", "log-stream", where, LogGroupName=group, LogStreamName="<stream>"),
                "Lambda: logs",
            )
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ),
    ]
    props = scope.resources[logical].get("Properties") or {}
    target = (props.get("DeadLetterConfig") or {}).get("TargetArn")
    if target is not None:
        queue = named(scope.resolve(target))
        calls.append(
            Call("sqs:SendMessage", queue, "Lambda: a failed asynchronous event to the dead-letter queue")
        )
    for res in scope.resources.values():
        mapping = res.get("Properties") or {}
        if res.get("Type") == "AWS::Lambda::EventSourceMapping" and mapping.get("FunctionName") == {
            "Ref": logical
        }:
            source = named(scope.resolve(mapping.get("EventSourceArn")))
            if ":sqs:" in source or source.startswith("<"):
                calls += [
                    Call(action, source, "Lambda: the SQS event source")
                    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
                ]
    return calls
