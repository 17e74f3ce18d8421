"""The one path every hook takes: event -> deployment -> allow-list -> checks -> verdict -> ONE report.

Whatever happens inside (AccessDenied, a malformed AppSpec, a hung target, a bug), the hook reports
`Failed` before its own Lambda timeout, because CodeDeploy otherwise waits an hour for a status.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.codedeploy import (
    Deployment,
    HookEvent,
    Status,
    describe_client_error,
    get_deployment,
    parse_hook_event,
    report_status,
)
from safedeploy_core.config import HookConfig
from safedeploy_core.deadline import Deadline
from safedeploy_core.errors import HookError, NotAllowed
from safedeploy_core.smoke import CheckResult

Checks = Callable[[Deployment, Deadline], list[CheckResult]]


@dataclass
class HookOutcome:
    phase: str
    status: Status
    reason: str
    report: str  # "reported" | "already-completed" | "not-reported: ..."
    deployment_id: str | None = None
    function_name: str | None = None
    current_version: str | None = None
    target_version: str | None = None
    results: list[CheckResult] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def reported(self) -> bool:
        return self.report in ("reported", "already-completed")

    def summary(self) -> str:
        """One human-readable line for the log and the notification."""
        passed = sum(r.passed for r in self.results)
        where = (
            f"{self.function_name} v{self.current_version}->v{self.target_version}"
            if self.function_name
            else "?"
        )
        return (
            f"{self.phase} {self.status}: {where}, {passed}/{len(self.results)} checks passed "
            f"in {self.elapsed_ms:.0f} ms ({self.reason}); report {self.report}"
        )

    def as_log(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "status": self.status,
            "reason": self.reason,
            "report": self.report,
            "deployment_id": self.deployment_id,
            "function": self.function_name,
            "current_version": self.current_version,
            "target_version": self.target_version,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "checks": [r.as_dict() for r in self.results],
        }


def ensure_allowed(function_name: str, allowed: frozenset[str]) -> None:
    if function_name not in allowed:
        names = ", ".join(sorted(allowed))
        raise NotAllowed(f"function {function_name} is not in this hook's allow-list ({names}); not invoked")


def _configured(config: HookConfig | None, error: str | None) -> HookConfig:
    if config is None:
        raise HookError(f"hook misconfigured: {error}")
    return config


def _verdict(results: list[CheckResult]) -> tuple[Status, str]:
    if not results:
        return "Failed", "no checks ran: a hook that tests nothing must not pass"
    failed = [r for r in results if not r.passed]
    if failed:
        first = failed[0]
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        return "Failed", f"{first.name}: {first.reason}{more}"
    return "Succeeded", "all checks passed"


def _evaluate(
    phase: str,
    hook: HookEvent,
    codedeploy: Any,
    config: HookConfig | None,
    config_error: str | None,
    deadline: Deadline,
    checks: Checks,
    on_exception: Callable[[BaseException], None] | None,
) -> HookOutcome:
    outcome = HookOutcome(phase, "Failed", "", "", deployment_id=hook.deployment_id)
    try:
        config = _configured(config, config_error)
        deployment = get_deployment(codedeploy, hook.deployment_id)
        target = deployment.target
        outcome.function_name = target.function_name
        outcome.current_version = target.current_version
        outcome.target_version = target.target_version
        ensure_allowed(target.function_name, config.allowed_functions)
        outcome.results = checks(deployment, deadline)
        outcome.status, outcome.reason = _verdict(outcome.results)
    except HookError as exc:
        outcome.reason = str(exc)
    except ClientError as exc:
        outcome.reason = describe_client_error(exc)
    except BotoCoreError as exc:
        outcome.reason = f"AWS call failed: {exc}"
    except Exception as exc:  # a bug must still end in a report, not a one-hour hang
        outcome.reason = f"unexpected {type(exc).__name__}: {exc}"
        if on_exception:
            on_exception(exc)
    return outcome


def _within_deadline(
    work: Callable[[], HookOutcome], deadline: Deadline, fallback: HookOutcome, grace_s: float
) -> HookOutcome:
    """Run the evaluation on a worker and stop waiting at the deadline (plus a little grace for checks
    that end exactly there), whatever hangs inside (a GetMetricData call, a DNS lookup, a bug): the
    report must leave before the Lambda timeout."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hook")
    future = pool.submit(work)
    try:
        return future.result(timeout=deadline.remaining() + grace_s)
    except FuturesTimeout:
        fallback.reason = "the checks did not finish before the hook's deadline"
        return fallback
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_hook(
    phase: str,
    event: Any,
    *,
    codedeploy: Any,
    config: HookConfig | None,
    config_error: str | None,
    deadline: Deadline,
    checks: Checks,
    on_exception: Callable[[BaseException], None] | None = None,
    grace_s: float = 2.0,
) -> HookOutcome:
    started = time.perf_counter()
    try:
        hook: HookEvent = parse_hook_event(event)
    except HookError as exc:
        # Without both ids there is nothing to report to; a retry would fail the same way.
        return HookOutcome(phase, "Failed", str(exc), "not-reported: malformed event")

    outcome = _within_deadline(
        lambda: _evaluate(phase, hook, codedeploy, config, config_error, deadline, checks, on_exception),
        deadline,
        HookOutcome(phase, "Failed", "", "", deployment_id=hook.deployment_id),
        grace_s,
    )
    try:
        outcome.report = report_status(codedeploy, hook, outcome.status)
    except (ClientError, BotoCoreError) as exc:
        detail = describe_client_error(exc) if isinstance(exc, ClientError) else str(exc)
        outcome.report = f"not-reported: {detail}"
    outcome.elapsed_ms = (time.perf_counter() - started) * 1000
    return outcome
