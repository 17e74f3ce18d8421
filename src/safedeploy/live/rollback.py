"""`safedeploy rollback`: move `live` back to an earlier published version THROUGH CodeDeploy.

A rollback is a deployment like any other: the stack's own deployment group (its configuration,
alarms and auto-rollback) and the hooks of its latest deployment, with an AppSpec from the version
`live` serves now to the chosen one, as the drill builds it. So the earlier version is smoke-tested
before it takes traffic, and a rollback that fails its gates is itself rolled back (`live` unchanged).

Three steps, each usable on its own (the rehearsal plays CodeDeploy between `start` and `finish`):
`prepare` reads and refuses, `start` creates the deployment, `finish` follows it to its end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from safedeploy_core.appspec import render_appspec

from safedeploy.errors import UserError
from safedeploy.live.aws import active_deployments, aws_errors, stack_deployment, stack_resources
from safedeploy.live.drill import last_hooks
from safedeploy.live.route import published_versions, weights
from safedeploy.live.watch import Snapshot, follow, snapshot


@dataclass(frozen=True)
class RollbackPlan:
    stack: str
    function: str  # logical ID
    name: str  # physical name
    alias: str
    application: str
    group: str
    from_version: str
    target_version: str
    hooks: dict[str, str]
    template_version: str | None  # the version the stack's template describes now

    def appspec(self) -> str:
        return render_appspec(self.name, self.alias, self.from_version, self.target_version, self.hooks)


@dataclass
class RollbackResult:
    deployment_id: str
    function: str
    alias: str
    from_version: str
    target_version: str
    status: str
    alias_version: str  # where the alias is once the deployment ended
    reason: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded" and self.alias_version == self.target_version

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "succeeded": self.succeeded}


def _template_version(cloudformation: Any, stack: str, function: str) -> str | None:
    """The version the template describes: SAM's `<Fn>Version<hash>` resource still in the stack."""
    for r in stack_resources(cloudformation, stack):
        logical = str(r["LogicalResourceId"])
        if r["ResourceType"] == "AWS::Lambda::Version" and logical.startswith(f"{function}Version"):
            qualifier = str(r.get("PhysicalResourceId", "")).rpartition(":")[2]
            if qualifier.isdigit():
                return qualifier
    return None


def _refuse_if_deploying(codedeploy: Any, application: str, group: str, function: str) -> None:
    active = active_deployments(codedeploy, application, group)
    if active:
        raise UserError(f"deployment {active[0]} of {function} is in progress: roll back when it has ended")


def prepare(
    clients: dict[str, Any], stack_name: str, function: str, to: str, alias: str = "live"
) -> RollbackPlan:
    cfn, lam, cd = clients["cloudformation"], clients["lambda"], clients["codedeploy"]
    with aws_errors(cfn):
        stack = stack_deployment(cfn, stack_name)
        template_version = _template_version(cfn, stack_name, function)
    if function not in stack.functions:
        known = ", ".join(sorted(stack.functions))
        raise UserError(f"stack {stack_name!r} has no function {function!r} (functions: {known})")
    if function not in stack.groups:
        raise UserError(
            f"{function} of stack {stack_name!r} has no DeploymentPreference: no CodeDeploy to go through"
        )
    name, group = stack.functions[function], stack.groups[function]
    with aws_errors(cd):
        _refuse_if_deploying(cd, stack.application, group, function)
    with aws_errors(lam):
        try:
            current = lam.get_alias(FunctionName=name, Name=alias)
        except lam.exceptions.ResourceNotFoundException as exc:
            raise UserError(f"{name} has no alias {alias!r}") from exc
        versions = published_versions(lam, name)
    if to not in versions:
        listed = ", ".join(versions) or "none"
        raise UserError(f"version {to!r} of {name} does not exist (published: {listed})")
    split = weights(current)
    if len(split) > 1:
        shares = ", ".join(f"v{v} {w:g} %" for v, w in split.items())
        raise UserError(f"{name}:{alias} has manual weights ({shares}); `safedeploy route --reset` first")
    primary = str(current["FunctionVersion"])
    if primary == to:
        raise UserError(f"{name}:{alias} already is on version {to}")
    with aws_errors(cd):
        hooks = last_hooks(cd, stack.application, group)
    return RollbackPlan(
        stack_name, function, name, alias, stack.application, group, primary, to, hooks, template_version
    )


