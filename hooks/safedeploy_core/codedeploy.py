"""CodeDeploy adapter: the hook event, the deployment's target, and the one status report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from safedeploy_core.appspec import Target, parse_appspec
from safedeploy_core.errors import AppSpecError, MalformedEvent

Status = Literal["Succeeded", "Failed"]
# StopDeployment's answer for a deployment that has already ended
ENDED_CODES = frozenset({"DeploymentAlreadyCompletedException", "InvalidDeploymentStatusException"})


@dataclass(frozen=True)
class HookEvent:
    deployment_id: str
    execution_id: str


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    application_name: str
    group_name: str
    status: str
    create_time: datetime | None
    target: Target
    config_name: str = ""
    compute_platform: str | None = None


def parse_hook_event(event: Any) -> HookEvent:
    """The event is only {"DeploymentId", "LifecycleEventHookExecutionId"} (a dict, or Powertools'
    CodeDeployLifecycleHookEvent, which is a Mapping over it); name what is missing."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"hook event must be a JSON object, got {type(event).__name__}")
    missing = [k for k in ("DeploymentId", "LifecycleEventHookExecutionId") if not event.get(k)]
    if missing:
        raise MalformedEvent(f"hook event lacks {' and '.join(missing)}: was this invoked by CodeDeploy?")
    return HookEvent(str(event["DeploymentId"]), str(event["LifecycleEventHookExecutionId"]))


def appspec_content(revision: dict[str, Any]) -> str:
    for key in ("appSpecContent", "string"):
        content = (revision.get(key) or {}).get("content")
        if content:
            return str(content)
    raise AppSpecError(f"revision of type {revision.get('revisionType')!r} carries no AppSpec content")


def get_deployment(codedeploy: Any, deployment_id: str) -> Deployment:
    """GetDeployment -> GetApplicationRevision -> AppSpec: the function, alias and both versions."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    application = info["applicationName"]
    revision = codedeploy.get_application_revision(applicationName=application, revision=info["revision"])
    target = parse_appspec(appspec_content(revision["revision"]))
    return Deployment(
        deployment_id=deployment_id,
        application_name=application,
        group_name=info.get("deploymentGroupName", ""),
        status=info.get("status", ""),
        create_time=info.get("createTime"),
        target=target,
        config_name=info.get("deploymentConfigName", ""),
        compute_platform=info.get("computePlatform"),
    )


def report_status(
    codedeploy: Any, hook: HookEvent, status: Status
) -> Literal["reported", "already-completed"]:
    """Report once. Lambda retries a failed async hook, so a second report may find the event closed."""
    try:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=hook.deployment_id,
            lifecycleEventHookExecutionId=hook.execution_id,
            status=status,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "LifecycleEventAlreadyCompletedException":
            return "already-completed"
        raise
    return "reported"


def describe_client_error(exc: ClientError) -> str:
    err = exc.response.get("Error", {})
    op = getattr(exc, "operation_name", "call")
    return f"{op} failed: {err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ")
