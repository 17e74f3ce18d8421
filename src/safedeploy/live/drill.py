"""`safedeploy drill`: prove on a real, non-production stack that a bad version is rolled back.

Why not `sam deploy --parameter-overrides FaultMode=error`: SAM names the Lambda version after a hash
of the *unresolved* Environment, so changing only a parameter publishes no version and starts no
deployment (the fault never reaches the alias). The drill therefore does what CloudFormation does
for a changed function: publish a version with the fault switch on and hand CodeDeploy a Lambda
AppSpec for the stack's own deployment group (same hooks, alarms and auto-rollback).

Whatever ends the drill — the deployment's end, the timeout, Ctrl-C, SIGTERM, an AWS error — it undoes
what it did, each step retried: a deployment still running is stopped with rollback, the alias goes
back to the known-good version, $LATEST's environment is restored and the faulty version deleted. What
could not be undone is named with the command that undoes it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from safedeploy_core.appspec import parse_appspec, render_appspec
from safedeploy_core.codedeploy import appspec_content

from safedeploy.errors import UserError, describe_aws_error
from safedeploy.live.aws import IN_PROGRESS, active_deployments, stack_deployment
from safedeploy.live.watch import Snapshot, follow, snapshot

UNDO_TRIES = 4
UNDO_BACKOFF_S = 2.0


@dataclass
class DrillResult:
    deployment_id: str
    function: str
    fault: str
    faulty_version: str
    restored_version: str
    status: str
    rolled_back: bool
    detection_s: float
    reason: str | None
    undone: list[str] = field(default_factory=list)  # what the clean-up did
    left: list[str] = field(default_factory=list)  # what it could not undo, each with its command

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Ledger:
    """What the drill changed so far: exactly what its clean-up must undo."""

    name: str
    alias: str
    primary: str
    original_env: dict[str, str]
    config_changed: bool = False
    faulty_version: str | None = None
    deployment_id: str | None = None
    undone: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def summary(self) -> str:
        done = ", ".join(self.undone) or "nothing to undo"
        return done + ("; LEFT: " + "; ".join(self.left) if self.left else "")


class Terminated(KeyboardInterrupt):
    """SIGTERM during a drill: handled like Ctrl-C, so the clean-up runs."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _retried(step: Callable[[], None], lam: Any, name: str, sleep: Callable[[float], None]) -> str | None:
    """Run one undo step up to UNDO_TRIES times; None when it worked, else the last error."""
    error = ""
    for attempt in range(UNDO_TRIES):
        try:
            step()
        except ClientError as exc:
            err = exc.response.get("Error", {})
            error = f"{err.get('Code')}: {err.get('Message')}"
            if err.get("Code") == "ResourceConflictException":  # an update still in progress
                with contextlib.suppress(Exception):
                    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        except BotoCoreError as exc:
            error = str(exc)
        except Exception as exc:  # an odd answer: the remaining steps must still run
            error = f"{type(exc).__name__}: {exc}"
        else:
            return None
        if attempt + 1 < UNDO_TRIES:
            sleep(UNDO_BACKOFF_S * (attempt + 1))
    return error


