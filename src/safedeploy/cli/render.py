"""Every rendering of results: text for people (rich) and JSON for machines. Commands hand their
results (dataclasses and plain data) to one `Output`; nothing else prints."""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from safedeploy_core.timing import (
    CODEDEPLOY_POLL_S,
    HIGH_RESOLUTION_EVALUATION_S,
    STANDARD_EVALUATION_S,
    VISIBILITY_S,
)

if TYPE_CHECKING:  # the results' types only: rendering must not load what a command does not use
    from safedeploy_core.judge import Verdict

    from safedeploy.live.drill import DrillResult
    from safedeploy.live.route import RouteResult
    from safedeploy.live.versions import FunctionVersions
    from safedeploy.live.watch import Snapshot
    from safedeploy.offline.engine import TimelineEvent
    from safedeploy.planning.plan import FunctionPlan, GatePlan
    from safedeploy.planning.timing import TimingReport
    from safedeploy.rehearsal.options import RehearsalOptions
    from safedeploy.rules import Finding
    from safedeploy.rules.registry import Rule

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
RULES_URL = "https://github.com/safe-deploy/safe-deploy#safedeploy-check"
RESULT_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "INCONCLUSIVE": "yellow",
    "NODATA": "yellow",
    "SKIPPED": "dim",
}


def _fastest(seconds: int) -> str:
    return (
        f"fastest possible gate on 1-minute Lambda metrics: {seconds} s (a period of alignment + one "
        f"datapoint + {VISIBILITY_S} s visibility + {STANDARD_EVALUATION_S} s evaluation + "
        f"{CODEDEPLOY_POLL_S} s poll)"
    )


FIT_STYLE = {
    "first-step": "green",
    "whole-shift": "yellow",
    "after-shift": "magenta",
    "never": "bold red",
    "unknown": "yellow",
}
TIMELINE_STYLE = {
    "deploy": "bold",
    "hook": "cyan",
    "shift": "blue",
    "alarm": "yellow",
    "judge": "magenta",
    "rollback": "bold red",
    "traffic": "red",
    "done": "bold green",
}
SVG_WIDTH = 150


class Output(Protocol):
    def findings(self, items: list[Finding], template: str) -> None: ...
    def rules(self, rules: dict[str, Rule]) -> None: ...
    def plan(self, plans: list[FunctionPlan], template: str, config_env: str | None) -> None: ...
    def timing(self, report: TimingReport, svg: str | None) -> None: ...
    def verdict(self, verdict: Verdict) -> None: ...
    def watching(
        self, deployment_id: str
    ) -> contextlib.AbstractContextManager[Callable[[Snapshot], None]]: ...
    def watched(self, final: Snapshot) -> None: ...
    def no_deployment(self, stack: str, since: datetime) -> None: ...
    def route(self, result: RouteResult) -> None: ...
    def versions(self, functions: list[FunctionVersions]) -> None: ...
    def drill_update(self, snapshot: Snapshot) -> None: ...
    def drill(self, result: DrillResult) -> None: ...
    def rehearsal_start(self, options: RehearsalOptions) -> None: ...
    def rehearsal_event(self, event: TimelineEvent) -> None: ...
    def rehearsal(self, report: dict[str, Any]) -> None: ...


def output(fmt: str) -> Output:
    if fmt == "sarif":
        return SarifOutput()
    return JsonOutput() if fmt == "json" else TextOutput()


PLAN_BAR = 12
PLAN_WIDTH = 80  # below this, plan prints gates one per line instead of a table


def _grouped(gates: list[GatePlan]) -> dict[str, list[tuple[str, GatePlan]]]:
    """Gate alarms by the template that defines them: `in HelloWorldAlarms` -> [(ErrorRateGate, …)]."""
    groups: dict[str, list[tuple[str, GatePlan]]] = {}
    for gate in gates:
        where, sep, name = gate.resource.rpartition("/") if gate.known else ("", "", gate.resource)
        key = f"in {where}" if sep else ("in this template" if gate.known else "defined elsewhere")
        groups.setdefault(key, []).append((name, gate))
    return groups


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


