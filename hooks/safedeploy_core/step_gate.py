"""Gate between traffic steps: judge in-progress deployments every minute, stop a bad one at once.

CodeDeploy's hooks run only before and after the whole shift. This gate calls StopDeployment with
autoRollbackEnabled as soon as the judge says FAIL. That is faster than driving a gate alarm: an alarm
fed by PutMetricData needs at least one more period plus evaluation delay (1-3 minutes) and CodeDeploy's
alarm poll, while StopDeployment moves the alias back within seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.codedeploy import ENDED_CODES, describe_client_error, get_deployment
from safedeploy_core.errors import HookError
from safedeploy_core.judge import Policy, Verdict
from safedeploy_core.judge_check import judge_deployment
from safedeploy_core.metrics import EmfSource
from safedeploy_core.timing import deployment_config

DEFAULT_LOOKS = 10  # unknown (custom) configs: as for a 10-minute shift


GateActionKind = Literal["stopped", "watching", "ended-meanwhile", "skipped: not allowed", "error"]


@dataclass(frozen=True)
class GateAction:
    deployment_id: str
    function_name: str
    verdict: Verdict
    action: GateActionKind
    detail: str = ""  # what went wrong, for "error"


def in_progress_deployments(codedeploy: Any, application: str) -> list[str]:
    ids: list[str] = []
    groups = codedeploy.list_deployment_groups(applicationName=application).get("deploymentGroups", [])
    for group in groups:
        kwargs: dict[str, Any] = {
            "applicationName": application,
            "deploymentGroupName": group,
            "includeOnlyStatuses": ["InProgress"],
        }
        while True:
            page = codedeploy.list_deployments(**kwargs)
            ids.extend(page.get("deployments", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return ids


def sequential_policy(policy: Policy, config_name: str) -> Policy:
    """The gate judges the same deployment once a minute: each look gets alpha / looks (Bonferroni),
    so a healthy canary is not rolled back more often than the policy's confidence promises."""
    config = deployment_config(config_name)
    looks = max(1, math.ceil(config.shift_s / 60)) if config and config.shift_s else DEFAULT_LOOKS
    return replace(policy, confidence=1 - policy.alpha / looks)


def _judge_one(
    codedeploy: Any,
    cloudwatch: Any,
    deployment_id: str,
    allowed: frozenset[str],
    policy: Policy,
    now: datetime,
    emf: EmfSource | None,
) -> GateAction:
    deployment = get_deployment(codedeploy, deployment_id)
    target = deployment.target
    if target.function_name not in allowed:
        return GateAction(deployment_id, target.function_name, Verdict("NODATA"), "skipped: not allowed")
    verdict = judge_deployment(
        cloudwatch, deployment, sequential_policy(policy, deployment.config_name), now, emf
    )
    action: GateActionKind = "watching"
    if verdict.verdict == "FAIL":
        try:
            codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
            action = "stopped"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ENDED_CODES:
                raise
            action = "ended-meanwhile"
    return GateAction(deployment_id, target.function_name, verdict, action)


def run_step_gate(
    codedeploy: Any,
    cloudwatch: Any,
    application: str,
    allowed: frozenset[str],
    policy: Policy,
    now: datetime | None = None,
    emf: EmfSource | None = None,
) -> list[GateAction]:
    """One action per in-progress deployment. Each is judged on its own: a malformed AppSpec or a
    throttled call on one becomes its `error` action and the others are still judged."""
    now = now or datetime.now(UTC)
    actions = []
    for deployment_id in in_progress_deployments(codedeploy, application):
        try:
            actions.append(_judge_one(codedeploy, cloudwatch, deployment_id, allowed, policy, now, emf))
        except HookError as exc:
            actions.append(GateAction(deployment_id, "?", Verdict("NODATA"), "error", str(exc)))
        except ClientError as exc:
            actions.append(
                GateAction(deployment_id, "?", Verdict("NODATA"), "error", describe_client_error(exc))
            )
        except BotoCoreError as exc:
            actions.append(
                GateAction(deployment_id, "?", Verdict("NODATA"), "error", f"AWS call failed: {exc}")
            )
        except Exception as exc:  # a bug on one deployment must not keep the others from being judged
            reason = f"unexpected {type(exc).__name__}: {exc}"
            actions.append(GateAction(deployment_id, "?", Verdict("NODATA"), "error", reason))
    return actions
