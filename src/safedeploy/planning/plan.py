"""`safedeploy plan`: what a deployment will do, per function, as plain data (rendered by the CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from safedeploy_core.timing import (
    LISTED_STEPS_MAX,
    DeploymentConfig,
    detection,
    fastest_gate_s,
    first_window_possible,
    fit,
    hook_max_s,
    wall_clock,
)

from safedeploy.template.deployments import FunctionDeployment, HookRef, deployments
from safedeploy.template.scope import Scope


@dataclass(frozen=True)
class HookPlan:
    name: str
    timeout_s: int | None
    dead_letter: bool | None = None
    # The longest it can hold its lifecycle event (Lambda's retries, the dead-letter consumer or
    # CodeDeploy's hour); None when the hook is not in the template.
    max_s: int | None = None


@dataclass(frozen=True)
class GatePlan:
    alarm: str
    resource: str
    known: bool
    period_s: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    detection_s: int | None = None  # the worst case
    fits: str | None = None
    detection: dict[str, Any] | None = None  # best and worst case, their parts and assumptions
    # The invocation guard: at least `guard` counts per period before the gate can breach, so at the
    # first step's share of the traffic it needs `min_total_rps` requests/s in total to fire at all.
    guard: int | None = None
    min_total_rps: float | None = None
    fires_at_rps: bool | None = None  # with `plan --rps N`

    @property
    def timed(self) -> bool:
        return self.detection_s is not None

    def as_dict(self) -> dict[str, Any]:
        out = {"alarm": self.alarm, "resource": self.resource, "known": self.known}
        if self.timed:
            out.update(
                period_s=self.period_s,
                evaluation_periods=self.evaluation_periods,
                datapoints_to_alarm=self.datapoints_to_alarm,
                detection_s=self.detection_s,
                fits=self.fits,
                detection=self.detection,
            )
        if self.guard is not None:
            out.update(guard=self.guard, min_total_rps=self.min_total_rps)
            if self.fires_at_rps is not None:
                out["fires_at_rps"] = self.fires_at_rps
        return out


@dataclass(frozen=True)
class StepPlan:
    at_s: int
    percent: float
    until_s: int | None
    can_stop_here: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FunctionPlan:
    function: str
    alias: str | None
    deployment_type: str | None
    codedeploy_config: str | None
    pre_traffic_hook: HookPlan | None
    steps: list[StepPlan]  # at most LISTED_STEPS_MAX: the first ones and the last
    step_count: int | None  # every step of the shift, listed or not
    post_traffic_hook: HookPlan | None
    alarms: list[GatePlan]
    shift_s: int | None
    schedule_note: str | None  # where the documented schedules disagree (linear shifts)
    first_window_s: int | None
    fastest_possible_gate_s: int
    first_window_possible: bool | None
    total_max_s: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["alarms"] = [a.as_dict() for a in self.alarms]
        return out


def _hook(ref: HookRef | None) -> HookPlan | None:
    if ref is None:
        return None
    timeout, dead_letter = ref.timeout_s, ref.dead_letter
    longest = hook_max_s(timeout, dead_letter) if timeout is not None and dead_letter is not None else None
    return HookPlan(ref.display, timeout, dead_letter, longest)


def _gate(dep: FunctionDeployment, alarm: Any, rps: float | None) -> GatePlan:
    if not (alarm.period_s and alarm.evaluation_periods):
        return GatePlan(alarm.name, alarm.display, alarm.known)
    timing = detection(
        alarm.period_s,
        alarm.evaluation_periods,
        alarm.datapoints_to_alarm,
        wall_clock=wall_clock(alarm.props),
    )
    detect = timing.worst_s
    post_s = dep.post_hook.timeout_s if dep.post_hook else 0
    fits: str | None = fit(detect, dep.config, post_s or 0) if dep.config else None
    if fits == "never" and post_s is None:
        fits = "unknown"  # the post-traffic hook may hold the deployment open; its timeout is not known
    guard, min_rps = alarm.guard(), None
    if guard is not None and dep.config and dep.config.steps:
        share = dep.config.steps[0].percent / 100  # the new version's share while it matters most
        min_rps = round(guard / (alarm.period_s * share), 2)
    return GatePlan(
        alarm.name,
        alarm.display,
        alarm.known,
        period_s=alarm.period_s,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        detection_s=detect,
        fits=fits,
        detection=timing.as_dict(),
        guard=guard,
        min_total_rps=min_rps,
        fires_at_rps=(rps >= min_rps) if rps is not None and min_rps is not None else None,
    )


def _listed_steps(config: DeploymentConfig, gates: list[GatePlan]) -> list[StepPlan]:
    """The shift's steps, each with the gates that can still stop it there: all of them up to
    LISTED_STEPS_MAX, else the first LISTED_STEPS_MAX - 1 and the last (a custom config's tiny
    percentage can make billions; each is worked out from the parameters, never all of them)."""
    steps = config.steps
    count = len(steps)
    shown = range(count) if count <= LISTED_STEPS_MAX else [*range(LISTED_STEPS_MAX - 1), count - 1]
    out = []
    for index in shown:
        step = steps[index]
        end = steps[index + 1].at_s if index + 1 < count else None
        watched = [
            g.resource
            for g in gates
            if end is not None and g.detection_s is not None and step.at_s + g.detection_s <= config.shift_s
        ]
        out.append(StepPlan(step.at_s, step.percent, end, watched))
    return out


def function_plan(dep: FunctionDeployment, rps: float | None = None) -> FunctionPlan:
    config = dep.config
    gates = [_gate(dep, alarm, rps) for alarm in dep.alarms]
    steps = _listed_steps(config, gates) if config else []
    pre, post = _hook(dep.pre_hook), _hook(dep.post_hook)
    hooks_max = sum(h.max_s or h.timeout_s or 0 for h in (pre, post) if h)
    return FunctionPlan(
        function=dep.logical_id,
        alias=dep.alias,
        deployment_type=dep.type_name,
        codedeploy_config=config.codedeploy_name if config else dep.type_name,
        pre_traffic_hook=pre,
        steps=steps,
        step_count=config.step_count if config else None,
        post_traffic_hook=post,
        alarms=gates,
        shift_s=config.shift_s if config else None,
        schedule_note=config.schedule_note if config else None,
        first_window_s=config.first_window_s if config else None,
        fastest_possible_gate_s=fastest_gate_s(),
        first_window_possible=first_window_possible(config) if config else None,
        total_max_s=(config.shift_max_s if config else 0) + hooks_max,
    )


def build_plan(scope: Scope, rps: float | None = None) -> list[FunctionPlan]:
    """`rps`: the traffic the functions get in total (requests/s), to tell which gates can fire."""
    return [function_plan(dep, rps) for dep in deployments(scope)]
