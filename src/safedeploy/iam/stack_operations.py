"""The calls CloudFormation makes, with the stack's execution role, to create, update and delete the
resources of a translated template and its nested stacks.

Source of the permissions: the resource provider schemas of the CloudFormation registry, as cfn-lint
ships them (`handlers.<create|update|delete>.permissions`; the meta-schema
aws-cloudformation/aws-cloudformation-resource-schema, provider.definition.schema.v1.json,
`handlerDefinition.permissions`: the permissions the handler needs to perform the operation).
Those lists are supersets: a Lambda function's create handler lists `ec2:Describe*` and `kms:*` that
only a VPC or KMS configuration uses. A listed permission is kept when its service is the resource's
own service, or when a rule below (EXTRA) ties it to a property the resource has; every other listed
permission must have its reason in UNUSED, so a schema that grows a permission forces a decision
instead of passing silently.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from safedeploy.iam.match import Shape
from safedeploy.iam.principals import ACCOUNT_PLACEHOLDER
from safedeploy.template.scope import Scope

HANDLERS = ("create", "update", "delete")
SUFFIX = "<suffix>"  # the random part of a name CloudFormation generates
STACK_ID = "<stack-id>"  # the UUID that ends a stack's ARN
# the values those stand for: upper-case letters and digits; a UUID's hex digits and dashes
SHAPES = {
    SUFFIX: Shape(
        frozenset(string.ascii_uppercase + string.digits), frozenset(string.ascii_uppercase + string.digits)
    ),
    STACK_ID: Shape(frozenset(string.hexdigits.lower()), frozenset(string.hexdigits.lower() + "-")),
}


@dataclass(frozen=True)
class Extra:
    """A permission of another service that the resource needs when it has `when` (a property)."""

    permission: str
    when: str
    why: str


# (resource type) -> permissions of other services this app's configuration uses
EXTRA: Mapping[str, tuple[Extra, ...]] = {
    "AWS::Lambda::Function": (
        Extra("iam:PassRole", "Role", "the function's execution role"),
        Extra("s3:GetObject", "Code.S3Bucket", "the deployment package in S3"),
    ),
    "AWS::CodeDeploy::DeploymentGroup": (
        Extra("iam:PassRole", "ServiceRoleArn", "CodeDeploy's service role"),
    ),
    # UpdatePolicy CodeDeployLambdaAliasUpdate: the alias update starts and follows a deployment
    "AWS::Lambda::Alias": tuple(
        Extra(f"codedeploy:{op}", "UpdatePolicy.CodeDeployLambdaAliasUpdate", "a traffic shift on update")
        for op in (
            "CreateDeployment",
            "GetDeployment",
            "GetDeploymentGroup",
            "GetDeploymentConfig",
            "StopDeployment",
        )
    ),
}

# (resource type, listed permission) -> (the property that would use it, or None; why it is left out).
# A resource that has the property needs the permission after all.
UNUSED: Mapping[tuple[str, str], tuple[str | None, str]] = {
    **{
        ("AWS::Lambda::Function", p): ("VpcConfig", "no VpcConfig")
        for p in (
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ec2:DescribeNetworkInterfaces",
        )
    },
    **{
        ("AWS::Lambda::Function", p): ("KmsKeyArn", "no KmsKeyArn")
        for p in ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
    },
    ("AWS::Lambda::Function", "elasticfilesystem:DescribeMountTargets"): (
        "FileSystemConfigs",
        "no FileSystemConfigs",
    ),
    ("AWS::Lambda::Function", "s3files:ListMountTargets"): ("FileSystemConfigs", "no FileSystemConfigs"),
    ("AWS::Lambda::Function", "s3:GetObjectVersion"): ("Code.S3ObjectVersion", "no Code.S3ObjectVersion"),
    **{
        ("AWS::Lambda::EventSourceMapping", p): ("KmsKeyArn", "no KmsKeyArn (filter criteria encryption)")
        for p in ("kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt")
    },
    ("AWS::SNS::Topic", "iam:GetRole"): ("DeliveryStatusLogging", "no delivery-status logging roles"),
    ("AWS::SNS::Topic", "iam:PassRole"): ("DeliveryStatusLogging", "no delivery-status logging roles"),
    ("AWS::SNS::Subscription", "iam:GetRole"): ("SubscriptionRoleArn", "no SubscriptionRoleArn"),
    ("AWS::SNS::Subscription", "iam:PassRole"): ("SubscriptionRoleArn", "no SubscriptionRoleArn"),
    ("AWS::Events::Rule", "iam:PassRole"): ("RoleArn", "no rule RoleArn (a Lambda target takes none)"),
    ("AWS::ApiGateway::RestApi", "s3:GetObject"): (
        "BodyS3Location",
        "no BodyS3Location (the body is inline)",
    ),
    ("AWS::ApiGateway::RestApi", "iam:PassRole"): (None, "no credentials role in the API definition"),
    ("AWS::CloudFormation::Stack", "iam:PassRole"): (None, "a nested stack is given no role of its own"),
    ("AWS::Logs::LogGroup", "s3:REST.PUT.OBJECT"): (None, "no log delivery to S3"),
    ("AWS::Logs::LogGroup", "firehose:TagDeliveryStream"): (None, "no log delivery to Firehose"),
    ("AWS::IAM::Role", "iam:PutRolePermissionsBoundary"): ("PermissionsBoundary", "no PermissionsBoundary"),
    ("AWS::IAM::Role", "iam:DeleteRolePermissionsBoundary"): (
        "PermissionsBoundary",
        "no PermissionsBoundary",
    ),
}


@dataclass(frozen=True)
class Operation:
    resource: str  # `Hooks/PreTrafficHook`
    type: str
    handler: str  # create | update | delete
    action: str
    arn: str  # the resource the call names, or "*"
    why: str


@dataclass(frozen=True)
class Skipped:
    resource: str
    type: str
    handler: str
    action: str
    why: str


def listed(resource_type: str, handler: str) -> list[str]:
    """The handler's permissions as the registry schema lists them."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return list(schema.get("handlers", {}).get(handler, {}).get("permissions", []))


