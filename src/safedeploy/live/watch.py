"""`safedeploy watch`: a live CodeDeploy deployment, polled into snapshots until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from safedeploy_core.alarm_checks import alarm_states
from safedeploy_core.metrics import collect_pair
from safedeploy_core.timing import LAMBDA_METRIC_PERIOD_S, assumptions, deployment_config

from safedeploy.errors import UserError
from safedeploy.live.aws import StackDeployment, active_deployments

FINAL = {"Succeeded", "Failed", "Stopped"}


@dataclass
class Snapshot:
    deployment_id: str
    status: str
    config: str
    function: str | None = None
    current_version: str | None = None
    target_version: str | None = None
    traffic_pct: float = 0.0
    hooks: dict[str, str] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    left_s: float | None = None
    reason: str | None = None
    rolled_back: bool = False
    # Per version, what CloudWatch has: whole minutes of the shift that ended the metric delay ago or more
    # (the same visibility the rehearsal and the hooks assume); {"until": ISO, "old"/"new": {calls,
    # errors}}, or {"unavailable": why}.
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in FINAL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_deployment(codedeploy: Any, stack: StackDeployment, deployment_id: str | None) -> str:
    if deployment_id:
        return deployment_id
    for group in stack.groups.values():
        active = active_deployments(codedeploy, stack.application, group)
        if active:
            return active[0]
    latest = []
    for group in stack.groups.values():
        latest.extend(
            codedeploy.list_deployments(applicationName=stack.application, deploymentGroupName=group).get(
                "deployments", []
            )[:1]
        )
    if not latest:
        raise UserError(
            f"stack {stack.stack!r} has no CodeDeploy deployment yet (the first create runs none)"
        )
    return _newest(codedeploy, latest)


def _newest(codedeploy: Any, deployment_ids: list[str]) -> str:
    infos = [codedeploy.get_deployment(deploymentId=d)["deploymentInfo"] for d in deployment_ids]
    return str(max(infos, key=lambda i: i["createTime"])["deploymentId"])


def deployment_since(codedeploy: Any, stack: StackDeployment, since: datetime) -> str | None:
    """The newest deployment of the stack's groups created at or after `since`."""
    found: list[str] = []
    for group in stack.groups.values():
        found.extend(
            codedeploy.list_deployments(
                applicationName=stack.application,
                deploymentGroupName=group,
                createTimeRange={"start": since},
            ).get("deployments", [])
        )
    return _newest(codedeploy, found) if found else None


