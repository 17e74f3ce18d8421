"""`safedeploy rehearse`: a whole gradual deployment of the template, offline and in-process.

The template is translated and read for the function, its hooks, deployment type and gate alarms;
moto (a server on loopback, started and stopped here) holds functions, versions, alias, alarms,
metrics, the SSM URL parameter, the CodeDeploy records and the rest of the user's stack (stack.py); the
rehearsed function runs in its own process with its own dependencies (runtimes.py), the kit's hooks
in-process (seams.py); offline.engine plays CodeDeploy.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedeploy_core.timing import DeploymentConfig, deployment_config, too_long_to_rehearse

from safedeploy.errors import UserError
from safedeploy.iam.enforce import Account, rehearsal_principals
from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.api_gateway import serve_api
from safedeploy.offline.engine import Engine, HookRun, TimelineEvent
from safedeploy.rehearsal.faults import FaultPlan
from safedeploy.rehearsal.functions import (
    STACK,
    FunctionCode,
    case_folder,
    function_code,
    function_spec,
    hook_run,
    hook_support,
    traffic_cases,
)
from safedeploy.rehearsal.isolation import scrubbed_process_environment
from safedeploy.rehearsal.options import RehearsalOptions
from safedeploy.rehearsal.placeholders import alarm_arguments
from safedeploy.rehearsal.report import verdict
from safedeploy.rehearsal.runtimes import FunctionSpec, RehearsedFunction, start_process
from safedeploy.rehearsal.seams import functions_codedeploy, hooks_on_the_world, lambda_account_settings
from safedeploy.rehearsal.stack import REGION, StackResources, create_stack_resources
from safedeploy.rehearsal.world import MotoCloud, World, quiet_loggers, world
from safedeploy.template.deployments import FunctionDeployment, deployments
from safedeploy.template.loader import load_template
from safedeploy.template.scope import build_scope


def _deployment(options: RehearsalOptions) -> tuple[FunctionDeployment, DeploymentConfig]:
    sam = load_template(options.template)
    declared = sam.get("Parameters", {})
    overrides = (
        {"DeploymentType": options.type_name} if options.type_name and "DeploymentType" in declared else {}
    )
    scope = build_scope(options.template, overrides, sam=sam)
    every = deployments(scope)
    protected = sorted({d.logical_id for d in every if d.scope is scope})
    function = options.function
    if function is None:
        if not protected:
            raise UserError(f"{options.template} has no function with a DeploymentPreference to rehearse")
        if len(protected) > 1:
            raise UserError(
                f"{options.template} has {len(protected)} functions with a DeploymentPreference "
                f"({', '.join(protected)}): pick one with --function"
            )
        function = protected[0]
    found = [d for d in every if d.logical_id == function]
    if len(found) > 1:  # a rehearsal plays one deployment: it does not pick a scenario for the user
        open_conditions = ", ".join(name for name, _ in found[0].scenario)
        raise UserError(
            f"the deployment of {function} depends on condition(s) {open_conditions} that the "
            "template's parameter defaults leave open: give those parameters defaults to rehearse it"
        )
    dep = found[0] if found else None
    if dep is None:
        raise UserError(
            f"{options.template} has no function {function!r} with a DeploymentPreference"
            + (f" (it has {', '.join(protected)})" if protected else "")
        )
    config = deployment_config(options.type_name) if options.type_name else dep.config
    if config is None:
        raise UserError(f"deployment type {dep.type_name!r} is not a predefined CodeDeploy config")
    too_long = too_long_to_rehearse(config)
    if too_long:
        raise UserError(too_long)
    return dep, config


def _publish_versions(
    lam: Any, role: str, name: str, code: FunctionCode, runtime: str, timeout: float, alias: str
) -> tuple[str, str]:
    """v1 behind `alias`, then v2: the same code (the rehearsal's faults make v2 differ)."""
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role,
        Handler=code.handler,
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},  # an empty zip: the runner runs the code
        Timeout=int(timeout),
        Tags={str(k): str(v) for k, v in (code.properties.get("Tags") or {}).items()},
    )
    old = str(lam.publish_version(FunctionName=name)["Version"])
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=old)
    lam.update_function_configuration(FunctionName=name, Description="the release being rehearsed")
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


