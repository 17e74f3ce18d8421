"""Terminal rendering (rich) of findings, plans, verdicts. JSON output bypasses this module."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from safedeploy_core.judge import Verdict

from safedeploy.rules import Finding

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}
RESULT_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "INCONCLUSIVE": "yellow",
    "NODATA": "yellow",
    "SKIPPED": "dim",
}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def findings(console: Console, items: list[Finding], template: str) -> None:
    if not items:
        console.print(f"[green]✓[/] {template}: no safe-deployment findings")
        return
    table = Table(title=f"safedeploy check {template}", show_lines=False)
    for col in ("rule", "severity", "resource", "message"):
        table.add_column(col, overflow="fold")
    for f in items:
        table.add_row(f.rule, f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", f.resource, f.message)
    console.print(table)
    errors = sum(f.severity == "error" for f in items)
    console.print(f"{errors} error(s), {len(items) - errors} warning(s)")


def plan(console: Console, plans: list[dict[str, Any]], title: str) -> None:
    console.print(f"[bold]{title}[/]")
    for p in plans:
        console.rule(f"{p['function']} → alias {p['alias']} · {p['codedeploy_config']}")
        pre = p["pre_traffic_hook"]
        console.print(
            f"  ① BeforeAllowTraffic  {pre['name'] if pre else '[yellow]none[/]'}"
            f"{'  (timeout ' + _minutes(pre['timeout_s']) + ')' if pre and pre['timeout_s'] else ''}"
            "  → smoke cases on the new version, 0 % traffic"
        )
        for step in p["steps"]:
            bar = "█" * int(step["percent"] / 5) + "░" * (20 - int(step["percent"] / 5))
            until = (
                f"for {_minutes(step['until_s'] - step['at_s'])}"
                if step["until_s"] is not None
                else "(final)"
            )
            count = len(step["can_stop_here"])
            if step["until_s"] is None:
                stops = "then the post-traffic hook and the judge"
            elif count:
                stops = f"{count} gate alarm(s) can still stop it"
            else:
                stops = "[yellow]no gate alarm can fire before 100 %[/]"
            console.print(
                f"  t+{_minutes(step['at_s']):>8}  {bar} {step['percent']:5.1f} %  {until:<14} {stops}"
            )
        post = p["post_traffic_hook"]
        console.print(
            f"  ② AfterAllowTraffic   {post['name'] if post else '[yellow]none[/]'}"
            "  → API end to end, gate alarms, canary judge"
        )
        table = Table(show_header=True, box=None, padding=(0, 2))
        for col in ("gate alarm", "period", "datapoints", "worst-case detection", "fits"):
            table.add_column(col)
        for a in p["alarms"]:
            if "detection_s" in a:
                dp = f"{a['datapoints_to_alarm'] or a['evaluation_periods']}/{a['evaluation_periods']}"
                style = {"first-step": "green", "whole-shift": "yellow", "never": "bold red"}.get(
                    a["fits"] or "", ""
                )
                table.add_row(
                    a["resource"],
                    f"{a['period_s']} s",
                    dp,
                    _minutes(a["detection_s"]),
                    f"[{style}]{a['fits']}[/]" if style else str(a["fits"]),
                )
            else:
                table.add_row(a["resource"], "?", "?", "?", "[yellow]not in template[/]")
        console.print(table)
        note = (
            ""
            if p["first_window_possible"] in (None, True)
            else (
                f"  [yellow]no alarm on 1-minute Lambda metrics can fire inside the first "
                f"{_minutes(p['first_window_s'])} step "
                f"(fastest possible {_minutes(p['fastest_possible_gate_s'])})[/]"
            )
        )
        if note:
            console.print(note)
        console.print(
            f"  shift {_minutes(p['shift_s'])}; total at most {_minutes(p['total_max_s'])} with hook timeouts"
        )


def verdict(console: Console, v: Verdict) -> None:
    console.print(f"Canary verdict: [{RESULT_STYLE[v.verdict]}]{v.verdict}[/] — {v.reason}")
    if not v.metrics:
        return
    table = Table()
    for col in ("metric", "baseline", "canary", "effect", "p-value", "result", "reason"):
        table.add_column(col)
    for m in v.metrics:

        def fmt(x: float | None, d: int = 2) -> str:
            return "–" if x is None else f"{x:.{d}f}"

        table.add_row(
            m.name,
            fmt(m.baseline),
            fmt(m.canary),
            fmt(m.effect),
            fmt(m.p_value, 4),
            f"[{RESULT_STYLE[m.result]}]{m.result}[/]",
            m.reason,
        )
    console.print(table)