def _has(res: Mapping[str, Any], path: str) -> bool:
    value: Any = res if path.startswith("UpdatePolicy") else res.get("Properties") or {}
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _service(resource_type: str) -> str:
    return resource_type.split("::")[1].lower()


def _role_arn(scope: Scope, stack: str, value: Any) -> str:
    """The ARN of the role a property names: a role of this template or a nested stack's output."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attribute = value["Fn::GetAtt"]
        if scope.resources.get(target, {}).get("Type") == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/{generated(stack, target)}"
        if attribute.startswith("Outputs.") and target in scope.children:
            child = scope.children[target]
            output = (child.cfn.get("Outputs") or {}).get(attribute.removeprefix("Outputs."), {})
            return _role_arn(child, generated(stack, target), output.get("Value"))
    return "*"


def generated(stack: str, logical: str) -> str:
    """A physical name CloudFormation generates: `<stack>-<logical id>-<suffix>` (CloudFormation
    user guide, "Name type")."""
    return f"{stack}-{logical}-{SUFFIX}"


def _arn(scope: Scope, stack: str, logical: str, res: Mapping[str, Any], action: str, artefacts: str) -> str:
    kind = res["Type"]
    props = res.get("Properties") or {}
    if kind == "AWS::IAM::Role" and action.startswith("iam:"):
        return f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/{generated(stack, logical)}"
    if kind == "AWS::CloudFormation::Stack" and action.startswith("cloudformation:"):
        name = generated(stack, logical)
        return f"arn:aws:cloudformation:us-east-1:{ACCOUNT_PLACEHOLDER}:stack/{name}/{STACK_ID}"
    if action == "iam:PassRole":
        return _role_arn(scope, stack, props.get("Role", props.get("ServiceRoleArn")))
    if action == "s3:GetObject" and kind == "AWS::Lambda::Function":
        # `sam deploy --s3-bucket` uploads the packages to the pipeline's artefact bucket
        return f"{artefacts}/{(props.get('Code') or {}).get('S3Key', '*')}"
    return "*"


def _needed(res: Mapping[str, Any], kind: str, action: str, extra: Mapping[str, Extra]) -> tuple[bool, str]:
    """Whether this resource's configuration needs the listed permission, and why (or why not)."""
    if (kind, action) in UNUSED:
        prop, why = UNUSED[(kind, action)]
        return (True, f"uses {prop}") if prop is not None and _has(res, prop) else (False, why)
    if action.split(":", maxsplit=1)[0] == _service(kind):
        return True, "own service"
    if action in extra:
        return True, extra[action].why
    return False, ""


def stack_operations(scope: Scope, stack: str, artefacts: str) -> Iterator[Operation | Skipped]:
    """Every (resource, handler, permission) of `scope` (the stack `stack`) and its nested stacks, kept
    or skipped with the reason; `artefacts` is the ARN of the bucket holding the code."""
    for logical, res in scope.resources.items():
        kind = res["Type"]
        where = scope.qualified(logical)
        extra = {e.permission: e for e in EXTRA.get(kind, ()) if _has(res, e.when)}
        for handler in HANDLERS:
            for action in listed(kind, handler):
                needed, why = _needed(res, kind, action, extra)
                if not needed:
                    yield Skipped(where, kind, handler, action, why)
                else:
                    arn = _arn(scope, stack, logical, res, action, artefacts)
                    yield Operation(where, kind, handler, action, arn, why)
    for logical, child in scope.children.items():
        yield from stack_operations(child, generated(stack, logical), artefacts)