def _api_routes(code: FunctionCode) -> dict[str, str]:
    """`METHOD /path` of the function's Api and HttpApi events (the API in front of the alias), each
    with its payload format: REST APIs send 1.0, HTTP APIs 2.0 unless PayloadFormatVersion says 1.0."""
    routes: dict[str, str] = {}
    for event in (code.properties.get("Events") or {}).values():
        kind, props = event.get("Type"), event.get("Properties") or {}
        if kind == "Api":
            routes[f"{str(props['Method']).upper()} {props['Path']}"] = "1.0"
        elif kind == "HttpApi":
            fmt = str(props.get("PayloadFormatVersion") or "2.0")
            if "Path" not in props:
                routes["$default"] = fmt
            else:
                routes[f"{str(props.get('Method', 'ANY')).upper()} {props['Path']}"] = fmt
    return routes


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
    _, cases = case_folder(dep, function_code(dep.scope, dep.logical_id))
    runs = [
        hook_run(ref.scope, ref.logical_id, mapping, cases) if ref and ref.scope and ref.logical_id else None
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
        judge = hook_run(pre.scope, "StepJudgeFunction", mapping, cases)
    return runs[0], runs[1], judge


REHEARSE_EXTRA = "pip install 'safedeploy[rehearse]'"


def _require_the_extra() -> None:
    """moto (and its server) come with the `rehearse` extra, not with the base package."""
    try:
        import aws_lambda_powertools  # noqa: F401 - the kit's hooks run in this process
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise UserError(f"rehearse needs the 'rehearse' extra: {REHEARSE_EXTRA} ({exc})") from exc


@dataclass
class Rehearsal:
    """The fake account set up for one deployment of the template, before it runs: the world and the
    names in it, the engine that plays CodeDeploy, the IAM account that guards the calls."""

    world: World
    engine: Engine
    dep: FunctionDeployment
    function: str  # physical name
    alias: str
    application: str
    group: str
    from_version: str  # `live` before the deployment
    target_version: str  # the version deployed, the one that carries the fault
    pre_hook: HookRun | None
    post_hook: HookRun | None
    routes: dict[str, str]
    account: Account
    spec: FunctionSpec
    stack: StackResources
    rehearsed: RehearsedFunction

    @property
    def hooks(self) -> dict[str, str]:
        """The lifecycle hooks of the deployment's AppSpec, by their functions' physical names."""
        return {
            event: hook.name
            for event, hook in (("BeforeAllowTraffic", self.pre_hook), ("AfterAllowTraffic", self.post_hook))
            if hook
        }

    def run(self, create_deployment: Callable[[], str] | None = None) -> dict[str, Any]:
        """The deployment, created by `create_deployment` when given (a command under test that
        creates its own) or from the engine's AppSpec."""
        return _run(
            self.world,
            self.engine,
            self.dep,
            self.post_hook,
            self.application,
            self.group,
            self.routes,
            f"{self.function}:{self.alias}",
            self.account,
            create_deployment,
        )


@contextlib.contextmanager
def rehearsal(
    options: RehearsalOptions,
    on_event: Callable[[TimelineEvent], None] = lambda e: None,
    *,
    rollback: bool = False,
) -> Iterator[Rehearsal]:
    """The fake account with v1 and v2 of the function published. A release: `live` on v1, v2 deployed
    with `options.fault`. `rollback`: `live` on v2, the deployment goes back to v1, which then carries
    the fault."""
    _require_the_extra()
    dep, config = _deployment(options)
    scope = dep.scope
    target = dep.logical_id
    functions = [k for k, r in scope.sam_resources.items() if r.get("Type") == "AWS::Serverless::Function"]
    physical = {k: f"{STACK}-{k}" for k in functions}
    # CloudFormation's name for the group, <stack>-<logical id>-<suffix>: roles are scoped by it
    app, group = f"{STACK}-app", f"{STACK}-{target}DeploymentGroup-REHEARSAL"
    mapping = {
        **physical,
        "stack": STACK,
        "ServerlessDeploymentApplication": app,
        f"{target}.Version": "2",
    }
    home = Path(tempfile.mkdtemp(prefix="rehearsal-home-"))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, home, ignore_errors=True)
        cleanup.enter_context(lambda_account_settings())
        env_world = cleanup.enter_context(world(options.seed))
        lam, cw, cd, iam = (env_world.client(s) for s in ("lambda", "cloudwatch", "codedeploy", "iam"))
        role = iam.create_role(RoleName="rehearsal", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        stack = create_stack_resources(scope, env_world.client, STACK, mapping)
        mapping.update(stack.mapping)

        # the function: v1 and v2 of its code, run by its runtime's runner; `live` on v1 (a rollback: v2)
        code = function_code(scope, target)
        name = physical[target]
        spec = function_spec(scope, target, name, mapping)
        alias = dep.alias or "live"
        old, new = _publish_versions(lam, role, name, code, spec.runtime, spec.timeout_s, alias)
        if rollback:
            lam.update_alias(FunctionName=name, Name=alias, FunctionVersion=new)
            old, new = new, old
        process, temporary = start_process(spec, env_world.endpoint, REGION, home)
        cleanup.callback(process.close)
        # from here on the template's hooks are imported and run, in this process
        cleanup.enter_context(scrubbed_process_environment(env_world.endpoint, REGION, home))
        if temporary is not None:
            cleanup.callback(shutil.rmtree, temporary, ignore_errors=True)
        rehearsed = RehearsedFunction(
            spec, process, FaultPlan(options.fault, options.fault_rate, new, options.seed)
        )
        env_world.runtime.register(name, rehearsed)
        mapping[f"{target}.Version"] = new  # the gate alarms watch the version being deployed

        alarms = _store_alarms(cw, dep, mapping)
        routes = _api_routes(code)
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
            function_module=rehearsed,  # its `time` is where a slow fault sleeps
            speed=options.speed,
            rps=options.rps,
            rng=random.Random(options.seed),
            on_event=on_event,
            traffic=traffic_cases(dep, code),
            authorizer=account,
        )
        yield Rehearsal(
            env_world,
            engine,
            dep,
            name,
            alias,
            app,
            group,
            old,
            new,
            pre,
            post,
            routes,
            account,
            spec,
            stack,
            rehearsed,
        )


