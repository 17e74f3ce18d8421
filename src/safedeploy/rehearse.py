"""`safedeploy rehearse`: a whole gradual deployment of the template, offline and in-process.

The template is translated and read for the function, its hooks, deployment type and gate alarms;
moto (a server on loopback, started and stopped here) holds functions, versions, alias, alarms,
metrics, the SSM URL parameter and the CodeDeploy records; the real function and hook code runs
in-process (safedeploy.offline.inprocess_lambda); offline.engine plays CodeDeploy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from safedeploy_core.case_source import SMOKE_TAG, read_case_document
from safedeploy_core.errors import SmokeCaseError
from safedeploy_core.smoke import SmokeCase, load_cases
from safedeploy_core.timing import deployment_config

from safedeploy.errors import UserError
from safedeploy.model import Scope, build_scope, deployments, hook_logical_id
from safedeploy.offline.alarm_eval import AlarmModel
from safedeploy.offline.api_gateway import serve_api
from safedeploy.offline.engine import Engine, HookRun, TimelineEvent
from safedeploy.offline.inprocess_lambda import InProcessLambda
from safedeploy.offline.service_overlay import overlay
from safedeploy.templates import load_template

REGION = "us-east-1"
STACK = "rehearsal"
FAULT_SLOW_MS = "2000"  # above the smoke cases' 1500 ms budget, short enough for a quick demo
_TOKEN = re.compile(r"<([A-Za-z0-9_.:]+)>")


def concretize(value: Any, mapping: dict[str, str]) -> Any:
    """Replace placeholders such as <HelloWorldFunction> with the rehearsal's physical values."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: mapping.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [concretize(v, mapping) for v in value if v is not None]
    if isinstance(value, dict):
        return {k: concretize(v, mapping) for k, v in value.items() if v is not None}
    return value


def _number(value: Any) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


ALARM_NUMBERS = {"Threshold", "EvaluationPeriods", "DatapointsToAlarm", "Period"}
ALARM_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "ComparisonOperator",
    "Threshold",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "TreatMissingData",
    "Metrics",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "Unit",
}


