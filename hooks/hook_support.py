"""Lambda-side plumbing shared by the hook handlers: logger, lazy clients, config, outcome logging."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from safedeploy_core.case_source import load_function_cases
from safedeploy_core.clients import Clients
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import ABANDONED, Deadline, HasRemainingTime, Reserve
from safedeploy_core.errors import ConfigError
from safedeploy_core.notify import publish
from safedeploy_core.runner import CheckRun, Checks, HookOutcome, run_hook
from safedeploy_core.smoke import SmokeCase


def _logger() -> Logger:
    """Powertools' Logger, or one at INFO when LOG_LEVEL / POWERTOOLS_LOGGER_SAMPLE_RATE are invalid:
    the module must import whatever the environment holds, so that the hook can still report (the
    configuration check names the bad value in the Failed reason)."""
    try:
        return Logger()
    except Exception:  # ValueError, InvalidLoggerSamplingRateError
        return Logger(level="INFO", sampling_rate=0.0)


logger = _logger()
DRAIN_RESERVE_S = 2.0  # left for logging and returning once the abandoned work is drained
_clients: Clients | None = None
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], datetime] | None = None


def clients() -> Clients:
    """Built on first use and kept for warm invocations; tests call `use_clients` first."""
    global _clients  # noqa: PLW0603
    if _clients is None:
        _clients = Clients()
    return _clients


def use_clients(overrides: dict[str, Any] | None) -> None:
    global _clients  # noqa: PLW0603
    _clients = None if overrides is None else Clients(overrides=dict(overrides))


def pause(seconds: float) -> None:
    """Wait (for metrics to become visible); a rehearsal makes this cost simulated time instead."""
    _sleep(seconds)


def use_sleep(sleep: Callable[[float], None] | None) -> None:
    global _sleep  # noqa: PLW0603
    _sleep = time.sleep if sleep is None else sleep


def now() -> datetime:
    """The time; a rehearsal makes it its simulated clock."""
    return _clock() if _clock is not None else datetime.now(UTC)


def use_clock(clock: Callable[[], datetime] | None) -> None:
    global _clock  # noqa: PLW0603
    _clock = clock


def load_config() -> HookConfig | ConfigError:
    """The configuration, or the error that makes every invocation report Failed with its reason."""
    try:
        return HookConfig.from_env()
    except ConfigError as exc:
        return exc


class StatusNotReported(RuntimeError):
    """Raised so that Lambda retries the (asynchronous) hook: its status never reached CodeDeploy."""


def finish(outcome: HookOutcome) -> dict[str, Any]:
    logger.append_keys(deployment_id=outcome.deployment_id, function=outcome.function_name)
    for result in outcome.results:
        logger.info("check", extra=result.as_dict())
    log = logger.info if outcome.status == "Succeeded" else logger.error
    log(outcome.summary(), extra={"outcome": outcome.as_log()})
    if not outcome.reported and outcome.deployment_id is not None:
        raise StatusNotReported(outcome.report_line)
    return outcome.as_log()


def function_cases(cl: Clients, config: HookConfig, function_name: str) -> list[SmokeCase]:
    s3 = cl.s3 if config.smoke_case_location.startswith("s3://") else None
    arn = config.function_arn(function_name)
    return load_function_cases(cl.lambda_control, config.smoke_case_location, arn, s3)


def handle(
    phase: str,
    event: Mapping[str, Any],
    context: HasRemainingTime,
    make_checks: Callable[[Clients, HookConfig], Checks],
) -> dict[str, Any]:
    """What both hook handlers do: configuration, lazy clients, one run, one report, logs."""
    config = load_config()
    cl = clients()
    fixed = config.deadline_margin_s if isinstance(config, HookConfig) else None
    # the budget is the whole timeout: this runs at the start of the invocation
    cl.reserve = reserve = Reserve.for_budget(context.get_remaining_time_in_millis() / 1000, fixed)
    if isinstance(config, HookConfig):
        config = replace(config, own_arn=getattr(context, "invoked_function_arn", None))
        checks = make_checks(cl, config)
    else:  # run_hook reports Failed with the configuration error before any check
        checks = lambda deployment, deadline: CheckRun([])  # noqa: E731
    outcome = run_hook(
        phase,
        event,
        codedeploy=cl.codedeploy,
        config=config,
        deadline=Deadline.from_context(context, reserve.total_s),
        checks=checks,
        hook_name=getattr(context, "function_name", None),
        on_exception=lambda exc: logger.exception("hook bug"),
        grace_s=reserve.grace_s,
    )
    if isinstance(config, HookConfig):
        notify(cl, config, outcome)
    drain_abandoned(context)
    return finish(outcome)


def drain_abandoned(context: HasRemainingTime) -> None:
    """After the report: let work abandoned at the deadline end now, not in the next invocation."""
    still = ABANDONED.drain(context.get_remaining_time_in_millis() / 1000 - DRAIN_RESERVE_S)
    if still:
        logger.warning(
            "abandoned checks still running at the end of the invocation", extra={"running": still}
        )


def notify(cl: Clients, config: HookConfig, outcome: HookOutcome) -> None:
    """After the status went out: the notices of checks that finished in time, best effort."""
    for notice in outcome.notices:
        sent = publish(cl.sns, config.notification_topic_arn, notice.subject, notice.message)
        if sent != "published":
            logger.warning("notice not sent", extra={"notify": sent, "subject": notice.subject})
