"""Gate between traffic steps: while a deployment shifts, look every few seconds and stop a bad one.

CodeDeploy's hooks run only before and after the whole shift. This gate calls StopDeployment with
autoRollbackEnabled as soon as the sequential test (safedeploy_core.sequential) proves the new version
worse than the old — in errors or in latency — which it may ask as often as it likes without stopping
healthy versions more than alpha of the time.

EventBridge schedules no finer than a minute, so each scheduled invocation keeps looking every
STEP_LOOK_S seconds while a deployment is in progress, and exits at once otherwise (`run_step_gate_loop`).
Each look recomputes the evidence from CloudWatch for the whole shift so far: nothing is kept between
invocations, and two invocations that overlap judge the same data (StopDeployment twice is harmless:
the second ends "ended-meanwhile"). Only periods that ended SETTLE_S seconds ago are counted, so each
interval is counted once, complete; the wait is the metrics' visibility delay — for EMF an assumption,
the same as the rehearsal's (safedeploy.offline.visibility).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.codedeploy import ENDED_CODES, Deployment, describe_client_error, get_deployment
from safedeploy_core.errors import HookError
from safedeploy_core.judge import MetricJudgement, Verdict
from safedeploy_core.metrics import (
    EMF_PERIOD_S,
    LAMBDA_PERIOD_S,
    EmfSource,
    Threshold,
    error_intervals,
    fetch_points,
    interval_queries,
    latency_intervals,
    threshold_before,
    threshold_from_first_minute,
)
from safedeploy_core.sequential import Evidence, SequentialPolicy, evidence_of
from safedeploy_core.timing import STEP_LOOK_S

MAX_QUERIES = 500  # MetricDataQuery structures in one GetMetricData call (CloudWatch API reference)
SETTLE_S = 60.0  # a period is counted once it ended this long ago (the metrics' visibility delay)
RESERVE_S = 5.0  # an invocation stops looking when less than a look + this is left
BEFORE_S = 3600  # the old version's p99 over the hour before the deployment fixes the latency threshold
# Periods under 60 s are kept 3 hours (GetMetricData, Period): older shifts use Lambda's minutes.
HIGH_RESOLUTION_KEPT = timedelta(hours=3) - timedelta(minutes=5)

GateActionKind = Literal["stopped", "watching", "ended-meanwhile", "skipped: not allowed", "error"]


@dataclass(frozen=True)
class GateAction:
    deployment_id: str
    function_name: str
    verdict: Verdict
    action: GateActionKind
    detail: str = ""  # what went wrong, for "error"


@dataclass
class GateMemory:
    """What one invocation keeps between its looks (never between invocations): each deployment's
    details, and its latency threshold with the time latency is counted from (None: not found yet)."""

    deployments: dict[str, Deployment] = field(default_factory=dict)
    thresholds: dict[str, Threshold | None] = field(default_factory=dict)
    # Per-minute series, read again only once another minute has settled (`fetch_looks`): by
    # deployment and query, the settled minute it was read at and its datapoints.
    minutes: dict[tuple[str, str], tuple[datetime, dict[datetime, float]]] = field(default_factory=dict)


def _deployment_groups(codedeploy: Any, application: str) -> list[str]:
    """Every deployment group of the application (ListDeploymentGroups pages through them)."""
    groups: list[str] = []
    kwargs: dict[str, Any] = {"applicationName": application}
    while True:
        page = codedeploy.list_deployment_groups(**kwargs)
        groups.extend(page.get("deploymentGroups", []))
        if not page.get("nextToken"):
            return groups
        kwargs["nextToken"] = page["nextToken"]


def in_progress_deployments(codedeploy: Any, application: str) -> list[str]:
    ids: list[str] = []
    for group in _deployment_groups(codedeploy, application):
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


def _floor(t: datetime, seconds: float) -> datetime:
    epoch = t.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _judgement(name: str, evidence: Evidence, alpha: float, what: str) -> MetricJudgement:
    new_calls, new_bad = evidence.new
    old_calls, old_bad = evidence.old
    new_rate = 100 * new_bad / new_calls if new_calls else None
    old_rate = 100 * old_bad / old_calls if old_calls else None
    fails = evidence.decide(alpha) == "FAIL"
    strength = math.exp(min(evidence.log_value, 700.0))
    reason = (
        f"{what}: new {new_bad}/{new_calls}, old {old_bad}/{old_calls} over {evidence.intervals} periods; "
        f"evidence {strength:.3g} against the {1 / alpha:.0f} that stops"
    )
    return MetricJudgement(
        name, old_rate, new_rate, None, evidence.p_value, "FAIL" if fails else "INCONCLUSIVE", reason
    )


@dataclass
class _Look:
    """One deployment's part of a look: its window and the queries its verdict needs."""

    deployment: Deployment
    start: datetime
    cutoff: datetime
    emf: EmfSource | None
    threshold: Threshold | None = None
    points: dict[str, dict[datetime, float]] = field(default_factory=dict)

    def queries(self) -> list[dict[str, Any]]:
        target = self.deployment.target
        versions = {"baseline": target.current_version, "canary": target.target_version}
        return interval_queries(target.function_name, target.alias, versions, self.emf, self.threshold)


