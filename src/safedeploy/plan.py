"""`safedeploy plan`: what a deployment will do, per function, as plain data (rendered by the CLI)."""

from __future__ import annotations

from typing import Any

from safedeploy_core.timing import detection_seconds, fastest_gate_s, first_window_possible, fit

from safedeploy.model import FunctionDeployment, Scope, deployments, hook_logical_id


def _hook(dep: FunctionDeployment, ref: Any) -> dict[str, Any] | None:
    if not ref:
        return None
    located = hook_logical_id(dep.scope, ref)
    if located is None:
        return {"name": str(dep.scope.resolve(ref)), "timeout_s": None}
    where, logical = located
    timeout = where.resources[logical].get("Properties", {}).get("Timeout", 3)
    return {"name": where.qualified(logical), "timeout_s": int(where.resolve(timeout))}


def function_plan(dep: FunctionDeployment) -> dict[str, Any]:
    config = dep.config
    alarms = []
    for alarm in dep.alarms:
        short = (
            alarm.scope.qualified(alarm.logical_id) if alarm.scope and alarm.logical_id else alarm.reference
        )
        entry: dict[str, Any] = {"alarm": alarm.name, "resource": short, "known": alarm.known}
        if alarm.period_s and alarm.evaluation_periods:
            detect = detection_seconds(alarm.period_s, alarm.evaluation_periods, alarm.datapoints_to_alarm)
            entry.update(
                period_s=alarm.period_s,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                detection_s=detect,
                fits=fit(detect, config) if config else None,
            )
        alarms.append(entry)
    steps = []
    if config:
        for index, step in enumerate(config.steps):
            end = config.steps[index + 1].at_s if index + 1 < len(config.steps) else None
            watched = [
                a["resource"]
                for a in alarms
                if end is not None
                and a.get("detection_s") is not None
                and step.at_s + a["detection_s"] <= config.shift_s
            ]
            steps.append(
                {"at_s": step.at_s, "percent": step.percent, "until_s": end, "can_stop_here": watched}
            )
    pre, post = _hook(dep, dep.pre_hook), _hook(dep, dep.post_hook)
    hooks_max = sum(h["timeout_s"] or 0 for h in (pre, post) if h)
    return {
        "function": dep.logical_id,
        "alias": dep.alias,
        "deployment_type": dep.type_name,
        "codedeploy_config": config.codedeploy_name if config else dep.type_name,
        "pre_traffic_hook": pre,
        "steps": steps,
        "post_traffic_hook": post,
        "alarms": alarms,
        "shift_s": config.shift_s if config else None,
        "first_window_s": config.first_window_s if config else None,
        "fastest_possible_gate_s": fastest_gate_s(),
        "first_window_possible": first_window_possible(config) if config else None,
        "total_max_s": (config.shift_s if config else 0) + hooks_max,
    }


def build_plan(scope: Scope) -> list[dict[str, Any]]:
    return [function_plan(dep) for dep in deployments(scope)]
