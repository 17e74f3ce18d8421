"""The one path every hook takes: event -> deployment -> allow-list -> checks -> verdict -> ONE report.

Whatever happens inside (AccessDenied, a malformed AppSpec, a hung target, a bug), the hook reports
`Failed` before its own Lambda timeout, because CodeDeploy otherwise waits an hour for a status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.appspec import Target, function_name_of
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
from safedeploy_core.deadline import ABANDONED, Deadline
from safedeploy_core.errors import ConfigError, HookError, NotAllowed
from safedeploy_core.notify import Notice
from safedeploy_core.smoke import CheckResult


@dataclass(frozen=True)
class CheckRun:
    """What a hook's checks return: their results, and notices to send once the status is reported."""

    results: list[CheckResult]
    notices: list[Notice] = field(default_factory=list)


Checks = Callable[[Deployment, Deadline], CheckRun]


class Report(StrEnum):
    """What became of the one status report."""

    REPORTED = "reported"
    ALREADY_COMPLETED = "already-completed"  # a retried invocation found the event closed
    NOT_REPORTED = "not-reported"


@dataclass
class HookOutcome:
    """Everything one hook invocation decided and did; starts as Failed until the checks say otherwise."""

    phase: str
    deployment_id: str | None = None
    status: Status = "Failed"
    reason: str = ""
    report: Report = Report.NOT_REPORTED
    report_detail: str = ""  # why a report was not sent
    target: Target | None = None
    results: list[CheckResult] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # only from checks that finished in time
    elapsed_ms: float = 0.0

    @property
    def reported(self) -> bool:
        return self.report in (Report.REPORTED, Report.ALREADY_COMPLETED)

    @property
    def function_name(self) -> str | None:
        return self.target.function_name if self.target else None

    @property
    def report_line(self) -> str:
        return f"{self.report}: {self.report_detail}" if self.report_detail else str(self.report)

    def summary(self) -> str:
        """One human-readable line for the log and the notification."""
        passed = sum(r.passed for r in self.results)
        target = self.target
        where = (
            f"{target.function_name} v{target.current_version}->v{target.target_version}" if target else "?"
        )
        return (
            f"{self.phase} {self.status}: {where}, {passed}/{len(self.results)} checks passed "
            f"in {self.elapsed_ms:.0f} ms ({self.reason}); report {self.report_line}"
        )

    def as_log(self) -> dict[str, Any]:
        target = self.target
        return {
            "phase": self.phase,
            "status": self.status,
            "reason": self.reason,
            "report": self.report_line,
            "deployment_id": self.deployment_id,
            "function": target.function_name if target else None,
            "current_version": target.current_version if target else None,
            "target_version": target.target_version if target else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "checks": [r.as_dict() for r in self.results],
        }


def ensure_addressed(phase: str, hook_name: str | None, deployment: Deployment, config: HookConfig) -> None:
    """Act only on what this hook was asked to do: a Lambda deployment of this hook's application,
    whose AppSpec names this very function for this lifecycle event."""
    if deployment.compute_platform != "Lambda":
        raise NotAllowed(
            f"deployment {deployment.deployment_id} is for compute platform "
            f"{deployment.compute_platform or 'unknown'}, not Lambda; not handled"
        )
    if config.deployment_application and deployment.application_name != config.deployment_application:
        raise NotAllowed(
            f"deployment {deployment.deployment_id} belongs to application {deployment.application_name}; "
            f"this hook serves {config.deployment_application}"
        )
    target = deployment.target
    named = target.before_allow_traffic if phase == "BeforeAllowTraffic" else target.after_allow_traffic
    if named is None:
        raise NotAllowed(f"the AppSpec names no {phase} hook: this hook was not asked to run")
    if hook_name is None or function_name_of(named) != function_name_of(hook_name):
        raise NotAllowed(
            f"the AppSpec's {phase} hook is {named}, not this function ({hook_name or 'unknown'}): not run"
        )


def ensure_allowed(function_name: str, allowed: frozenset[str]) -> None:
    if function_name not in allowed:
        names = ", ".join(sorted(allowed))
        raise NotAllowed(f"function {function_name} is not in this hook's allow-list ({names}); not invoked")


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
    outcome: HookOutcome,
    hook: HookEvent,
    hook_name: str | None,
    codedeploy: Any,
    config: HookConfig | ConfigError,
    deadline: Deadline,
    checks: Checks,
    on_exception: Callable[[BaseException], None] | None,
) -> HookOutcome:
    """Fill `outcome` on the worker thread; past the deadline the caller reports without it."""
    if isinstance(config, ConfigError):
        outcome.reason = f"hook misconfigured: {config}"
        return outcome
    try:
        deployment = get_deployment(codedeploy, hook.deployment_id)
        outcome.target = deployment.target
        ensure_addressed(outcome.phase, hook_name, deployment, config)
        ensure_allowed(deployment.target.function_name, config.allowed_functions)
        run = checks(deployment, deadline)
        outcome.results, outcome.notices = run.results, run.notices
        outcome.status, outcome.reason = _verdict(run.results)
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
    work: Callable[[], HookOutcome], deadline: Deadline, grace_s: float
) -> HookOutcome | None:
    """Run the evaluation on a worker and stop waiting at the deadline (plus a little grace for checks
    that end exactly there), whatever hangs inside (a GetMetricData call, a DNS lookup, a bug): the
    report must leave before the Lambda timeout. None when the deadline passed."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hook")
    future = pool.submit(work)
    try:
        return future.result(timeout=deadline.remaining() + grace_s)
    except FuturesTimeout:
        ABANDONED.add(future)
        return None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_hook(
    phase: str,
    event: Mapping[str, Any],
    *,
    codedeploy: Any,
    config: HookConfig | ConfigError,
    deadline: Deadline,
    checks: Checks,
    hook_name: str | None,
    on_exception: Callable[[BaseException], None] | None = None,
    grace_s: float = 2.0,
) -> HookOutcome:
    """`hook_name`: this function's own name (the Lambda context's), checked against the AppSpec."""
    started = time.perf_counter()
    try:
        hook: HookEvent = parse_hook_event(event)
    except HookError as exc:
        # Without both ids there is nothing to report to; a retry would fail the same way.
        return HookOutcome(phase, reason=str(exc), report_detail="malformed event")

    decided = HookOutcome(phase, deployment_id=hook.deployment_id)
    work = lambda: _evaluate(decided, hook, hook_name, codedeploy, config, deadline, checks, on_exception)  # noqa: E731
    if deadline.expired():  # no time to check anything: start nothing, report at once
        outcome = HookOutcome(
            phase, deployment_id=hook.deployment_id, reason="no time left before the deadline"
        )
    else:
        # Past the deadline the worker's outcome is dropped whole: its results and notices never
        # count, whatever it does after the report.
        outcome = _within_deadline(work, deadline, grace_s) or HookOutcome(
            phase,
            deployment_id=hook.deployment_id,
            reason="the checks did not finish before the hook's deadline",
            target=decided.target,  # set before any check ran: known, whatever the worker does next
        )
    try:
        outcome.report = Report(report_status(codedeploy, hook, outcome.status))
    except (ClientError, BotoCoreError) as exc:
        outcome.report_detail = describe_client_error(exc) if isinstance(exc, ClientError) else str(exc)
    outcome.elapsed_ms = (time.perf_counter() - started) * 1000
    return outcome