def rehearse(
    options: RehearsalOptions, on_event: Callable[[TimelineEvent], None] = lambda e: None
) -> dict[str, Any]:
    with rehearsal(options, on_event) as prepared:
        report = prepared.run()
    engine, rehearsed, stack = prepared.engine, prepared.rehearsed, prepared.stack
    summary = engine.summary()
    return {
        **summary,
        **verdict(str(summary["status"]), options.fault).as_dict(),
        "fault": options.fault,
        "fault_rate": options.fault_rate,
        "speed": options.speed,
        "rps": options.rps,
        "runtime": prepared.spec.runtime,
        "stack_resources": stack.created,
        "notes": stack.skipped,
        "refused_calls": [
            {"function": r.function, "service": r.service, "host": r.host, "message": r.message()}
            for r in rehearsed.refusals
        ],
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
            for d in prepared.account.log
        ],
    }


def _account(env_world: World, root: Any, dep: FunctionDeployment, mapping: dict[str, str]) -> Account:
    """The rehearsal's IAM: each function's role and the deployment group's service role, as the
    translated templates define them (safedeploy.iam.enforce)."""

    def group_of(deployment_id: str) -> tuple[str, str] | None:
        found = env_world.backend("codedeploy").deployments.get(deployment_id)
        return (found.application_name, found.deployment_group_name) if found else None

    return Account(rehearsal_principals(root, dep, mapping, lambda logical: f"{STACK}-{logical}"), group_of)


def _run(
    env_world: World,
    engine: Engine,
    dep: FunctionDeployment,
    post: HookRun | None,
    app: str,
    group: str,
    routes: dict[str, str],
    target: str,
    account: Account,
    create_deployment: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """The hooks' real clients pointed at the world (with the CodeDeploy and CloudWatch calls moto
    lacks answered by the engine), each call authorized for the hook that makes it, the API served on
    loopback, then the deployment itself (created by `create_deployment` when given: a command under
    test that creates its own)."""
    assert dep.pre_hook is not None
    support = hook_support(dep.pre_hook)
    cd, lam, ssm = env_world.client("codedeploy"), env_world.client("lambda"), env_world.client("ssm")
    env_world.runtime.environments = engine.environments
    api_param = (post.env if post else {}).get("API_URL_PARAMETER")

    def create() -> str:
        return str(
            cd.create_deployment(
                applicationName=app,
                deploymentGroupName=group,
                revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": engine.appspec()}},
            )["deploymentId"]
        )

    with (
        hooks_on_the_world(support, env_world, engine, account.guard),
        functions_codedeploy(engine, account.require, engine.function),
        serve_api(lam, dict.fromkeys(routes, target), formats=routes) as api_url,
    ):
        if api_param:
            ssm.put_parameter(Name=api_param, Value=api_url, Type="String", Overwrite=True)
        started = time.monotonic()
        engine.run(create_deployment or create)
        wall = time.monotonic() - started
    cloud = MotoCloud(env_world)
    return {
        "wall_s": round(wall, 2),
        "cloudwatch_invocations_new_version": cloud.invocations_stored(
            engine.function, engine.alias, engine.new_version
        ),
    }