def alarm_arguments(props: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """put_metric_alarm arguments from a template's alarm properties (actions left out offline)."""
    args = {k: v for k, v in concretize(props, mapping).items() if k in ALARM_KEYS}
    for key in ALARM_NUMBERS & set(args):
        args[key] = _number(args[key])
    if "Threshold" in args:
        args["Threshold"] = float(args["Threshold"])
    for metric in args.get("Metrics", []):
        if "MetricStat" in metric:
            metric["MetricStat"]["Period"] = int(_number(metric["MetricStat"]["Period"]))
    return args


def load_handler(code_dir: Path, handler: str) -> tuple[Any, Any]:
    module_name, _, function = handler.rpartition(".")
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    module = importlib.import_module(module_name)
    if Path(getattr(module, "__file__", "") or "").resolve().parent != code_dir.resolve():
        raise UserError(f"module {module_name!r} of {code_dir} clashes with another module of that name")
    return module, getattr(module, function)


def _sam_function(scope: Scope, logical: str) -> tuple[Path, str, dict[str, Any]]:
    props = scope.sam["Resources"][logical].get("Properties", {})
    globals_fn = scope.sam.get("Globals", {}).get("Function", {})
    code_uri = props.get("CodeUri", globals_fn.get("CodeUri"))
    handler = props.get("Handler", globals_fn.get("Handler"))
    if not isinstance(code_uri, str) or not isinstance(handler, str):
        raise UserError(f"{logical} needs a local CodeUri and a Handler to be rehearsed")
    return (scope.path.parent / code_uri).resolve(), handler, props


def _env(scope: Scope, logical: str, mapping: dict[str, str]) -> dict[str, str]:
    variables = scope.resources[logical].get("Properties", {}).get("Environment", {}).get("Variables", {})
    return {k: str(v) for k, v in concretize(scope.resolve(variables), mapping).items()}


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import requests

    # moto's backends live in this process: start every rehearsal from an empty AWS
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    try:
        yield endpoint
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()


def _quiet_loggers() -> None:
    """Powertools loggers write JSON to stdout; the rehearsal shows its own timeline instead."""
    sink = io.StringIO()
    for logger in [
        logging.getLogger(),
        *[v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)],
    ]:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.stderr):
                handler.setStream(sink)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def rehearse(
    template: Path,
    function_logical: str,
    fault: str,
    fault_rate: float,
    type_name: str | None,
    speed: float,
    rps: float,
    seed: int,
    on_event: Any = lambda e: None,
) -> dict[str, Any]:
    import boto3
    from moto.backends import get_backend

    declared = load_template(template).get("Parameters", {})
    scope = build_scope(
        template, {"DeploymentType": type_name} if type_name and "DeploymentType" in declared else {}
    )
    dep = next((d for d in deployments(scope) if d.logical_id == function_logical), None)
    if dep is None:
        raise UserError(f"{template} has no function {function_logical!r} with a DeploymentPreference")
    config = deployment_config(type_name) if type_name else dep.config
    if config is None:
        raise UserError(f"deployment type {dep.type_name!r} is not a predefined CodeDeploy config")
    functions = [k for k, r in scope.sam["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"]
    physical = {k: f"{STACK}-{k}" for k in functions}
    app, group = f"{STACK}-app", f"{STACK}-{function_logical}-group"
    mapping = {
        **physical,
        "stack": STACK,
        "ServerlessDeploymentApplication": app,
        f"{function_logical}.Version": "2",
    }

    random.seed(seed)  # the function's fault switch draws from the module-level generator
    runtime = InProcessLambda(random.Random(seed))
    with runtime.installed(), moto_server() as endpoint:
        kwargs = {
            "endpoint_url": endpoint,
            "region_name": REGION,
            "aws_access_key_id": "rehearsal",
            "aws_secret_access_key": "rehearsal",
        }
        factory: Any = boto3.client  # a plain name, not one of boto3-stubs' per-service overloads
        lam, cw, cd, ssm, iam = (
            factory(s, **kwargs) for s in ("lambda", "cloudwatch", "codedeploy", "ssm", "iam")
        )
        role = iam.create_role(RoleName="rehearsal", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

        # the function: v1 healthy, v2 with the fault switch; `live` on v1
        code_dir, handler, sam_props = _sam_function(scope, function_logical)
        env = _env(scope, function_logical, mapping)
        with _quiet_import(env):
            module, entry = load_handler(code_dir, handler)
        name = physical[function_logical]
        runtime.register(name, entry)
        timeout = int(scope.resolve(scope.resources[function_logical]["Properties"].get("Timeout", 3)))
        old, new = _publish_versions(
            lam,
            role,
            name,
            handler,
            env,
            timeout,
            sam_props,
            dep.alias or "live",
            {"FAULT_MODE": fault, "FAULT_RATE": f"{fault_rate:g}", "FAULT_SLOW_MS": FAULT_SLOW_MS},
        )
        mapping[f"{function_logical}.Version"] = new

        alarms = _store_alarms(cw, dep, mapping)
        routes = {route: f"{name}:{dep.alias}" for route in _api_routes(sam_props)}

        # hooks and the step judge, real code with the environment the template gives them
        def hook(ref: Any) -> HookRun | None:
            located = hook_logical_id(dep.scope, ref) if ref else None
            return _hook_run(*located, mapping) if located else None

        pre, post = hook(dep.pre_hook), hook(dep.post_hook)
        judge_run = None
        located_pre = hook_logical_id(dep.scope, dep.pre_hook) if dep.pre_hook else None
        if located_pre and "StepJudgeFunction" in located_pre[0].resources:
            judge_run = _hook_run(located_pre[0], "StepJudgeFunction", mapping)
        _quiet_loggers()

        import hook_support

        cd_hooks = overlay(factory("codedeploy", **kwargs), {})
        cw_hooks = factory("cloudwatch", **kwargs)
        hook_support.use_clients(
            {
                "codedeploy": cd_hooks,
                "lambda": lam,
                "lambda-invoke": lam,
                "cloudwatch": cw_hooks,
                "ssm": ssm,
                "sns": factory("sns", **kwargs),
            }
        )
        _deployment_group(cd, app, group, role, config.codedeploy_name, [a.name for a in alarms])
        engine = Engine(
            runtime=runtime,
            lambda_backend=get_backend("lambda")["123456789012"][REGION],
            lambda_client=lam,
            cloudwatch_client=cw,
            codedeploy_backend=get_backend("codedeploy")["123456789012"][REGION],
            function=name,
            alias=dep.alias or "live",
            old_version=old,
            new_version=new,
            config=config,
            alarms=alarms,
            pre_hook=pre,
            post_hook=post,
            step_judge=judge_run,
            function_module=module,
            speed=speed,
            rps=rps,
            rng=random.Random(seed),
            on_event=on_event,
            traffic=_traffic_cases(dep, sam_props),
        )
        overlay(cd_hooks, engine.codedeploy_operations())
        overlay(cw_hooks, engine.cloudwatch_operations())
        api_param = (post.env if post else {}).get("API_URL_PARAMETER")

        def create() -> str:
            return str(
                cd.create_deployment(
                    applicationName=app,
                    deploymentGroupName=group,
                    revision={
                        "revisionType": "AppSpecContent",
                        "appSpecContent": {"content": engine.appspec()},
                    },
                )["deploymentId"]
            )

        try:
            with serve_api(lam, routes) as api_url:
                if api_param:
                    ssm.put_parameter(Name=api_param, Value=api_url, Type="String")
                started = time.monotonic()
                engine.run(create)
                wall = time.monotonic() - started
                in_cloudwatch = engine.invocations_in_cloudwatch(new)
        finally:
            hook_support.use_clients(None)
    return {
        **engine.summary(),
        "fault": fault,
        "fault_rate": fault_rate,
        "speed": speed,
        "rps": rps,
        "wall_s": round(wall, 2),
        "cloudwatch_invocations_new_version": in_cloudwatch,
        "events": [e.__dict__ for e in engine.events],
    }


@contextlib.contextmanager
def _quiet_import(env: dict[str, str]) -> Iterator[None]:
    """Import a handler module with its Lambda environment (Powertools reads it at import)."""
    from safedeploy.offline.inprocess_lambda import environment

    with environment(env), contextlib.redirect_stdout(io.StringIO()):
        yield


def _publish_versions(
    lam: Any,
    role: str,
    name: str,
    handler: str,
    env: dict[str, str],
    timeout: int,
    sam_props: dict[str, Any],
    alias: str,
    fault_env: dict[str, str],
) -> tuple[str, str]:
    """v1 with the template's environment behind `alias`, then v2 with the fault switch on top."""
    lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler=handler,
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},  # an empty zip: the code runs in-process
        Environment={"Variables": env},
        Timeout=timeout,
        Tags={str(k): str(v) for k, v in (sam_props.get("Tags") or {}).items()},
    )
    old = str(lam.publish_version(FunctionName=name)["Version"])
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=old)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {**env, **fault_env}})
    return old, str(lam.publish_version(FunctionName=name)["Version"])