def start(codedeploy: Any, plan: RollbackPlan) -> str:
    """Create the deployment (checked once more right before: one may have started meanwhile)."""
    with aws_errors(codedeploy):
        _refuse_if_deploying(codedeploy, plan.application, plan.group, plan.function)
        return str(
            codedeploy.create_deployment(
                applicationName=plan.application,
                deploymentGroupName=plan.group,
                description=f"safedeploy rollback: v{plan.from_version} -> v{plan.target_version}",
                revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": plan.appspec()}},
            )["deploymentId"]
        )


def notes(plan: RollbackPlan, succeeded: bool) -> list[str]:
    """What the user must know about the template once `live` no longer matches it."""
    if not succeeded:
        return [f"{plan.alias} stays on v{plan.from_version}; the template and the alias still agree"]
    newer = plan.template_version or plan.from_version
    return [
        f"the template of stack {plan.stack} still describes v{newer}'s code: CloudFormation does not "
        f"know that {plan.alias} moved",
        f"the next `sam deploy` that changes nothing in {plan.function} leaves {plan.alias} on "
        f"v{plan.target_version}; one that changes its code or configuration publishes a new version "
        f"from the template and shifts {plan.alias} to it through CodeDeploy — fix or revert the code "
        "in the source first",
    ]


def _poll(codedeploy: Any, cloudwatch: Any, plan: RollbackPlan, deployment_id: str) -> Snapshot:
    snap = snapshot(codedeploy, cloudwatch, deployment_id)
    # before CodeDeploy lists the deployment's target, the versions are the plan's
    snap.current_version = snap.current_version or plan.from_version
    snap.target_version = snap.target_version or plan.target_version
    return snap


def finish(
    clients: dict[str, Any],
    plan: RollbackPlan,
    deployment_id: str,
    *,
    on_update: Callable[[Snapshot], None] = lambda s: None,
    interval: float = 10.0,
    timeout: float = 3600.0,
    sleep: Callable[[float], None] | None = None,
) -> RollbackResult:
    cd, cw, lam = clients["codedeploy"], clients["cloudwatch"], clients["lambda"]
    try:
        with aws_errors(cd):
            final = follow(
                lambda: _poll(cd, cw, plan, deployment_id), on_update, interval, timeout, sleep or time.sleep
            )
    except KeyboardInterrupt as exc:
        raise UserError(
            f"stopped watching; deployment {deployment_id} goes on under CodeDeploy's gates "
            f"(safedeploy watch --stack {plan.stack} --deployment-id {deployment_id})",
            130,
        ) from exc
    with aws_errors(lam):
        on = str(lam.get_alias(FunctionName=plan.name, Name=plan.alias)["FunctionVersion"])
    result = RollbackResult(
        deployment_id,
        plan.name,
        plan.alias,
        plan.from_version,
        plan.target_version,
        final.status,
        on,
        final.reason,
    )
    result.notes = notes(plan, result.succeeded)
    return result


def rollback(
    clients: dict[str, Any],
    stack_name: str,
    function: str,
    to: str,
    *,
    alias: str = "live",
    on_update: Callable[[Snapshot], None] = lambda s: None,
    interval: float = 10.0,
    timeout: float = 3600.0,
    sleep: Callable[[float], None] | None = None,
) -> RollbackResult:
    plan = prepare(clients, stack_name, function, to, alias)
    deployment_id = start(clients["codedeploy"], plan)
    return finish(
        clients, plan, deployment_id, on_update=on_update, interval=interval, timeout=timeout, sleep=sleep
    )