def undo(clients: dict[str, Any], ledger: Ledger, sleep: Callable[[float], None]) -> None:
    """Undo what the ledger records, in the order that keeps users safe: stop the canary, put the
    alias back, restore $LATEST, then delete the faulty version once nothing points at it."""
    lam, cd = clients["lambda"], clients["codedeploy"]
    name, alias, primary = ledger.name, ledger.alias, ledger.primary
    ended = True
    if ledger.deployment_id:
        deployment_id = ledger.deployment_id

        def stop() -> None:
            status = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
            if status in IN_PROGRESS:
                cd.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
                ledger.undone.append(f"deployment {deployment_id} stopped with rollback")

        error = _retried(stop, lam, name, sleep)
        if error:
            ended = False
            ledger.left.append(
                f"deployment {deployment_id} may still be running ({error}): "
                f"aws deploy stop-deployment --deployment-id {deployment_id} --auto-rollback-enabled"
            )

    def alias_back() -> None:
        current = lam.get_alias(FunctionName=name, Name=alias)
        weights = (current.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if str(current["FunctionVersion"]) != primary or weights:
            lam.update_alias(
                FunctionName=name,
                Name=alias,
                FunctionVersion=primary,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
            ledger.undone.append(f"alias {alias} put back on v{primary}")

    error = _retried(alias_back, lam, name, sleep)
    if error:
        ended = False
        ledger.left.append(
            f"alias {alias} may still send traffic to v{ledger.faulty_version} ({error}): aws lambda "
            f"update-alias --function-name {name} --name {alias} --function-version {primary} "
            "--routing-config AdditionalVersionWeights={}"
        )
    if ledger.config_changed:

        def restore() -> None:
            lam.update_function_configuration(
                FunctionName=name, Environment={"Variables": ledger.original_env}
            )
            ledger.undone.append("$LATEST environment restored")

        error = _retried(restore, lam, name, sleep)
        if error:
            was = {k: ledger.original_env.get(k, "(unset)") for k in ("FAULT_MODE", "FAULT_RATE")}
            ledger.left.append(
                f"$LATEST of {name} still has the fault switch on ({error}): set "
                + ", ".join(f"{k} back to {v}" for k, v in was.items())
                + " (aws lambda update-function-configuration --environment ...)"
            )
    if ledger.faulty_version:
        version = ledger.faulty_version
        command = f"aws lambda delete-function --function-name {name} --qualifier {version}"
        if not ended:
            ledger.left.append(f"faulty version {version} kept while its deployment may run: {command}")
            return

        def delete() -> None:
            lam.delete_function(FunctionName=name, Qualifier=version)
            ledger.undone.append(f"faulty version {version} deleted")

        error = _retried(delete, lam, name, sleep)
        if error:
            ledger.left.append(f"faulty version {version} is still published ({error}): {command}")


def stack_environment(cloudformation: Any, stack: str) -> str | None:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    for output in described.get("Outputs", []):
        if output["OutputKey"] == "EnvironmentName":
            return str(output["OutputValue"])
    for param in described.get("Parameters", []):
        if param["ParameterKey"] == "EnvironmentName":
            return str(param["ParameterValue"])
    return None


def last_hooks(codedeploy: Any, application: str, group: str) -> dict[str, str]:
    """The hooks of the group's latest deployment (the AppSpec CloudFormation wrote)."""
    previous = codedeploy.list_deployments(applicationName=application, deploymentGroupName=group).get(
        "deployments", []
    )
    if not previous:
        raise UserError(
            "the deployment group has no earlier deployment to take its hooks from: deploy a code "
            "change once (the first create runs no deployment), then drill"
        )
    info = codedeploy.get_deployment(deploymentId=previous[0])["deploymentInfo"]
    revision = codedeploy.get_application_revision(applicationName=application, revision=info["revision"])
    target = parse_appspec(appspec_content(revision["revision"]))
    hooks = {}
    if target.before_allow_traffic:
        hooks["BeforeAllowTraffic"] = target.before_allow_traffic
    if target.after_allow_traffic:
        hooks["AfterAllowTraffic"] = target.after_allow_traffic
    return hooks


def drill(
    clients: dict[str, Any],
    stack_name: str,
    function: str,
    fault: str,
    fault_rate: float,
    *,
    i_know: bool = False,
    timeout: float = 3600.0,
    interval: float = 10.0,
    alias: str = "live",
    on_update: Callable[[Snapshot], None] = lambda s: None,
    sleep: Callable[[float], None] | None = None,
) -> DrillResult:
    sleep = sleep or time.sleep
    cfn, lam, cd, cw = (
        clients["cloudformation"],
        clients["lambda"],
        clients["codedeploy"],
        clients["cloudwatch"],
    )
    environment = stack_environment(cfn, stack_name)
    if environment == "prod" and not i_know:
        raise UserError(
            f"stack {stack_name!r} is a prod environment: a drill ships a broken version to real "
            "users until rollback; pass --i-know to do it anyway"
        )
    stack = stack_deployment(cfn, stack_name)
    if function not in stack.functions or function not in stack.groups:
        raise UserError(f"stack {stack_name!r} has no function {function!r} with a DeploymentPreference")
    name, group = stack.functions[function], stack.groups[function]
    if active_deployments(cd, stack.application, group):
        raise UserError(f"a deployment of {function} is in progress; drill when it has ended")
    current = lam.get_alias(FunctionName=name, Name=alias)
    if (current.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
        raise UserError(f"{name}:{alias} has manual weights; `safedeploy route --reset` first")
    primary = str(current["FunctionVersion"])
    hooks = last_hooks(cd, stack.application, group)
    original_env = (
        lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    )
    faulty_env = {**original_env, "FAULT_MODE": fault, "FAULT_RATE": f"{fault_rate:g}"}
    ledger = Ledger(name, alias, primary, original_env)
    try:
        with _terminate_as_interrupt():
            ledger.config_changed = True  # set first: a failed update may still have applied
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": faulty_env})
            lam.get_waiter("function_updated_v2").wait(FunctionName=name)
            published = lam.publish_version(
                FunctionName=name, Description=f"safedeploy drill: FAULT_MODE={fault}"
            )
            ledger.faulty_version = faulty = str(published["Version"])
            deployment_id = cd.create_deployment(
                applicationName=stack.application,
                deploymentGroupName=group,
                description="safedeploy drill",
                revision={
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": render_appspec(name, alias, primary, faulty, hooks)},
                },
            )["deploymentId"]
            ledger.deployment_id = deployment_id
            final = follow(lambda: snapshot(cd, cw, deployment_id), on_update, interval, timeout, sleep)
            on_primary = str(lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]) == primary
    except BaseException as exc:
        # Ctrl-C and SIGTERM included: nothing may be left shifting with nobody watching.
        with _ignoring_interrupts():
            undo(clients, ledger, sleep)
        interrupted = isinstance(exc, KeyboardInterrupt)
        what = "interrupted" if interrupted else f"failed: {describe_aws_error(exc)}"
        raise UserError(f"drill {what}; clean-up: {ledger.summary()}", 130 if interrupted else None) from exc
    with _ignoring_interrupts():
        undo(clients, ledger, sleep)
    rolled_back = final.status in ("Failed", "Stopped") and on_primary
    return DrillResult(
        deployment_id,
        name,
        fault,
        faulty,
        primary,
        final.status,
        rolled_back,
        final.elapsed_s,
        final.reason,
        ledger.undone,
        ledger.left,
    )


@contextlib.contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    """The clean-up itself must not be cut short by a second Ctrl-C or SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
