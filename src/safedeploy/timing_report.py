"""Each gate alarm's worst-case detection time against every predefined deployment type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from safedeploy_core.timing import PREDEFINED, deployment_config, detection_seconds, fastest_gate_s, fit

from safedeploy.model import build_scope, deployments


def timing_report(template: Path) -> dict[str, Any]:
    scope = build_scope(template)
    alarms: dict[str, int] = {}
    for dep in deployments(scope):
        for alarm in dep.alarms:
            if alarm.period_s and alarm.evaluation_periods:
                key = (
                    alarm.scope.qualified(alarm.logical_id)
                    if alarm.scope and alarm.logical_id
                    else alarm.reference
                )
                alarms[key] = detection_seconds(
                    alarm.period_s, alarm.evaluation_periods, alarm.datapoints_to_alarm
                )
    rows = []
    for name in PREDEFINED:
        config = deployment_config(name)
        assert config is not None
        rows.append(
            {
                "deployment_type": name,
                "first_window_s": config.first_window_s,
                "shift_s": config.shift_s,
                "fastest_1min_gate_fits_first_window": fit(fastest_gate_s(), config) == "first-step",
                "alarms": {alarm: fit(detect, config) for alarm, detect in alarms.items()},
            }
        )
    return {
        "template": str(template),
        "detection_s": alarms,
        "fastest_1min_gate_s": fastest_gate_s(),
        "types": rows,
    }


def render_timing(console: Console, report: dict[str, Any]) -> None:
    # One column per kind of gate: the same gate in several alarm packs has the same timing.
    columns: dict[str, list[str]] = {}
    for alarm, detect in report["detection_s"].items():
        columns.setdefault(f"{alarm.split('/')[-1]}\n{detect} s", []).append(alarm)
    table = Table(title="worst-case gate detection vs. bake windows (first-step / whole-shift / never)")
    table.add_column("deployment type", no_wrap=True)
    table.add_column("first step", justify="right")
    table.add_column("shift", justify="right")
    for header in columns:
        table.add_column(header, no_wrap=True)
    style = {"first-step": "green", "whole-shift": "yellow", "never": "red"}
    for row in report["types"]:
        cells = [f"[{style[row['alarms'][a[0]]]}]{row['alarms'][a[0]]}[/]" for a in columns.values()]
        table.add_row(row["deployment_type"], f"{row['first_window_s']} s", f"{row['shift_s']} s", *cells)
    console.print(table)
    console.print(
        f"fastest possible gate on 1-minute Lambda metrics: {report['fastest_1min_gate_s']} s "
        "(one datapoint + ~2 min delay): no such alarm fits a 1-minute linear step."
    )
