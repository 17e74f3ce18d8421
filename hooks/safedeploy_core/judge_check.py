"""The judge as a post-traffic check: metrics over the shift window -> verdict -> CheckResult."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from safedeploy_core.codedeploy import Deployment
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


def verdict_check(verdict: Verdict, undecided: str) -> CheckResult:
    """FAIL fails; INCONCLUSIVE/NODATA follow the environment's policy ('fail' closed or 'pass')."""
    if verdict.verdict == "PASS":
        return CheckResult("canary judge", True, f"PASS: {verdict.reason}", 0.0)
    if verdict.verdict == "FAIL":
        return CheckResult("canary judge", False, f"FAIL: {verdict.reason}", 0.0)
    passed = undecided == "pass"
    policy = "passing with a warning" if passed else "failing closed"
    return CheckResult("canary judge", passed, f"{verdict.verdict} ({verdict.reason}); {policy}", 0.0)
