"""Clients and stack lookups shared by watch, route and drill (clients passed in, built lazily)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from safedeploy.errors import UserError

IN_PROGRESS = ["Created", "Queued", "InProgress", "Baking", "Ready"]


def client(service: str, region: str | None, retry_mode: str = "standard") -> Any:
    """`retry_mode="adaptive"` adds botocore's client-side rate limiting after a throttle (for
    commands that make many write calls in a row, such as prune's deletions)."""
    import boto3

    factory: Any = boto3.client  # a plain name, not one of boto3-stubs' per-service overloads
    return factory(service, region_name=region, config=retry_config(retry_mode))


def retry_config(mode: str) -> Any:
    from botocore.config import Config

    retries: Any = {"mode": mode, "total_max_attempts": 10 if mode == "adaptive" else 3}
    return Config(retries=retries)


# CloudWatch signs its requests as `monitoring`; its IAM actions are cloudwatch:*
IAM_PREFIX = {"monitoring": "cloudwatch"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}


def denied(code: str) -> bool:
    return "AccessDenied" in code or code == "UnauthorizedOperation"


@contextlib.contextmanager
def aws_errors(any_client: Any) -> Iterator[None]:
    """A refused call as one line naming the IAM action (`lambda:DeleteFunction`), or throttling that
    outlasted the client's retries."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        signing = any_client.meta.service_model.signing_name
        prefix = IAM_PREFIX.get(signing, signing)
        action = f"{prefix}:{exc.operation_name}"
        if denied(code):
            raise UserError(
                f"no permission for {action}: {exc.response['Error'].get('Message', '')}"
            ) from exc
        if code in THROTTLED:
            raise UserError(
                f"{action} still throttled after retries ({code}): nothing changed; try again later"
            ) from exc
        raise


@dataclass(frozen=True)
class StackDeployment:
    stack: str
    application: str
    groups: dict[str, str]  # function logical ID -> deployment group name
    functions: dict[str, str]  # function logical ID -> physical name


def stack_resources(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    try:
        resources = []
        kwargs: dict[str, Any] = {"StackName": stack}
        while True:
            page = cloudformation.list_stack_resources(**kwargs)
            resources.extend(page.get("StackResourceSummaries", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise UserError(f"stack {stack!r} not found: {exc.response['Error'].get('Message', '')}") from exc
        raise
    return resources


def stack_functions(cloudformation: Any, stack: str) -> dict[str, str]:
    """Function logical ID -> physical name."""
    return _functions(stack_resources(cloudformation, stack))


def _functions(resources: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
    }


def stack_deployment(cloudformation: Any, stack: str) -> StackDeployment:
    resources = stack_resources(cloudformation, stack)
    application = next(
        (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::CodeDeploy::Application"),
        None,
    )
    groups = {
        r["LogicalResourceId"].removesuffix("DeploymentGroup"): r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::CodeDeploy::DeploymentGroup"
    }
    functions = _functions(resources)
    if application is None:
        raise UserError(
            f"stack {stack!r} has no CodeDeploy application (no function with DeploymentPreference)"
        )
    return StackDeployment(stack, application, groups, functions)


def active_deployments(codedeploy: Any, application: str, group: str) -> list[str]:
    return list(
        codedeploy.list_deployments(
            applicationName=application,
            deploymentGroupName=group,
            includeOnlyStatuses=IN_PROGRESS,
        ).get("deployments", [])
    )
