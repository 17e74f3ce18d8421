"""`safedeploy rehearse`: a whole gradual deployment of the template, offline and in-process.

The template is translated and read for the function, its hooks, deployment type and gate alarms;
moto (a server on loopback, started and stopped here) holds functions, versions, alias, alarms,
metrics, the SSM URL parameter and the CodeDeploy records; the real function and hook code runs
in-process (safedeploy.offline.inprocess_lambda); offline.engine plays CodeDeploy.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safedeploy_core.timing import DeploymentConfig, deployment_config, too_long_to_rehearse

from safedeploy.errors import UserError
from safedeploy.iam.enforce import Account, rehearsal_principals
from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.api_gateway import serve_api
from safedeploy.offline.engine import Engine, HookRun, TimelineEvent
from safedeploy.offline.service_overlay import overlay
from safedeploy.rehearsal.functions import (
    STACK,
    FunctionCode,
    function_code,
    function_env,
    function_timeout,
    hook_run,
    hook_support,
    load_handler,
    traffic_cases,
)
from safedeploy.rehearsal.options import RehearsalOptions
from safedeploy.rehearsal.placeholders import alarm_arguments
from safedeploy.rehearsal.world import MotoCloud, World, quiet_loggers, world
from safedeploy.template.deployments import FunctionDeployment, deployments
from safedeploy.template.loader import load_template
from safedeploy.template.scope import build_scope

FAULT_SLOW_MS = "2000"  # above the smoke cases' 1500 ms budget, short enough for a quick demo


def _deployment(options: RehearsalOptions) -> tuple[FunctionDeployment, DeploymentConfig]:
    sam = load_template(options.template)
    declared = sam.get("Parameters", {})
    overrides = (
        {"DeploymentType": options.type_name} if options.type_name and "DeploymentType" in declared else {}
    )
    scope = build_scope(options.template, overrides, sam=sam)
    found = [d for d in deployments(scope) if d.logical_id == options.function]
    if len(found) > 1:  # a rehearsal plays one deployment: it does not pick a scenario for the user
        open_conditions = ", ".join(name for name, _ in found[0].scenario)
        raise UserError(
            f"the deployment of {options.function} depends on condition(s) {open_conditions} that the "
            "template's parameter defaults leave open: give those parameters defaults to rehearse it"
        )
    dep = found[0] if found else None
    if dep is None:
        raise UserError(
            f"{options.template} has no function {options.function!r} with a DeploymentPreference"
        )
    config = deployment_config(options.type_name) if options.type_name else dep.config
    if config is None:
        raise UserError(f"deployment type {dep.type_name!r} is not a predefined CodeDeploy config")
    too_long = too_long_to_rehearse(config)
    if too_long:
        raise UserError(too_long)
    return dep, config


def _publish_versions(
    lam: Any,
    role: str,
    name: str,
    code: FunctionCode,
    env: dict[str, str],
    timeout: int,
    alias: str,
    fault_env: dict[str, str],
) -> tuple[str, str]:
    """v1 with the template's environment behind `alias`, then v2 with the fault switch on top."""
    lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler=code.handler,
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},  # an empty zip: the code runs in-process
        Environment={"Variables": env},
        Timeout=timeout,
        Tags={str(k): str(v) for k, v in (code.properties.get("Tags") or {}).items()},
    )
    old = str(lam.publish_version(FunctionName=name)["Version"])
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=old)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {**env, **fault_env}})
    return old, str(lam.publish_version(FunctionName=name)["Version"])


def _store_alarms(cloudwatch: Any, dep: FunctionDeployment, mapping: dict[str, str]) -> list[AlarmModel]:
    """The gate alarms, as the template defines them, stored in moto and modelled for evaluation."""
    alarms = []
    for spec in dep.alarms:
        if not spec.known:
            raise UserError(f"gate alarm {spec.reference} is not defined in the template")
        arguments = alarm_arguments(spec.props, mapping)
        cloudwatch.put_metric_alarm(**arguments)
        alarms.append(AlarmModel(arguments["AlarmName"], arguments))
    return alarms


