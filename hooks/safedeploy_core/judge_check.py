"""The judge as a post-traffic check: metrics over the shift window -> verdict -> CheckResult."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from safedeploy_core.codedeploy import Deployment
from safedeploy_core.deadline import Deadline
from safedeploy_core.judge import Policy, Verdict, judge
from safedeploy_core.metrics import EmfSource, collect_pair
from safedeploy_core.smoke import CheckResult


def judge_deployment(
    cloudwatch: Any,
    deployment: Deployment,
    policy: Policy,
    now: datetime | None = None,
    emf: EmfSource | None = None,
) -> Verdict:
    target = deployment.target
    end = now or datetime.now(UTC)
    start = deployment.create_time or end
    baseline, canary = collect_pair(
        cloudwatch,
        target.function_name,
        target.alias,
        target.current_version,
        target.target_version,
        start,
        end,
        emf=emf,
    )
    return judge(baseline, canary, policy)


UNDECIDED = ("NODATA", "INCONCLUSIVE")
POLL_S = 20.0


def judge_when_visible(
    cloudwatch: Any,
    deployment: Deployment,
    policy: Policy,
    deadline: Deadline,
    wait_s: float,
    emf: EmfSource | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Verdict:
    """The judge, asked again while it lacks data and the hook can still afford to wait.

    CloudWatch has a request only about a minute after it ran (Lambda sends metric data in 1-minute
    intervals), so right after a shift — at once for AllAtOnce — the new version has nothing to show
    yet, and a judge that answered at once would say NODATA for a healthy release (failing closed in
    prod). PASS and FAIL end the wait; so do `wait_s` and the hook's deadline."""
    waited = 0.0
    while True:
        verdict = judge_deployment(cloudwatch, deployment, policy, clock(), emf)
        if verdict.verdict not in UNDECIDED or waited + POLL_S > wait_s or deadline.remaining() <= POLL_S:
            return verdict
        sleep(POLL_S)
        waited += POLL_S


def verdict_check(verdict: Verdict, undecided: str) -> CheckResult:
    """FAIL fails; INCONCLUSIVE/NODATA follow the environment's policy ('fail' closed or 'pass')."""
    if verdict.verdict == "PASS":
        return CheckResult("canary judge", True, f"PASS: {verdict.reason}", 0.0)
    if verdict.verdict == "FAIL":
        return CheckResult("canary judge", False, f"FAIL: {verdict.reason}", 0.0)
    passed = undecided == "pass"
    policy = "passing with a warning" if passed else "failing closed"
    return CheckResult("canary judge", passed, f"{verdict.verdict} ({verdict.reason}); {policy}", 0.0)