def _prepare(
    cloudwatch: Any,
    deployment: Deployment,
    now: datetime,
    emf: EmfSource | None,
    memory: GateMemory,
    settle_s: float,
) -> _Look | Verdict:
    """The deployment's look, or its verdict when nothing has settled yet (then nothing is read)."""
    target = deployment.target
    start = _floor(deployment.create_time or now, LAMBDA_PERIOD_S)
    cutoff = now - timedelta(seconds=settle_s)
    if cutoff <= start:
        return Verdict(
            "NODATA", reason=f"nothing settled yet (periods count {settle_s:.0f} s after they end)"
        )
    key = deployment.deployment_id
    emf_kept = emf if now - start < HIGH_RESOLUTION_KEPT else None
    if key not in memory.thresholds:
        memory.thresholds[key] = threshold_before(
            cloudwatch,
            target.function_name,
            target.alias,
            target.current_version,
            emf_kept,
            start,
            BEFORE_S,
        )
    threshold = memory.thresholds[key]
    if threshold is not None and threshold.source.name == "emf" and emf_kept is None:
        threshold = None  # older than high-resolution data is kept: Lambda's minutes from here on
    return _Look(deployment, start, cutoff, emf_kept, threshold)


def fetch_looks(cloudwatch: Any, looks: list[_Look], memory: GateMemory | None = None) -> None:
    """Every look's metrics in one GetMetricData (500 queries a call at most: CloudWatch API
    reference), each look's queries under its own Id prefix, each look keeping only its own window.
    GetMetricData is billed per metric requested: one call for several deployments costs what one call
    each would, and saves calls against CloudWatch's request quota. What is billed less is what is not
    asked again: a per-minute series counts only minutes that ended SETTLE_S ago, so until the next
    minute settles a new read could not change what is counted, and the one kept in `memory` serves."""
    if not looks:
        return
    tagged: list[dict[str, Any]] = []
    for i, look in enumerate(looks):
        look.points = {}
        settled = _floor(look.cutoff, LAMBDA_PERIOD_S)
        for query in look.queries():
            key = (look.deployment.deployment_id, json.dumps(query, sort_keys=True))
            kept = memory.minutes.get(key) if memory is not None else None
            if query["MetricStat"]["Period"] >= LAMBDA_PERIOD_S and kept is not None and kept[0] == settled:
                look.points[query["Id"]] = kept[1]
                continue
            tagged.append({**query, "Id": f"d{i}_{query['Id']}"})
    if not tagged:
        return
    start = min(look.start for look in looks)
    end = max(_floor(look.cutoff, EMF_PERIOD_S) for look in looks)
    asked = {q["Id"]: q for q in tagged}
    for chunk in range(0, len(tagged), MAX_QUERIES):
        queries = tagged[chunk : chunk + MAX_QUERIES]
        for qid, series in fetch_points(cloudwatch, queries, start, end).items():
            index, _, own = qid.partition("_")
            look = looks[int(index[1:])]
            limit = _floor(look.cutoff, EMF_PERIOD_S)
            look.points[own] = {t: v for t, v in series.items() if look.start <= t < limit}
            query = {**asked[qid], "Id": own}
            if memory is not None and query["MetricStat"]["Period"] >= LAMBDA_PERIOD_S:
                key = (look.deployment.deployment_id, json.dumps(query, sort_keys=True))
                memory.minutes[key] = (_floor(look.cutoff, LAMBDA_PERIOD_S), look.points[own])