def _api_routes(code: FunctionCode) -> list[str]:
    """`METHOD /path` of the function's Api events: the API in front of the alias."""
    return [
        f"{str(e['Properties']['Method']).upper()} {e['Properties']['Path']}"
        for e in (code.properties.get("Events") or {}).values()
        if e.get("Type") == "Api"
    ]


def _deployment_group(
    codedeploy: Any, app: str, group: str, role: str, config_name: str, alarms: list[str]
) -> None:
    """The CodeDeploy records SAM would create, in moto: application and deployment group."""
    codedeploy.create_application(applicationName=app, computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName=app,
        deploymentGroupName=group,
        serviceRoleArn=role,
        deploymentConfigName=config_name,
        alarmConfiguration={"enabled": True, "alarms": [{"name": a} for a in alarms]},
        autoRollbackConfiguration={
            "enabled": True,
            "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"],
        },
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
    )


def _hooks(
    dep: FunctionDeployment, mapping: dict[str, str]
) -> tuple[HookRun | None, HookRun | None, HookRun | None]:
    """Pre- and post-traffic hooks and the step judge that sits beside the pre-traffic hook."""
    runs = [
        hook_run(ref.scope, ref.logical_id, mapping) if ref and ref.scope and ref.logical_id else None
        for ref in (dep.pre_hook, dep.post_hook)
    ]
    judge = None
    pre = dep.pre_hook
    # Only when the template creates it (its Condition, e.g. the hooks' EnableStepJudge switch).
    if (
        pre
        and pre.scope
        and "StepJudgeFunction" in pre.scope.resources
        and pre.scope.active("StepJudgeFunction")
    ):
        judge = hook_run(pre.scope, "StepJudgeFunction", mapping)
    return runs[0], runs[1], judge


