"""AfterAllowTraffic hook: end-to-end through the API, gate alarms, and the canary-vs-baseline judge."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from hook_support import function_cases, handle, logger, now, pause
from safedeploy_core.alarm_checks import check_gate_alarms
from safedeploy_core.clients import Clients
from safedeploy_core.codedeploy import Deployment
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import Deadline
from safedeploy_core.errors import ConfigError
from safedeploy_core.http_checks import make_session, run_http_cases
from safedeploy_core.invoke_checks import run_invoke_cases
from safedeploy_core.judge_check import judge_when_visible, verdict_check
from safedeploy_core.notify import Notice
from safedeploy_core.runner import CheckRun, Checks


def post_traffic_checks(cl: Clients, config: HookConfig, session_factory: Any = make_session) -> Checks:
    def checks(deployment: Deployment, deadline: Deadline) -> CheckRun:
        target = deployment.target
        results = check_gate_alarms(cl.codedeploy, cl.cloudwatch, deployment)
        cases = function_cases(cl, config, target.function_name)
        http_cases = [c for c in cases if c.http_capable]
        if http_cases:
            if not config.api_url_parameter:
                raise ConfigError("the function has HTTP smoke cases but API_URL_PARAMETER is not set")
            # Read at run time: a template reference to the API would close Alias -> hook -> API -> Alias.
            url = cl.ssm.get_parameter(Name=config.api_url_parameter)["Parameter"]["Value"]
            results += run_http_cases(session_factory(), url, http_cases, deadline)
        else:
            # No API: end-to-end is the alias itself, which must now answer from the new version.
            results += run_invoke_cases(
                cl.lambda_invoke,
                target.function_name,
                target.alias,
                cases,
                deadline,
                config.max_workers,
                expected_version=target.target_version,
            )
        notices = []
        if config.judge_enabled:
            policy, wait_s = config.judge_policy, config.judge_wait_s
            verdict = judge_when_visible(
                cl.cloudwatch, deployment, policy, deadline, wait_s, config.emf, pause, now
            )
            report = verdict.markdown()
            logger.info(report, extra={"verdict": verdict.as_dict()})
            subject = f"Canary {verdict.verdict}: {target.function_name} v{target.target_version}"
            notices.append(Notice(subject, report))
            results.append(verdict_check(verdict, config.undecided_verdict))
        return CheckRun(results, notices)

    return checks


@logger.inject_lambda_context
@event_source(data_class=CodeDeployLifecycleHookEvent)
def lambda_handler(event: CodeDeployLifecycleHookEvent, context: LambdaContext) -> dict[str, Any]:
    return handle("AfterAllowTraffic", event, context, post_traffic_checks)