class JsonOutput:
    """One JSON document per result (watch: one object per poll, for CI logs)."""

    def _print(self, document: Any, indent: int | None = 2) -> None:
        print(json.dumps(document, indent=indent, default=str))

    def findings(self, items: list[Finding], template: str) -> None:
        self._print([f.as_dict() for f in items])

    def rules(self, rules: dict[str, Rule]) -> None:
        self._print(
            [
                {
                    "rule": k,
                    "cfnlint_id": r.cfnlint_id,
                    "severity": r.severity,
                    "kind": r.kind,
                    "title": r.title,
                    "url": RULES_URL,
                }
                for k, r in rules.items()
            ]
        )

    def plan(self, plans: list[FunctionPlan], template: str, config_env: str | None) -> None:
        self._print(
            {"template": template, "config_env": config_env, "functions": [p.as_dict() for p in plans]}
        )

    def timing(self, report: TimingReport, svg: str | None) -> None:
        self._print(report.as_dict())

    def verdict(self, verdict: Verdict) -> None:
        self._print(verdict.as_dict())

    @contextlib.contextmanager
    def watching(self, deployment_id: str) -> Iterator[Callable[[Snapshot], None]]:
        yield lambda s: self._print(s.as_dict(), indent=None)

    def watched(self, final: Snapshot) -> None:
        return None

    def no_deployment(self, stack: str, since: datetime) -> None:
        self._print(
            {"stack": stack, "since": since.isoformat(), "deployment_id": None, "status": None}, indent=None
        )

    def route(self, result: RouteResult) -> None:
        self._print(dict(result), indent=None)

    def versions(self, functions: list[FunctionVersions]) -> None:
        self._print([f.as_dict() for f in functions])

    def drill_update(self, snapshot: Snapshot) -> None:
        return None

    def drill(self, result: DrillResult) -> None:
        self._print(result.as_dict(), indent=None)

    def rehearsal_start(self, options: RehearsalOptions) -> None:
        return None

    def rehearsal_event(self, event: TimelineEvent) -> None:
        return None

    def rehearsal(self, report: dict[str, Any]) -> None:
        self._print(report)


SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _relative(path: str) -> str:
    """A repository-relative URI when the file is under the working directory (code scanning wants that)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return resolved.as_posix()


class SarifOutput(JsonOutput):
    """SARIF 2.1.0 for `check` (GitHub code scanning); every other result as JSON."""

    def findings(self, items: list[Finding], template: str) -> None:
        from safedeploy import version
        from safedeploy.rules.registry import RULES

        rules: dict[str, dict[str, Any]] = {}
        results = []
        for f in items:
            rules.setdefault(
                f.rule,
                {
                    "id": f.rule,
                    "shortDescription": {"text": RULES[f.rule].title if f.rule in RULES else f.rule},
                    "defaultConfiguration": {"level": SARIF_LEVEL.get(f.severity, "warning")},
                    "helpUri": RULES_URL,
                },
            )
            results.append(
                {
                    "ruleId": f.rule,
                    "level": SARIF_LEVEL.get(f.severity, "warning"),
                    "message": {"text": f.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": _relative(f.file or template)},
                                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
                            },
                            "logicalLocations": [{"name": f.resource, "kind": "resource"}],
                        }
                    ],
                }
            )
        self._print(
            {
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {
                            "driver": {
                                "name": "safedeploy",
                                "version": version(),
                                "informationUri": "https://github.com/safe-deploy/safe-deploy",
                                "rules": list(rules.values()),
                            }
                        },
                        "results": results,
                    }
                ],
            }
        )


class TextOutput:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def _header(self, text: str) -> None:
        """A section header; a rule only where it cannot cut the text short."""
        if len(text) + 6 <= self.console.width:
            self.console.rule(text, align="left")
        else:
            self.console.print(f"[bold]{text}[/]")

    # ------------------------------------------------------------ check
    def findings(self, items: list[Finding], template: str) -> None:
        console = self.console
        if not items:
            console.print(f"[green]✓[/] {template}: no safe-deployment findings")
            return
        table = Table(title=f"safedeploy check {template}", show_lines=False)
        for col in ("rule", "severity", "resource", "message"):
            table.add_column(col, overflow="fold")
        for f in items:
            where = f"{f.resource}\n[dim]{_relative(f.file)}:{f.line}[/]" if f.file else f.resource
            table.add_row(f.rule, f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", where, f.message)
        console.print(table)
        counts = {level: sum(f.severity == level for f in items) for level in ("error", "warning", "info")}
        console.print(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")

    def rules(self, rules: dict[str, Rule]) -> None:
        table = Table(title="safedeploy check rules", show_lines=False)
        for col in ("rule", "cfn-lint", "severity", "finding on", "what it finds"):
            table.add_column(col, overflow="fold")
        for rule_id, r in rules.items():
            table.add_row(
                rule_id, r.cfnlint_id, f"[{SEVERITY_STYLE[r.severity]}]{r.severity}[/]", r.kind, r.title
            )
        self.console.print(table)
        self.console.print(f"details: {RULES_URL}")

    # ------------------------------------------------------------ plan
    def plan(self, plans: list[FunctionPlan], template: str, config_env: str | None) -> None:
        """Laid out for 80 columns: short lines, and gate alarms named in full, grouped by the
        (nested) template that defines them, so that no name is cut."""
        console = self.console
        console.print(f"[bold]plan for {template}" + (f" ({config_env})" if config_env else "") + "[/]")
        for p in plans:
            self._header(f"{p.function} → alias {p.alias} · {p.deployment_type}")
            pre = p.pre_traffic_hook
            timeout = f" (timeout {_minutes(pre.timeout_s)})" if pre and pre.timeout_s else ""
            console.print(f"  ① BeforeAllowTraffic: {pre.name if pre else '[yellow]none[/]'}{timeout}")
            console.print("       smoke cases on the new version, 0 % traffic")
            for step in p.steps:
                filled = round(step.percent / 100 * PLAN_BAR)
                bar = "█" * filled + "░" * (PLAN_BAR - filled)
                until = f"for {_minutes(step.until_s - step.at_s)}" if step.until_s is not None else "final"
                count = len(step.can_stop_here)
                if step.until_s is None:
                    stops = "post-traffic hook, judge"
                elif count:
                    stops = f"{count} gate(s) can stop it"
                else:
                    stops = "[yellow]no gate can fire before 100 %[/]"
                console.print(
                    f"  t+{_minutes(step.at_s):>8}  {bar} {step.percent:5.1f} %  {until:<12} {stops}"
                )
            post = p.post_traffic_hook
            console.print(f"  ② AfterAllowTraffic: {post.name if post else '[yellow]none[/]'}")
            console.print("       API end to end, gate alarms, canary judge")
            self._plan_gates(p)
            if p.first_window_possible is False:
                console.print(
                    f"  [yellow]no gate on 1-minute metrics fits the first {_minutes(p.first_window_s)} "
                    f"step (fastest {_minutes(p.fastest_possible_gate_s)})[/]"
                )
            if p.schedule_note:
                for line in textwrap.wrap(p.schedule_note, max(console.width - 4, 40)):
                    console.print(f"  [dim]{line}[/]", highlight=False)
            console.print(
                f"  shift {_minutes(p.shift_s)}; at most {_minutes(p.total_max_s)} if a hook keeps failing"
            )
            console.print("  (3 tries by Lambda, then its dead-letter queue or CodeDeploy's hour)")

    def _plan_gates(self, p: FunctionPlan) -> None:
        console = self.console
        for where, gates in _grouped(p.alarms).items():
            if console.width < PLAN_WIDTH:  # one gate per line, nothing to squeeze
                console.print(f"  gate alarms {where}:")
                for name, a in gates:
                    detail = (
                        f"{a.period_s} s, {a.datapoints_to_alarm or a.evaluation_periods}/"
                        f"{a.evaluation_periods}, worst case {_minutes(a.detection_s)}, {a.fits}"
                        if a.timed
                        else "not in template"
                    )
                    console.print(f"    {name}: {detail}")
                continue
            table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
            table.add_column(f"  gate alarms {where}", no_wrap=True)
            for col in ("period", "points", "worst case", "fits"):
                table.add_column(col, no_wrap=True)
            for name, a in gates:
                if a.timed:
                    points = f"{a.datapoints_to_alarm or a.evaluation_periods}/{a.evaluation_periods}"
                    style = FIT_STYLE.get(a.fits or "", "")
                    fits = f"[{style}]{a.fits}[/]" if style else str(a.fits)
                    table.add_row(f"    {name}", f"{a.period_s} s", points, _minutes(a.detection_s), fits)
                else:
                    table.add_row(f"    {name}", "?", "?", "?", "[yellow]not in template[/]")
            console.print(table)
            if any(a.timed for _, a in gates):
                console.print("    [dim]worst case: a period of alignment + the breaching periods[/]")
                console.print(
                    f"    [dim]+ {VISIBILITY_S} s visibility + evaluation ({HIGH_RESOLUTION_EVALUATION_S} s,"
                    f" or {STANDARD_EVALUATION_S} s from 60-s periods)[/]"
                )
                console.print(
                    f"    [dim]+ {CODEDEPLOY_POLL_S} s CodeDeploy poll (assumed); JSON: `detection` parts[/]"
                )
        guarded = [a for a in p.alarms if a.min_total_rps is not None]
        if guarded and p.steps:
            share = p.steps[0].percent
            console.print(f"  traffic each gate needs to fire at {share:g} % (its invocation guard):")
            for a in guarded:
                name = a.resource.split("/")[-1]
                line = f"    {name}: {a.min_total_rps:g} requests/s ({a.guard} per {a.period_s} s)"
                if a.fires_at_rps is False:
                    line += " [yellow]— not met at --rps[/]"
                console.print(line)

    # ------------------------------------------------------------ timing
    def timing(self, report: TimingReport, svg: str | None) -> None:
        if not svg and self.console.width < SVG_WIDTH:
            self._timing_narrow(report)
            return
        console = Console(highlight=False, record=True, width=SVG_WIDTH) if svg else self.console
        # One column per kind of gate: the same gate in several alarm packs has the same timing.
        columns: dict[str, list[str]] = {}
        for alarm, detect in report.detection_s.items():
            columns.setdefault(f"{alarm.split('/')[-1]}\n{detect} s", []).append(alarm)
        table = Table(
            title="worst-case gate detection vs. bake windows"
            " (first-step / whole-shift / after-shift / never)"
        )
        table.add_column("deployment type", no_wrap=True)
        table.add_column("first step", justify="right")
        table.add_column("shift", justify="right")
        for header in columns:
            table.add_column(header, no_wrap=True)
        for row in report.types:
            cells = [f"[{FIT_STYLE[row.alarms[a[0]]]}]{row.alarms[a[0]]}[/]" for a in columns.values()]
            table.add_row(row.deployment_type, f"{row.first_window_s} s", f"{row.shift_s} s", *cells)
        console.print(table)
        console.print(f"{_fastest(report.fastest_1min_gate_s)}: no such alarm fits a 1-minute linear step.")
        if svg:
            Path(svg).parent.mkdir(parents=True, exist_ok=True)
            console.save_svg(svg, title="safedeploy timing")

    def _timing_narrow(self, report: TimingReport) -> None:
        """The same table for a narrow terminal: one block per worst-case time (gates with the same
        worst case fit the same windows), every gate and type named in full."""
        console = self.console
        console.print("[bold]worst-case gate detection vs. bake windows[/]")
        by_time: dict[int, list[str]] = {}
        for alarm, detect in report.detection_s.items():
            name = alarm.split("/")[-1]
            if name not in by_time.setdefault(detect, []):
                by_time[detect].append(name)
        for detect, names in sorted(by_time.items()):
            console.print(f"  {detect} s worst case: {', '.join(names)}", overflow="fold")
            alarm = next(a for a, d in report.detection_s.items() if d == detect)
            for row in report.types:
                where = row.alarms[alarm]
                console.print(
                    f"    {row.deployment_type:<30} first step {row.first_window_s:>5} s  "
                    f"[{FIT_STYLE[where]}]{where}[/]"
                )
        console.print(f"{_fastest(report.fastest_1min_gate_s)}: none fits a 1-minute linear step.")

    # ------------------------------------------------------------ judge
    def verdict(self, verdict: Verdict) -> None:
        console = self.console
        console.print(
            f"Canary verdict: [{RESULT_STYLE[verdict.verdict]}]{verdict.verdict}[/] — {verdict.reason}"
        )
        if not verdict.metrics:
            return
        table = Table()
        for col in ("metric", "baseline", "canary", "effect", "p-value", "result", "reason"):
            table.add_column(col)

        def fmt(x: float | None, d: int = 2) -> str:
            return "–" if x is None else f"{x:.{d}f}"

        for m in verdict.metrics:
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

    # ------------------------------------------------------------ watch
    @contextlib.contextmanager
    def watching(self, deployment_id: str) -> Iterator[Callable[[Snapshot], None]]:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f} %"),
            TextColumn("{task.fields[detail]}"),
            console=self.console,
        ) as progress:
            task = progress.add_task(f"{deployment_id}", total=100, detail="")

            def show(s: Snapshot) -> None:
                hooks = " ".join(f"{k}:{v}" for k, v in s.hooks.items() if k != "AllowTraffic")
                alarms = sum(v == "ALARM" for v in s.alarms.values())
                left = f"~{s.left_s / 60:.1f} min left" if s.left_s is not None else ""
                versions = f"v{s.current_version}→v{s.target_version}"
                progress.update(
                    task,
                    completed=s.traffic_pct,
                    description=f"{s.function or deployment_id} {versions} {s.status}",
                    detail=f"{hooks} alarms in ALARM: {alarms}/{len(s.alarms)} {left}{_counts(s)}",
                )

            yield show

    def watched(self, final: Snapshot) -> None:
        if final.metrics.get("until"):
            self.console.print(f"CloudWatch, whole minutes to {final.metrics['until']}{_counts(final)}")
        verdict = (
            "[green]succeeded[/]" if final.status == "Succeeded" else f"[bold red]{final.status.lower()}[/]"
        )
        self.console.print(
            f"deployment {final.deployment_id} {verdict}"
            + (f": {final.reason}" if final.reason else "")
            + (" — traffic rolled back to the previous version" if final.rolled_back else "")
        )

    def no_deployment(self, stack: str, since: datetime) -> None:
        self.console.print(
            f"stack {stack}: no deployment started since {since.isoformat()} (no new version was published)"
        )

    # ------------------------------------------------------------ route
    def route(self, result: RouteResult) -> None:
        self.console.print(
            f"{result['function']}:{result['alias']}" + (" updated" if result["changed"] else "")
        )
        for v, w in sorted(result["weights"].items(), key=lambda kv: -kv[1]):
            self.console.print(f"  version {v:>4}  {'█' * round(w / 5):<20} {w:6.2f} %")

    # ------------------------------------------------------------ versions
    def versions(self, functions: list[FunctionVersions]) -> None:
        console = self.console
        for f in functions:
            self._header(f"{f.function} ({f.name}) · alias {f.alias}")
            for v in f.versions:
                share = f.weights.get(v.version)
                where = f"{share:6.2f} % on {f.alias}" if share is not None else "not on the alias"
                newest = "  (newest)" if v.version == f.newest else ""
                console.print(f"  [bold]v{v.version}[/]  {where}{newest}")
                console.print(
                    f"      {v.runtime} · {v.memory_mb} MB · {v.timeout_s} s · {'/'.join(v.architectures)}"
                    f" · code {str(v.code_sha256)[:12]}"
                )
                console.print(f"      role {v.role}", overflow="fold")
                if v.layers:
                    console.print(f"      layers {', '.join(v.layers)}", overflow="fold")
                if v.environment:
                    console.print(
                        f"      env {', '.join(f'{k}={val}' for k, val in v.environment.items())}",
                        overflow="fold",
                    )
            if f.changes:
                console.print(f"  changed from v{f.primary} (primary on {f.alias}) to v{f.newest}:")
                for c in f.changes:
                    console.print(f"      {c.field}: {c.live} → {c.newest}", overflow="fold")
            elif f.newest and f.newest in f.weights:
                console.print(f"  the newest version, v{f.newest}, is on {f.alias}")

    # ------------------------------------------------------------ drill
    def drill_update(self, snapshot: Snapshot) -> None:
        self.console.print(
            f"  {snapshot.status:<10} traffic on v{snapshot.target_version}: {snapshot.traffic_pct:5.1f} %  "
            f"{' '.join(f'{k}:{v}' for k, v in snapshot.hooks.items())}"
        )

    def drill(self, result: DrillResult) -> None:
        if result.rolled_back:
            self.console.print(
                f"[green]rollback proven[/]: {result.deployment_id} {result.status.lower()} after "
                f"{result.detection_s:.0f} s ({result.reason}); alias back on v{result.restored_version}"
            )
        else:
            self.console.print(
                f"[bold red]NO ROLLBACK[/]: deployment {result.deployment_id} {result.status}; the faulty "
                f"v{result.faulty_version} was live; alias restored to v{result.restored_version}"
            )
        if result.undone:
            self.console.print(f"  clean-up: {', '.join(result.undone)}")
        for item in result.left:
            self.console.print(f"  [bold red]left:[/] {item}")

    # ------------------------------------------------------------ rehearse
    def rehearsal_start(self, options: RehearsalOptions) -> None:
        self.console.print(
            f"[bold]rehearsal[/] of {options.function or 'its function'} in {options.template}: "
            f"fault={options.fault} "
            f"rate={options.fault_rate:g} % speed={options.speed:g}x"
        )

    def rehearsal_event(self, event: TimelineEvent) -> None:
        minutes, seconds = divmod(int(event.t_s), 60)
        style = TIMELINE_STYLE.get(event.kind, "")
        self.console.print(f"  [dim]t+{minutes:02d}:{seconds:02d}[/] [{style}]{event.message}[/]")

    def rehearsal(self, report: dict[str, Any]) -> None:
        console, req = self.console, report["requests"]
        console.print(
            f"[bold]outcome:[/] {report['outcome']} (expected: {report['expected']})"
            + (f"; caught by {report['caught_by']}" if report["caught_by"] else "")
        )
        if report["caught_by"] == "pre-traffic hook":
            console.print("  caught before any user traffic: 0 requests reached the bad version")
        elif report["detection_s"] is not None:
            console.print(
                f"  detection: {report['detection_s']:.0f} s (simulated) from the first faulty answer to "
                f"rollback; {req['faulty']} faulty answers out of {req['new_version']} requests on "
                f"v{report['new_version']}"
            )
        console.print(
            f"  {req['total']} requests in {report['simulated_s']:.0f} simulated s, {report['wall_s']} s wall"
        )
        for refused in report.get("refused_calls", []):
            console.print(f"  [bold red]refused:[/] {escape(refused['message'])}")
        for note in report.get("notes", []):
            console.print(f"  [yellow]note:[/] {escape(note)}")


def _counts(s: Snapshot) -> str:
    """` · new 12/1 err, old 108/0` from what CloudWatch has (watch's `metrics`), else ``."""
    m = s.metrics
    if "unavailable" in m:
        return " · metrics unavailable"
    if not m.get("until"):
        return ""
    new, old = m["new"], m["old"]
    return f" · new {new['calls']} calls/{new['errors']} err, old {old['calls']}/{old['errors']}"