def _store_alarms(cloudwatch: Any, dep: Any, mapping: dict[str, str]) -> list[AlarmModel]:
    """The gate alarms, as the template defines them, stored in moto and modelled for evaluation."""
    alarms = []
    for spec in dep.alarms:
        if not spec.known:
            raise UserError(f"gate alarm {spec.reference} is not defined in the template")
        arguments = alarm_arguments(spec.props, mapping)
        cloudwatch.put_metric_alarm(**arguments)
        alarms.append(AlarmModel(arguments["AlarmName"], arguments))
    return alarms


def _api_routes(sam_props: dict[str, Any]) -> list[str]:
    """`METHOD /path` of the function's Api events: the API in front of the alias."""
    return [
        f"{str(e['Properties']['Method']).upper()} {e['Properties']['Path']}"
        for e in (sam_props.get("Events") or {}).values()
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


def _traffic_cases(dep: Any, sam_props: dict[str, Any]) -> list[SmokeCase]:
    """Synthetic users replay the function's smoke cases (named by its tag, read where its pre-traffic
    hook reads them), so a faulty answer is judged by the same expectations the hooks use."""
    key = (sam_props.get("Tags") or {}).get(SMOKE_TAG)
    located = hook_logical_id(dep.scope, dep.pre_hook) if dep.pre_hook else None
    if not key or located is None:
        raise UserError(f"{dep.logical_id} needs a pre-traffic hook and a {SMOKE_TAG!r} tag to be rehearsed")
    where, logical = located
    code_dir, _, _ = _sam_function(where, logical)
    location = _env(where, logical, {}).get("SMOKE_CASE_LOCATION", "smoke_cases")
    if location.startswith("s3://"):
        raise UserError("smoke cases in S3 cannot be read offline: point SmokeCaseLocation at a folder")
    try:
        document = read_case_document(location, str(key), base_dir=code_dir)
        return load_cases(document, source=f"smoke cases {key!r}")
    except SmokeCaseError as exc:
        raise UserError(str(exc)) from exc


def _hook_run(scope: Scope, logical: str, mapping: dict[str, str]) -> HookRun:
    """The real handler of a hook (or the step judge) with the environment the template gives it."""
    code_dir, handler, _ = _sam_function(scope, logical)
    env = _env(scope, logical, mapping)
    with _quiet_import(env):
        _, fn = load_handler(code_dir, handler)
    timeout = float(scope.resolve(scope.resources[logical]["Properties"].get("Timeout", 3)))
    return HookRun(f"{STACK}-{logical}", fn, env, timeout)


def expected_outcome(fault: str) -> str:
    return "Succeeded" if fault == "none" else "rolled back"


def rehearse_command(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.speed <= 0 or args.rps <= 0 or not 0 <= args.fault_rate <= 100:
        raise UserError("--speed and --rps must be positive and --fault-rate within 0..100")
    style = {
        "deploy": "bold",
        "hook": "cyan",
        "shift": "blue",
        "alarm": "yellow",
        "judge": "magenta",
        "rollback": "bold red",
        "traffic": "red",
        "done": "bold green",
    }

    def show(event: TimelineEvent) -> None:
        if args.format == "text":
            minutes, seconds = divmod(int(event.t_s), 60)
            console.print(
                f"  [dim]t+{minutes:02d}:{seconds:02d}[/] [{style.get(event.kind, '')}]{event.message}[/]"
            )

    if args.format == "text":
        console.print(
            f"[bold]rehearsal[/] of {args.function} in {args.template}: fault={args.fault} "
            f"rate={args.fault_rate:g} % speed={args.speed:g}x"
        )
    report = rehearse(
        Path(args.template),
        args.function,
        args.fault,
        args.fault_rate,
        args.type,
        args.speed,
        args.rps,
        args.seed,
        show,
    )
    outcome = "Succeeded" if report["status"] == "Succeeded" else "rolled back"
    report["outcome"], report["expected"] = outcome, expected_outcome(args.fault)
    report["as_expected"] = outcome == report["expected"]
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        req = report["requests"]
        console.print(
            f"[bold]outcome:[/] {outcome} (expected: {report['expected']})"
            + (f"; caught by {report['caught_by']}" if report["caught_by"] else "")
        )
        if report["caught_by"] == "pre-traffic hook":
            console.print("  caught before any user traffic: 0 requests reached the bad version")
        elif report["detection_s"] is not None:
            console.print(
                f"  detection: {report['detection_s']:.0f} s (simulated) from the first faulty answer to "
                f"rollback; {req['faulty']} faulty answers out of {req['new_version']} requests on "
                f"v{report['new_version']}"
            )
        console.print(
            f"  {req['total']} requests in {report['simulated_s']:.0f} simulated s, {report['wall_s']} s wall"
        )
    return 0 if report["as_expected"] else 1
