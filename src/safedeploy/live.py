"""`safedeploy watch` and `safedeploy route`: a live deployment, and alias weights by hand."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from safedeploy_core.alarm_checks import alarm_states
from safedeploy_core.timing import deployment_config

from safedeploy.aws import StackDeployment, active_deployments, client, stack_deployment
from safedeploy.errors import UserError

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
    infos = [codedeploy.get_deployment(deploymentId=d)["deploymentInfo"] for d in latest]
    return str(max(infos, key=lambda i: i["createTime"])["deploymentId"])


def snapshot(codedeploy: Any, cloudwatch: Any, deployment_id: str, now: datetime | None = None) -> Snapshot:
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    now = now or datetime.now(UTC)
    snap = Snapshot(deployment_id, info["status"], info.get("deploymentConfigName", ""))
    created = info.get("createTime")
    if created:
        end = info.get("completeTime") if info["status"] in FINAL and info.get("completeTime") else now
        snap.elapsed_s = max((end - created).total_seconds(), 0.0)
    targets = codedeploy.list_deployment_targets(deploymentId=deployment_id).get("targetIds", [])
    if targets:
        target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=targets[0])[
            "deploymentTarget"
        ]
        lam = target.get("lambdaTarget", {})
        fn = lam.get("lambdaFunctionInfo", {})
        snap.function = fn.get("functionName")
        snap.current_version, snap.target_version = fn.get("currentVersion"), fn.get("targetVersion")
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
    config = deployment_config(snap.config)
    if config and not snap.done:
        snap.left_s = max(config.shift_s - snap.elapsed_s, 0.0)
    rollback = info.get("rollbackInfo") or {}
    snap.rolled_back = bool(rollback.get("rollbackDeploymentId") or rollback.get("rollbackMessage"))
    if snap.status in ("Failed", "Stopped"):
        snap.reason = explain_failure(info, snap)
    return snap


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


def watch_command(args: argparse.Namespace, sleep: Callable[[float], None] = time.sleep) -> int:
    cd, cw = client("codedeploy", args.region), client("cloudwatch", args.region)
    stack = stack_deployment(client("cloudformation", args.region), args.stack)
    deployment_id = find_deployment(cd, stack, args.deployment_id)
    console = Console(highlight=False)
    if args.format == "json":
        final = follow(
            lambda: snapshot(cd, cw, deployment_id),
            lambda s: print(json.dumps(s.as_dict())),
            args.interval,
            args.timeout,
            sleep,
        )
    else:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f} %"),
            TextColumn("{task.fields[detail]}"),
            console=console,
        ) as progress:
            task = progress.add_task(f"{deployment_id}", total=100, detail="")

            def show(s: Snapshot) -> None:
                hooks = " ".join(f"{k}:{v}" for k, v in s.hooks.items() if k != "AllowTraffic")
                alarms = sum(v == "ALARM" for v in s.alarms.values())
                left = f"~{s.left_s / 60:.1f} min left" if s.left_s is not None else ""
                progress.update(
                    task,
                    completed=s.traffic_pct,
                    description=f"{s.function or deployment_id} "
                    f"v{s.current_version}→v{s.target_version} {s.status}",
                    detail=f"{hooks} alarms in ALARM: {alarms}/{len(s.alarms)} {left}",
                )

            final = follow(lambda: snapshot(cd, cw, deployment_id), show, args.interval, args.timeout, sleep)
        verdict = (
            "[green]succeeded[/]" if final.status == "Succeeded" else f"[bold red]{final.status.lower()}[/]"
        )
        console.print(
            f"deployment {deployment_id} {verdict}"
            + (f": {final.reason}" if final.reason else "")
            + (" — traffic rolled back to the previous version" if final.rolled_back else "")
        )
    return 0 if final.status == "Succeeded" else 1


# ------------------------------------------------------------------ route
def _function(stack: StackDeployment, logical_id: str) -> str:
    if logical_id not in stack.functions:
        known = ", ".join(sorted(stack.functions))
        raise UserError(f"stack {stack.stack!r} has no function {logical_id!r} (functions: {known})")
    return stack.functions[logical_id]


def weights(alias: dict[str, Any]) -> dict[str, float]:
    extra = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    out = {str(v): round(100 * float(w), 4) for v, w in extra.items()}
    out[str(alias["FunctionVersion"])] = round(100 - sum(out.values()), 4)
    return out


def newest_version(lambda_client: Any, name: str) -> str:
    versions: list[int] = []
    kwargs: dict[str, Any] = {"FunctionName": name}
    while True:
        page = lambda_client.list_versions_by_function(**kwargs)
        versions.extend(int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit())
        if not page.get("NextMarker"):
            break
        kwargs["Marker"] = page["NextMarker"]
    if not versions:
        raise UserError(f"{name} has no published version")
    return str(max(versions))


def route(
    lambda_client: Any,
    codedeploy: Any,
    stack: StackDeployment,
    function: str,
    alias: str,
    *,
    weight: float | None = None,
    version: str | None = None,
    reset: bool = False,
) -> dict[str, Any]:
    """Show or change the alias weights; refuses while CodeDeploy is shifting this function."""
    name = _function(stack, function)
    current = lambda_client.get_alias(FunctionName=name, Name=alias)
    if weight is None and not reset:
        return {"function": name, "alias": alias, "weights": weights(current), "changed": False}
    group = stack.groups.get(function)
    if group:
        active = active_deployments(codedeploy, stack.application, group)
        if active:
            raise UserError(
                f"deployment {active[0]} is in progress for {function}: CodeDeploy owns the alias "
                "until it ends; a manual change now would leave it inconsistent"
            )
    primary = str(current["FunctionVersion"])
    if reset:
        target = version or primary
        updated = lambda_client.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=target,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
    else:
        assert weight is not None
        if not 0 <= weight < 100:
            raise UserError(
                "--weight must be within 0 and 100 (exclusive); use --reset --version N for 100 %"
            )
        other = version or newest_version(lambda_client, name)
        if other == primary:
            raise UserError(f"version {other} already is the alias's primary version; pass --version")
        routing = {other: weight / 100} if weight > 0 else {}
        updated = lambda_client.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": routing},
        )
    return {"function": name, "alias": alias, "weights": weights(updated), "changed": True}


def route_command(args: argparse.Namespace) -> int:
    stack = stack_deployment(client("cloudformation", args.region), args.stack)
    result = route(
        client("lambda", args.region),
        client("codedeploy", args.region),
        stack,
        args.function,
        args.alias,
        weight=args.weight,
        version=args.version,
        reset=args.reset,
    )
    if args.format == "json":
        print(json.dumps(result))
    else:
        console = Console(highlight=False)
        console.print(f"{result['function']}:{result['alias']}" + (" updated" if result["changed"] else ""))
        for v, w in sorted(result["weights"].items(), key=lambda kv: -kv[1]):
            console.print(f"  version {v:>4}  {'█' * round(w / 5):<20} {w:6.2f} %")
    return 0
