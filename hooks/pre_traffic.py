"""BeforeAllowTraffic hook: smoke-test exactly the new version before it gets any traffic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from hook_support import clients, finish, load_config, logger
from safedeploy_core.case_source import load_function_cases
from safedeploy_core.clients import Clients
from safedeploy_core.codedeploy import Deployment
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import Deadline
from safedeploy_core.invoke_checks import run_invoke_cases
from safedeploy_core.runner import Checks, run_hook
from safedeploy_core.smoke import CheckResult


def pre_traffic_checks(cl: Clients, config: HookConfig) -> Checks:
    def checks(deployment: Deployment, deadline: Deadline) -> list[CheckResult]:
        target = deployment.target
        s3 = cl.s3 if config.smoke_case_location.startswith("s3://") else None
        cases = load_function_cases(cl.lambda_control, config.smoke_case_location, target.function_name, s3)
        return run_invoke_cases(
            cl.lambda_invoke, target.function_name, target.target_version, cases, deadline, config.max_workers
        )

    return checks


@logger.inject_lambda_context
@event_source(data_class=CodeDeployLifecycleHookEvent)
def lambda_handler(event: CodeDeployLifecycleHookEvent, context: LambdaContext) -> dict[str, Any]:
    config, error = load_config()
    cl = clients()
    margin = config.deadline_margin_s if config else 25.0
    outcome = run_hook(
        "BeforeAllowTraffic",
        event.raw_event,
        codedeploy=cl.codedeploy,
        config=config,
        config_error=error,
        deadline=Deadline.from_context(context, margin),
        checks=pre_traffic_checks(cl, config) if config else lambda d, dl: [],
        on_exception=lambda exc: logger.exception("hook bug"),
    )
    return finish(outcome)