def rehearse(
    options: RehearsalOptions, on_event: Callable[[TimelineEvent], None] = lambda e: None
) -> dict[str, Any]:
    dep, config = _deployment(options)
    scope = dep.scope
    functions = [k for k, r in scope.sam_resources.items() if r.get("Type") == "AWS::Serverless::Function"]
    physical = {k: f"{STACK}-{k}" for k in functions}
    # CloudFormation's name for the group, <stack>-<logical id>-<suffix>: roles are scoped by it
    app, group = f"{STACK}-app", f"{STACK}-{options.function}DeploymentGroup-REHEARSAL"
    mapping = {
        **physical,
        "stack": STACK,
        "ServerlessDeploymentApplication": app,
        f"{options.function}.Version": "2",
    }

    random.seed(options.seed)  # the function's fault switch draws from the module-level generator
    with world(options.seed) as env_world:
        lam, cw, cd, iam = (env_world.client(s) for s in ("lambda", "cloudwatch", "codedeploy", "iam"))
        role = iam.create_role(RoleName="rehearsal", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

        # the function: v1 healthy, v2 with the fault switch; `live` on v1
        code = function_code(scope, options.function)
        env = function_env(scope, options.function, mapping)
        module, entry = load_handler(code, env)
        name = physical[options.function]
        env_world.runtime.register(name, entry)
        alias = dep.alias or "live"
        old, new = _publish_versions(
            lam,
            role,
            name,
            code,
            env,
            function_timeout(scope, options.function),
            alias,
            {
                "FAULT_MODE": options.fault,
                "FAULT_RATE": f"{options.fault_rate:g}",
                "FAULT_SLOW_MS": FAULT_SLOW_MS,
            },
        )
        mapping[f"{options.function}.Version"] = new

        alarms = _store_alarms(cw, dep, mapping)
        routes = {route: f"{name}:{alias}" for route in _api_routes(code)}
        pre, post, judge_run = _hooks(dep, mapping)
        judge_run = judge_run if options.step_judge else None
        quiet_loggers()
        _deployment_group(cd, app, group, role, config.codedeploy_name, [a.name for a in alarms])
        account = _account(env_world, scope, dep, mapping)  # the function's template is the root
        engine = Engine(
            cloud=MotoCloud(env_world),
            function=name,
            alias=alias,
            old_version=old,
            new_version=new,
            config=config,
            alarms=alarms,
            pre_hook=pre,
            post_hook=post,
            step_judge=judge_run,
            function_module=module,
            speed=options.speed,
            rps=options.rps,
            rng=random.Random(options.seed),
            on_event=on_event,
            traffic=traffic_cases(dep, code),
            authorizer=account,
        )
        report = _run(env_world, engine, dep, post, app, group, routes, account)
    return {
        **engine.summary(),
        "fault": options.fault,
        "fault_rate": options.fault_rate,
        "speed": options.speed,
        "rps": options.rps,
        **report,
        "events": [e.__dict__ for e in engine.events],
        # every (principal, action, resource) the deployment called for, as IAM decided it
        "authorization": [
            {
                "principal": d.principal,
                "action": d.action,
                "resource": d.resource,
                "decision": d.decision.value,
            }
            for d in account.log
        ],
    }


def _account(env_world: World, root: Any, dep: FunctionDeployment, mapping: dict[str, str]) -> Account:
    """The rehearsal's IAM: each function's role and the deployment group's service role, as the
    translated templates define them (safedeploy.iam.enforce)."""

    def group_of(deployment_id: str) -> tuple[str, str] | None:
        found = env_world.backend("codedeploy").deployments.get(deployment_id)
        return (found.application_name, found.deployment_group_name) if found else None

    return Account(rehearsal_principals(root, dep, mapping, lambda logical: f"{STACK}-{logical}"), group_of)


def _function_breaker(module: Any) -> Any:
    """The `breaker` module loaded from the function's own code directory, when the handler uses it."""
    loaded = sys.modules.get("breaker")
    here = Path(getattr(module, "__file__", "") or "").resolve().parent
    if loaded is None or Path(getattr(loaded, "__file__", "") or "").resolve().parent != here:
        return None
    return loaded


def _run(
    env_world: World,
    engine: Engine,
    dep: FunctionDeployment,
    post: HookRun | None,
    app: str,
    group: str,
    routes: dict[str, str],
    account: Account,
    create_deployment: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """The hooks' real clients pointed at the world (with the CodeDeploy and CloudWatch calls moto
    lacks answered by the engine), the API served on loopback, then the deployment itself (created
    by `create_deployment` when given: a command under test that creates its own)."""
    assert dep.pre_hook is not None
    support = hook_support(dep.pre_hook)
    cd, lam, ssm = env_world.client("codedeploy"), env_world.client("lambda"), env_world.client("ssm")
    # the hooks' clients, each call authorized for the hook (or step judge) that makes it
    guard = account.guard
    cd_hooks = guard(overlay(env_world.client("codedeploy"), engine.codedeploy_operations()))
    cw_hooks = guard(overlay(env_world.client("cloudwatch"), engine.cloudwatch_operations()))
    lam_hooks = guard(env_world.client("lambda"))
    support.use_clients(
        {
            "codedeploy": cd_hooks,
            "lambda": lam_hooks,
            "lambda-invoke": lam_hooks,
            "cloudwatch": cw_hooks,
            "ssm": guard(env_world.client("ssm")),
            "sns": guard(env_world.client("sns")),
        }
    )
    support.use_sleep(engine.pause)
    support.use_clock(engine.now)
    env_world.runtime.environments = engine.environments
    # the function's in-band breaker, if it has one: its own CodeDeploy client, on the world too
    breaker = _function_breaker(engine.function_module)
    if breaker is not None:
        breaker.reset(
            lambda: account.guard(
                overlay(env_world.client("codedeploy"), engine.codedeploy_operations("in-band breaker")),
                engine.function,
            )
        )
    api_param = (post.env if post else {}).get("API_URL_PARAMETER")

    def create() -> str:
        return str(
            cd.create_deployment(
                applicationName=app,
                deploymentGroupName=group,
                revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": engine.appspec()}},
            )["deploymentId"]
        )

    try:
        with serve_api(lam, routes) as api_url:
            if api_param:
                ssm.put_parameter(Name=api_param, Value=api_url, Type="String")
            started = time.monotonic()
            engine.run(create_deployment or create)
            wall = time.monotonic() - started
    finally:
        support.use_clients(None)
        support.use_sleep(None)
        support.use_clock(None)
        if breaker is not None:
            breaker.reset()
    cloud = MotoCloud(env_world)
    return {
        "wall_s": round(wall, 2),
        "cloudwatch_invocations_new_version": cloud.invocations_stored(
            engine.function, engine.alias, engine.new_version
        ),
    }
