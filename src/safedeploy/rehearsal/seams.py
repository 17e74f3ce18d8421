"""Every place where the rehearsal reaches into real code to run it offline, in one module:
- the hooks' Lambda-side plumbing (hook_support): their clients on the fake account, with the CodeDeploy
  and CloudWatch operations moto lacks answered by the engine; their sleep and clock on the simulated one;
- the fake account's server: CodeDeploy calls that the functions themselves make over HTTP (an in-band
  breaker's GetApplicationRevision and StopDeployment) answered by the engine too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from safedeploy.offline.engine import Engine
from safedeploy.offline.service_overlay import ServiceError, overlay
from safedeploy.rehearsal.world import World

FUNCTION_CALLER = "in-band breaker"  # a function that stops its own deployment is one, by definition


@contextlib.contextmanager
def hooks_on_the_world(
    support: ModuleType, world: World, engine: Engine, guard: Callable[[Any], Any] = lambda client: client
) -> Iterator[None]:
    """`guard` refuses what the acting hook's role does not allow (safedeploy.iam.enforce)."""
    lam = guard(world.client("lambda"))
    support.use_clients(
        {
            "codedeploy": guard(overlay(world.client("codedeploy"), engine.codedeploy_operations())),
            "lambda": lam,
            "lambda-invoke": lam,
            "cloudwatch": guard(overlay(world.client("cloudwatch"), engine.cloudwatch_operations())),
            "ssm": guard(world.client("ssm")),
            "sns": guard(world.client("sns")),
        }
    )
    support.use_sleep(engine.pause)
    support.use_clock(engine.now)
    try:
        yield
    finally:
        support.use_clients(None)
        support.use_sleep(None)
        support.use_clock(None)


def _signed_by(response: Any) -> str:
    """The access key a request to the fake account was signed with (SigV4's Credential=KEY/...)."""
    authorization = str(response.headers.get("Authorization") or "")
    return authorization.partition("Credential=")[2].partition("/")[0]


@contextlib.contextmanager
def functions_codedeploy(
    engine: Engine,
    require: Callable[[str, str, str, dict[str, Any]], None] | None = None,
    principal: str = "",
) -> Iterator[None]:
    """The server's CodeDeploy answers GetApplicationRevision and StopDeployment from the engine; every
    CodeDeploy call the rehearsed function makes (an in-band breaker's) is first decided by its role:
    `require(principal, ...)` raises AccessDenied, answered as AWS would."""
    from moto.codedeploy.exceptions import CodeDeployException
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    from safedeploy.iam.enforce import AccessDenied
    from safedeploy.rehearsal.isolation import FUNCTION_KEY

    operations = engine.codedeploy_operations(FUNCTION_CALLER)

    def authorize(response: Any, operation: str, params: dict[str, Any]) -> None:
        if require is None or _signed_by(response) != FUNCTION_KEY:
            return  # the hooks' clients are guarded in this process (hooks_on_the_world)
        try:
            require(principal, "codedeploy", operation, params)
        except AccessDenied as exc:
            raise CodeDeployException("AccessDeniedException", str(exc)) from exc

    def answer(name: str) -> Any:
        def method(response: Any) -> Any:
            params = json.loads(response.body or "{}")
            authorize(response, name, params)
            try:
                return ActionResult(operations[name](params))
            except ServiceError as exc:
                raise CodeDeployException(exc.code, exc.message) from exc

        return method

    def guarded(name: str, original: Any) -> Any:
        def method(response: Any) -> Any:
            authorize(response, name, json.loads(response.body or "{}"))
            return original(response)

        return method

    added = {"get_application_revision": "GetApplicationRevision", "stop_deployment": "StopDeployment"}
    read = {
        "list_deployment_groups": "ListDeploymentGroups",
        "list_deployments": "ListDeployments",
        "get_deployment": "GetDeployment",
    }
    saved = {name: CodeDeployResponse.__dict__.get(name) for name in (*added, *read)}
    for name, operation in added.items():
        setattr(CodeDeployResponse, name, answer(operation))
    for name, operation in read.items():
        setattr(CodeDeployResponse, name, guarded(operation, saved[name]))
    try:
        yield
    finally:
        for name, original in saved.items():
            if original is None:
                delattr(CodeDeployResponse, name)
            else:
                setattr(CodeDeployResponse, name, original)


ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"


@contextlib.contextmanager
def lambda_account_settings() -> Iterator[None]:
    """Lambda's GetAccountSettings, which moto lacks (the Node.js developer guide's sample app calls it):
    the default limits of a new account ("Lambda quotas") and what the fake account holds. Added before
    the server serves its first Lambda request (moto builds a service's routes then)."""
    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse

    def get_account_settings(response: Any) -> Any:
        functions = list(response.backend.list_functions())
        body = {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": 1000,
                "UnreservedConcurrentExecutions": 1000,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)},
        }
        return 200, {}, json.dumps(body)

    urls.url_paths[ACCOUNT_SETTINGS_PATH] = LambdaResponse.dispatch
    LambdaResponse.get_account_settings = get_account_settings  # type: ignore[attr-defined]
    try:
        yield
    finally:
        urls.url_paths.pop(ACCOUNT_SETTINGS_PATH, None)
        del LambdaResponse.get_account_settings  # type: ignore[attr-defined]
