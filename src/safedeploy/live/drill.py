"""`safedeploy drill`: prove on a real, non-production stack that a bad version is rolled back.

Why not `sam deploy --parameter-overrides FaultMode=error`: SAM names the Lambda version after a hash
of the *unresolved* Environment, so changing only a parameter publishes no version and starts no
deployment (the fault never reaches the alias). The drill therefore does what CloudFormation does
for a changed function: publish a version with the fault switch on and hand CodeDeploy a Lambda
AppSpec for the stack's own deployment group (same hooks, alarms and auto-rollback). Afterwards it
restores $LATEST's configuration and, if the faulty version was not rolled back, the alias.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from safedeploy_core.appspec import parse_appspec, render_appspec
from safedeploy_core.codedeploy import appspec_content

from safedeploy.errors import UserError
from safedeploy.live.aws import active_deployments, stack_deployment
from safedeploy.live.watch import Snapshot, follow, snapshot


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    sleep: Callable[[float], None] = time.sleep,
) -> DrillResult:
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
    try:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": faulty_env})
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        faulty = str(
            lam.publish_version(FunctionName=name, Description=f"safedeploy drill: FAULT_MODE={fault}")[
                "Version"
            ]
        )
        deployment_id = cd.create_deployment(
            applicationName=stack.application,
            deploymentGroupName=group,
            description="safedeploy drill",
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": render_appspec(name, alias, primary, faulty, hooks)},
            },
        )["deploymentId"]
        final = follow(lambda: snapshot(cd, cw, deployment_id), on_update, interval, timeout, sleep)
    finally:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": original_env})
    now_on = str(lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"])
    rolled_back = final.status in ("Failed", "Stopped") and now_on == primary
    if now_on != primary:  # the faulty version went live: put the known-good one back
        lam.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
    return DrillResult(
        deployment_id, name, fault, faulty, primary, final.status, rolled_back, final.elapsed_s, final.reason
    )
