"""Scheduled every minute: while deployments of this stack shift, look every few seconds; stop a bad one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from hook_support import clients, load_config, logger, now, pause
from safedeploy_core.config import HookConfig
from safedeploy_core.errors import ConfigError
from safedeploy_core.notify import publish
from safedeploy_core.sequential import SequentialPolicy
from safedeploy_core.step_gate import run_step_gate_loop


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = load_config()
    application = config.deployment_application if isinstance(config, HookConfig) else None
    if isinstance(config, ConfigError) or application is None:
        error = str(config) if isinstance(config, ConfigError) else "DEPLOYMENT_APPLICATION is empty"
        logger.error("step judge misconfigured", extra={"error": error})
        return {"actions": [], "error": error}
    cl = clients()
    actions, looks = run_step_gate_loop(
        cl.codedeploy,
        cl.cloudwatch,
        application,
        config.allowed_functions,
        SequentialPolicy(alpha=config.judge_policy.alpha),
        remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
        clock=now,
        sleep=pause,
        emf=config.emf,
        look_s=config.step_look_s,
    )
    for action in actions:
        if action.action == "error":
            logger.error(f"{action.deployment_id}: not judged", extra={"error": action.detail})
            continue
        logger.info(
            f"{action.function_name} {action.deployment_id}: {action.verdict.verdict} -> {action.action}",
            extra={"verdict": action.verdict.as_dict()},
        )
        if action.action == "stopped":
            publish(
                cl.sns,
                config.notification_topic_arn,
                f"Deployment {action.deployment_id} stopped by the canary judge",
                action.verdict.markdown(),
            )
    return {
        "looks": looks,
        "actions": [
            {"deployment": a.deployment_id, "verdict": a.verdict.verdict, "action": a.action}
            | ({"error": a.detail} if a.detail else {})
            for a in actions
        ],
    }
