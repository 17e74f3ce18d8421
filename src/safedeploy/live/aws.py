"""Clients and stack lookups shared by watch, route and drill (clients passed in, built lazily)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from safedeploy.errors import UserError

IN_PROGRESS = ["Created", "Queued", "InProgress", "Baking", "Ready"]


# Every call of a command is bounded: an endpoint that accepts and never answers costs seconds, not
# botocore's defaults (60 s to connect, 60 s to read, each of up to 3 tries: three minutes). No call
# made here waits on a long operation (no synchronous invoke), so 10 s to read is ample.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
TRIES = 3  # `total_max_attempts` counts tries, first one included (botocore's retries config)
CALL_DEADLINE_S = 20.0  # no new try once one call has lasted this long
ADAPTIVE_DEADLINE_S = 120.0  # many write calls in a row (prune): throttling backs off up to 20 s a try


class NoAnswer(UserError):
    """An AWS endpoint did not answer within the call's deadline."""


def client(service: str, region: str | None, retry_mode: str = "standard") -> Any:
    """`retry_mode="adaptive"` adds botocore's client-side rate limiting after a throttle (for
    commands that make many write calls in a row, such as prune's deletions)."""
    import boto3

    factory: Any = boto3.client  # a plain name, not one of boto3-stubs' per-service overloads
    made = factory(service, region_name=region, config=retry_config(retry_mode))
    with_deadline(made, CALL_DEADLINE_S if retry_mode == "standard" else ADAPTIVE_DEADLINE_S)
    return made


def retry_config(mode: str) -> Any:
    from botocore.config import Config

    retries: Any = {"mode": mode, "total_max_attempts": 10 if mode == "adaptive" else TRIES}
    return Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S, retries=retries)


def with_deadline(aws_client: Any, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Stop retrying a call once it has lasted `seconds`: each try is bounded by the timeouts, the
    tries together by this (botocore has no overall timeout of its own)."""
    started: list[float] = []

    def begin(**_: Any) -> None:
        started[:] = [clock()]

    def before_try(request: Any = None, **_: Any) -> None:
        if started and clock() - started[0] > seconds:
            url = getattr(request, "url", "") or aws_client.meta.endpoint_url
            raise NoAnswer(
                f"{aws_client.meta.service_model.service_name}: no answer from {url} within {seconds:g} s"
            )

    aws_client.meta.events.register("before-call", begin)
    aws_client.meta.events.register("before-send", before_try)


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


def codedeploy_of(resources: list[dict[str, Any]]) -> tuple[str | None, dict[str, str]]:
    """A stack's CodeDeploy application (None: no function has a DeploymentPreference) and its
    deployment groups by function logical ID (SAM names a group <Function>DeploymentGroup)."""
    application = next(
        (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::CodeDeploy::Application"),
        None,
    )
    groups = {
        r["LogicalResourceId"].removesuffix("DeploymentGroup"): r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::CodeDeploy::DeploymentGroup"
    }
    return application, groups


def stack_deployment(cloudformation: Any, stack: str) -> StackDeployment:
    resources = stack_resources(cloudformation, stack)
    application, groups = codedeploy_of(resources)
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