def wait_for_deployment(
    codedeploy: Any,
    cloudformation: Any,
    stack: StackDeployment,
    since: datetime,
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """For a pipeline that starts `sam deploy` and this watch together: the deployment CloudFormation
    starts for this update, or None once the stack update ended without one (no new version)."""
    started = clock()
    while True:
        found = deployment_since(codedeploy, stack, since)
        if found:
            return found
        status = str(cloudformation.describe_stacks(StackName=stack.stack)["Stacks"][0]["StackStatus"])
        if not status.endswith("_IN_PROGRESS"):
            return None
        if clock() - started > timeout:
            raise UserError(f"no deployment of stack {stack.stack!r} started within {timeout:.0f} s")
        sleep(interval)


def snapshot(codedeploy: Any, cloudwatch: Any, deployment_id: str, now: datetime | None = None) -> Snapshot:
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    now = now or datetime.now(UTC)
    snap = Snapshot(deployment_id, info["status"], info.get("deploymentConfigName", ""))
    created = info.get("createTime")
    end = info.get("completeTime") if snap.done and info.get("completeTime") else now
    if created:
        snap.elapsed_s = max((end - created).total_seconds(), 0.0)
    alias: str | None = None
    targets = codedeploy.list_deployment_targets(deploymentId=deployment_id).get("targetIds", [])
    if targets:
        target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=targets[0])[
            "deploymentTarget"
        ]
        lam = target.get("lambdaTarget", {})
        fn = lam.get("lambdaFunctionInfo", {})
        snap.function = fn.get("functionName")
        snap.current_version, snap.target_version = fn.get("currentVersion"), fn.get("targetVersion")
        alias = fn.get("functionAlias")
        snap.traffic_pct = 100 * float(fn.get("targetVersionWeight") or 0)
        snap.hooks = {
            e["lifecycleEventName"]: e.get("status", "Pending") for e in lam.get("lifecycleEvents", [])
        }
    group = codedeploy.get_deployment_group(
        applicationName=info["applicationName"], deploymentGroupName=info["deploymentGroupName"]
    )["deploymentGroupInfo"]
    names = [a["name"] for a in (group.get("alarmConfiguration") or {}).get("alarms", [])]
    if names:
        snap.alarms = alarm_states(cloudwatch, names)
    if created and snap.function and snap.current_version and snap.target_version:
        snap.metrics = version_metrics(cloudwatch, snap, alias, created, min(end, now))
    config = deployment_config(snap.config)
    if config and not snap.done:
        snap.left_s = max(config.shift_s - snap.elapsed_s, 0.0)
    rollback = info.get("rollbackInfo") or {}
    snap.rolled_back = bool(rollback.get("rollbackDeploymentId") or rollback.get("rollbackMessage"))
    if snap.status in ("Failed", "Stopped"):
        snap.reason = explain_failure(info, snap)
    return snap


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def version_metrics(
    cloudwatch: Any, snap: Snapshot, alias: str | None, created: datetime, end: datetime
) -> dict[str, Any]:
    """Calls and errors of the old and the new version since the deployment began, as CloudWatch has
    them: a minute counts once it ended the metric delay ago (Lambda sends its metrics in 1-minute
    intervals), so the figures trail the traffic by one to two minutes."""
    from botocore.exceptions import BotoCoreError, ClientError

    delay_s = assumptions().visibility_s
    until = _minute(end - timedelta(seconds=delay_s))
    start = _minute(created)
    if until <= start or alias is None or snap.function is None:
        return {"until": None, "note": f"no whole minute visible yet ({delay_s} s metric delay)"}
    try:
        old, new = collect_pair(
            cloudwatch,
            snap.function,
            alias,
            str(snap.current_version),
            str(snap.target_version),
            start,
            until,
            LAMBDA_METRIC_PERIOD_S,
        )
    except (ClientError, BotoCoreError) as exc:
        return {"unavailable": f"CloudWatch GetMetricData: {exc}"}
    return {
        "until": until.isoformat(),
        "old": {"calls": old.invocations, "errors": old.errors},
        "new": {"calls": new.invocations, "errors": new.errors},
    }


def explain_failure(info: dict[str, Any], snap: Snapshot) -> str:
    parts = []
    error = info.get("errorInformation") or {}
    if error:
        parts.append(f"{error.get('code', 'ERROR')}: {error.get('message', '')}".strip())
    failed_hooks = [h for h, s in snap.hooks.items() if s == "Failed"]
    if failed_hooks:
        parts.append(f"failed lifecycle event(s): {', '.join(failed_hooks)}")
    firing = [a for a, s in snap.alarms.items() if s == "ALARM"]
    if firing:
        parts.append(f"alarm(s) in ALARM: {', '.join(firing)}")
    rollback = (info.get("rollbackInfo") or {}).get("rollbackMessage")
    if rollback:
        parts.append(rollback)
    return "; ".join(parts) or f"deployment {snap.status.lower()}"


def follow(
    poll: Callable[[], Snapshot],
    on_update: Callable[[Snapshot], None],
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Snapshot:
    started = clock()
    while True:
        snap = poll()
        on_update(snap)
        if snap.done:
            return snap
        if clock() - started > timeout:
            raise UserError(f"deployment {snap.deployment_id} still {snap.status} after {timeout:.0f} s")
        sleep(interval)