def _verdict(look: _Look, policy: SequentialPolicy) -> Verdict:
    """FAIL when either test has proof that the new version is worse; else INCONCLUSIVE (keep
    watching), NODATA while no interval has calls of both versions."""
    points, cutoff, threshold = look.points, look.cutoff, look.threshold
    source, intervals = error_intervals(points, cutoff)
    errors = evidence_of(intervals)
    metrics = [_judgement("error_rate", errors, policy.error_alpha, f"errors ({source})")]
    if threshold is not None and policy.latency_part > 0:
        latency = evidence_of(latency_intervals(points, cutoff, threshold))
        what = f"calls over {threshold.ms:.4g} ms ({threshold.source.label})"
        metrics.append(_judgement("latency_p99", latency, policy.latency_alpha, what))
    failed = [m for m in metrics if m.result == "FAIL"]
    if failed:
        return Verdict("FAIL", tuple(metrics), "; ".join(m.reason for m in failed))
    if errors.intervals == 0:
        return Verdict("NODATA", tuple(metrics), "no settled period with calls of both versions yet")
    return Verdict("INCONCLUSIVE", tuple(metrics), "no proof the new version is worse yet")


def sequential_verdicts(
    cloudwatch: Any,
    looks: list[_Look],
    policy: SequentialPolicy,
    memory: GateMemory,
) -> list[Verdict]:
    """The verdicts of one look at several deployments, their metrics read together."""
    fetch_looks(cloudwatch, looks, memory)
    # no traffic before a deployment: the old version's first settled minute fixes its threshold,
    # and that deployment's latency counts are read again, together
    fixed = []
    for look in looks:
        if look.threshold is None:
            found = threshold_from_first_minute(look.points, look.emf, look.cutoff)
            if found is not None:
                memory.thresholds[look.deployment.deployment_id] = found
                look.threshold = found
                fixed.append(look)
    fetch_looks(cloudwatch, fixed, memory)
    return [_verdict(look, policy) for look in looks]


def sequential_verdict(
    cloudwatch: Any,
    deployment: Deployment,
    policy: SequentialPolicy,
    now: datetime,
    emf: EmfSource | None,
    memory: GateMemory,
    settle_s: float = SETTLE_S,
) -> Verdict:
    """One deployment's verdict (see `sequential_verdicts`)."""
    look = _prepare(cloudwatch, deployment, now, emf, memory, settle_s)
    if isinstance(look, Verdict):
        return look
    return sequential_verdicts(cloudwatch, [look], policy, memory)[0]


def _stop(codedeploy: Any, deployment: Deployment, verdict: Verdict) -> GateAction:
    target = deployment.target
    action: GateActionKind = "watching"
    if verdict.verdict == "FAIL":
        try:
            codedeploy.stop_deployment(deploymentId=deployment.deployment_id, autoRollbackEnabled=True)
            action = "stopped"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ENDED_CODES:
                raise
            action = "ended-meanwhile"
    return GateAction(deployment.deployment_id, target.function_name, verdict, action)


def _error(deployment_id: str, exc: Exception, function_name: str = "?") -> GateAction:
    if isinstance(exc, HookError):
        detail = str(exc)
    elif isinstance(exc, ClientError):
        detail = describe_client_error(exc)
    elif isinstance(exc, BotoCoreError):
        detail = f"AWS call failed: {exc}"
    else:  # a bug on one deployment must not keep the others from being judged
        detail = f"unexpected {type(exc).__name__}: {exc}"
    return GateAction(deployment_id, function_name, Verdict("NODATA"), "error", detail)


