"""BeforeAllowTraffic hook: smoke-test exactly the new version before it gets any traffic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from hook_support import function_cases, handle, logger
from safedeploy_core.clients import Clients
from safedeploy_core.codedeploy import Deployment
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import Deadline
from safedeploy_core.invoke_checks import run_invoke_cases
from safedeploy_core.runner import CheckRun, Checks


def pre_traffic_checks(cl: Clients, config: HookConfig) -> Checks:
    def checks(deployment: Deployment, deadline: Deadline) -> CheckRun:
        target = deployment.target
        cases = function_cases(cl, config, target.function_name)
        return CheckRun(
            run_invoke_cases(
                cl.lambda_invoke,
                target.function_name,
                target.target_version,
                cases,
                deadline,
                config.max_workers,
            )
        )

    return checks


@logger.inject_lambda_context
@event_source(data_class=CodeDeployLifecycleHookEvent)
def lambda_handler(event: CodeDeployLifecycleHookEvent, context: LambdaContext) -> dict[str, Any]:
    return handle("BeforeAllowTraffic", event, context, pre_traffic_checks)
