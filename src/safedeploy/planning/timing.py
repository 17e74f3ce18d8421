"""Each gate alarm's nominal worst-case detection time against every predefined deployment type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from safedeploy_core.timing import (
    PREDEFINED,
    assumptions,
    deployment_config,
    detection,
    fastest_gate_s,
    fit,
    wall_clock,
)

from safedeploy.template.deployments import deployments
from safedeploy.template.scope import Scope


@dataclass(frozen=True)
class TypeTiming:
    deployment_type: str
    first_window_s: int
    shift_s: int
    fastest_1min_gate_fits_first_window: bool
    alarms: dict[str, str]  # gate alarm -> first-step | whole-shift | after-shift | never


@dataclass(frozen=True)
class TimingReport:
    template: str
    detection_s: dict[str, int]
    fastest_1min_gate_s: int
    types: list[TypeTiming]
    # every time here is nominal: it rests on these figures (--alarm-poll, --metric-delay)
    nominal: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timing_report(scope: Scope) -> TimingReport:
    alarms: dict[str, int] = {}
    after: dict[str, int] = {}  # how long each gate's deployment stays open after the shift
    for dep in deployments(scope):
        post_s = (dep.post_hook.timeout_s or 0) if dep.post_hook else 0
        for alarm in dep.alarms:
            if alarm.period_s and alarm.evaluation_periods:
                alarms[alarm.display] = detection(
                    alarm.period_s,
                    alarm.evaluation_periods,
                    alarm.datapoints_to_alarm,
                    wall_clock=wall_clock(alarm.props),
                ).worst_s
                after[alarm.display] = post_s
    rows = []
    for name in PREDEFINED:
        config = deployment_config(name)
        assert config is not None
        rows.append(
            TypeTiming(
                deployment_type=name,
                first_window_s=config.first_window_s,
                shift_s=config.shift_s,
                fastest_1min_gate_fits_first_window=fit(fastest_gate_s(), config) == "first-step",
                alarms={alarm: fit(detect, config, after[alarm]) for alarm, detect in alarms.items()},
            )
        )
    figures = assumptions()
    nominal = {"alarm_poll_s": figures.poll_s, "metric_delay_s": figures.visibility_s}
    return TimingReport(str(scope.path), alarms, fastest_gate_s(), rows, nominal)