def run_step_gate(
    codedeploy: Any,
    cloudwatch: Any,
    application: str,
    allowed: frozenset[str],
    policy: SequentialPolicy,
    now: datetime | None = None,
    emf: EmfSource | None = None,
    memory: GateMemory | None = None,
) -> list[GateAction]:
    """One look: one action per in-progress deployment, the metrics of all of them read in one
    GetMetricData. Each is judged on its own: a malformed AppSpec or a throttled call on one becomes
    its `error` action and the others are still judged."""
    now = now or datetime.now(UTC)
    memory = memory if memory is not None else GateMemory()
    actions: dict[str, GateAction] = {}
    looks: dict[str, _Look] = {}
    ids = in_progress_deployments(codedeploy, application)
    for deployment_id in ids:
        try:
            if deployment_id not in memory.deployments:
                memory.deployments[deployment_id] = get_deployment(codedeploy, deployment_id)
            deployment = memory.deployments[deployment_id]
            if deployment.target.function_name not in allowed:
                skipped = GateAction(
                    deployment_id, deployment.target.function_name, Verdict("NODATA"), "skipped: not allowed"
                )
                actions[deployment_id] = skipped
                continue
            look = _prepare(cloudwatch, deployment, now, emf, memory, SETTLE_S)
            if isinstance(look, Verdict):
                actions[deployment_id] = GateAction(
                    deployment_id, deployment.target.function_name, look, "watching"
                )
            else:
                looks[deployment_id] = look
        except Exception as exc:
            actions[deployment_id] = _error(deployment_id, exc)
    try:
        verdicts = dict(
            zip(looks, sequential_verdicts(cloudwatch, list(looks.values()), policy, memory), strict=True)
        )
    except Exception as exc:  # the one read failed: every deployment it was for is unjudged this look
        for deployment_id, look in looks.items():
            actions[deployment_id] = _error(deployment_id, exc, look.deployment.target.function_name)
        verdicts = {}
    for deployment_id, verdict in verdicts.items():
        try:
            actions[deployment_id] = _stop(codedeploy, looks[deployment_id].deployment, verdict)
        except Exception as exc:
            actions[deployment_id] = _error(deployment_id, exc)
    return [actions[d] for d in ids if d in actions]


def run_step_gate_loop(
    codedeploy: Any,
    cloudwatch: Any,
    application: str,
    allowed: frozenset[str],
    policy: SequentialPolicy,
    remaining_s: Callable[[], float],
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    emf: EmfSource | None = None,
    look_s: float = STEP_LOOK_S,
) -> tuple[list[GateAction], int]:
    """Look every `look_s` while some deployment is still watched (or failed to be judged) and the
    invocation has time for another look; (each deployment's last action — a stop, once made, is
    kept — and the number of looks)."""
    memory = GateMemory()
    final: dict[str, GateAction] = {}
    looks = 0
    while True:
        try:
            actions = run_step_gate(
                codedeploy, cloudwatch, application, allowed, policy, clock(), emf, memory
            )
        except (ClientError, BotoCoreError) as exc:
            # the deployments could not even be listed: end this run (raising would make Lambda run
            # the scheduled event again, later, beside the next minute's run)
            detail = describe_client_error(exc) if isinstance(exc, ClientError) else str(exc)
            final["?"] = GateAction("?", "?", Verdict("NODATA"), "error", f"listing deployments: {detail}")
            return list(final.values()), looks + 1
        looks += 1
        for action in actions:
            kept = final.get(action.deployment_id)
            if kept is None or kept.action not in ("stopped", "ended-meanwhile"):
                final[action.deployment_id] = action
        if not any(a.action in ("watching", "error") for a in actions):
            break
        if remaining_s() < look_s + RESERVE_S:
            break
        sleep(look_s)
    return list(final.values()), looks
