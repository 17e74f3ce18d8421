"""Every rendering of results: text for people (rich) and JSON for machines. Commands hand their
results (dataclasses and plain data) to one `Output`; nothing else prints."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text
from safedeploy_core.timing import assumptions

from safedeploy.cli import strict_json
from safedeploy.cli.cost_text import print_cost
from safedeploy.cli.inert import GuardedStream, one_line
from safedeploy.cli.inert import value as v

if TYPE_CHECKING:  # the results' types only: rendering must not load what a command does not use
    from safedeploy_core.judge import Verdict

    from safedeploy.live.drill import DrillResult
    from safedeploy.live.prune import PruneReport
    from safedeploy.live.rollback import RollbackResult
    from safedeploy.live.route import RouteResult
    from safedeploy.live.versions import StackVersions
    from safedeploy.live.watch import Snapshot
    from safedeploy.offline.engine import TimelineEvent
    from safedeploy.planning.cost import CostReport
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
    figures = assumptions()
    return (
        f"fastest possible gate on 1-minute Lambda metrics: {seconds} s at worst, nominal (the fault's "
        f"first minute + one datapoint + {figures.visibility_s} s metric delay + "
        f"{figures.poll_s} s CodeDeploy poll, both assumed)"
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
    def plan(
        self,
        plans: list[FunctionPlan],
        template: str,
        config_env: str | None,
        cost: CostReport | None = None,
    ) -> None: ...
    def timing(self, report: TimingReport, svg: str | None) -> None: ...
    def verdict(self, verdict: Verdict) -> None: ...
    def watching(
        self, deployment_id: str
    ) -> contextlib.AbstractContextManager[Callable[[Snapshot], None]]: ...
    def watched(self, final: Snapshot) -> None: ...
    def no_deployment(self, stack: str, since: datetime) -> None: ...
    def route(self, result: RouteResult) -> None: ...
    def versions(self, result: StackVersions) -> None: ...
    def drill_update(self, snapshot: Snapshot) -> None: ...
    def drill(self, result: DrillResult) -> None: ...
    def prune_plan(self, report: PruneReport) -> None: ...
    def prune(self, report: PruneReport) -> None: ...
    def rollback_update(self, snapshot: Snapshot) -> None: ...
    def rollback(self, result: RollbackResult) -> None: ...
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
        print(strict_json.dumps(document, indent=indent))

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

    def plan(
        self,
        plans: list[FunctionPlan],
        template: str,
        config_env: str | None,
        cost: CostReport | None = None,
    ) -> None:
        document: dict[str, Any] = {
            "template": template,
            "config_env": config_env,
            "functions": [p.as_dict() for p in plans],
        }
        if cost is not None:
            document["cost"] = cost.as_dict()
        self._print(document)

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

    def versions(self, result: StackVersions) -> None:
        self._print(result.as_dict())

    def drill_update(self, snapshot: Snapshot) -> None:
        return None

    def drill(self, result: DrillResult) -> None:
        self._print(result.as_dict(), indent=None)

    def prune_plan(self, report: PruneReport) -> None:
        pass  # one document at the end

    def prune(self, report: PruneReport) -> None:
        self._print(report.as_dict())

    def rollback_update(self, snapshot: Snapshot) -> None:
        pass

    def rollback(self, result: RollbackResult) -> None:
        self._print(result.as_dict())

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
        # Every line through the guard: no line of the output can start a CI workflow command
        self.console = console or Console(highlight=False, file=GuardedStream())  # type: ignore[arg-type]

    def _header(self, text: str) -> None:
        """A section header; a rule only where it cannot cut the text short."""
        if len(text) + 6 <= self.console.width:
            self.console.rule(Text(text), align="left")
        else:
            self.console.print(Text(text, style="bold"))

    # ------------------------------------------------------------ check
    def findings(self, items: list[Finding], template: str) -> None:
        console = self.console
        if not console.is_terminal:  # a pipe or a file: one line per finding, for editors and grep
            from safedeploy.cli.findings_text import finding_lines

            for line in finding_lines(items, template):
                console.out(line, highlight=False)
            return
        if not items:
            console.print(f"[green]✓[/] {v(template)}: no safe-deployment findings")
            return
        table = Table(title=Text(f"safedeploy check {one_line(template)}"), show_lines=False)
        for col in ("rule", "severity", "resource", "message"):
            table.add_column(col, overflow="fold")
        for f in items:
            where = f"{v(f.resource)}\n[dim]{v(_relative(f.file))}:{f.line}[/]" if f.file else v(f.resource)
            table.add_row(v(f.rule), f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", where, v(f.message))
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
    def plan(
        self,
        plans: list[FunctionPlan],
        template: str,
        config_env: str | None,
        cost: CostReport | None = None,
    ) -> None:
        """Laid out for 80 columns: short lines, and gate alarms named in full, grouped by the
        (nested) template that defines them, so that no name is cut."""
        console = self.console
        console.print(f"[bold]plan for {v(template)}" + (f" ({v(config_env)})" if config_env else "") + "[/]")
        for p in plans:
            self._header(one_line(f"{p.function} → alias {p.alias} · {p.deployment_type}"))
            pre = p.pre_traffic_hook
            timeout = f" (timeout {_minutes(pre.timeout_s)})" if pre and pre.timeout_s else ""
            console.print(f"  ① BeforeAllowTraffic: {v(pre.name) if pre else '[yellow]none[/]'}{timeout}")
            console.print("       smoke cases on the new version, 0 % traffic")
            for index, step in enumerate(p.steps):
                if index == len(p.steps) - 1 and p.step_count and p.step_count > len(p.steps):
                    console.print(f"  … {p.step_count - len(p.steps):,} more steps, not listed")
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
            console.print(f"  ② AfterAllowTraffic: {v(post.name) if post else '[yellow]none[/]'}")
            console.print("       API end to end, gate alarms, canary judge")
            self._plan_gates(p)
            if p.first_window_possible is False:
                console.print(
                    f"  [yellow]no gate on 1-minute metrics fits the first {_minutes(p.first_window_s)} "
                    f"step (fastest {_minutes(p.fastest_possible_gate_s)})[/]"
                )
            if p.schedule_note:
                for line in textwrap.wrap(one_line(p.schedule_note), max(console.width - 4, 40)):
                    console.print(f"  [dim]{v(line)}[/]", highlight=False)
            console.print(
                f"  shift {_minutes(p.shift_s)}; at most {_minutes(p.total_max_s)} if a hook keeps failing"
            )
            console.print("  (3 tries by Lambda, then its dead-letter queue or CodeDeploy's hour)")
        if cost is not None:
            print_cost(console, cost)

    def _plan_gates(self, p: FunctionPlan) -> None:
        console = self.console
        for where, gates in _grouped(p.alarms).items():
            if console.width < PLAN_WIDTH:  # one gate per line, nothing to squeeze
                console.print(f"  gate alarms {v(where)}:")
                for name, a in gates:
                    detail = (
                        f"{a.period_s} s, {a.datapoints_to_alarm or a.evaluation_periods}/"
                        f"{a.evaluation_periods}, nominal worst {_minutes(a.detection_s)}, {a.fits}"
                        if a.timed
                        else "not in template"
                    )
                    console.print(f"    {v(name)}: {v(detail)}")
                continue
            table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
            table.add_column(Text(f"  gate alarms {one_line(where)}"), no_wrap=True)
            for col in ("period", "points", "nominal worst", "fits"):
                table.add_column(col, no_wrap=True)
            for name, a in gates:
                if a.timed:
                    points = f"{a.datapoints_to_alarm or a.evaluation_periods}/{a.evaluation_periods}"
                    style = FIT_STYLE.get(a.fits or "", "")
                    fits = f"[{style}]{v(a.fits)}[/]" if style else v(a.fits)
                    table.add_row(f"    {v(name)}", f"{a.period_s} s", points, _minutes(a.detection_s), fits)
                else:
                    table.add_row(f"    {v(name)}", "?", "?", "?", "[yellow]not in template[/]")
            console.print(table)
            if any(a.timed for _, a in gates):
                figures = assumptions()
                console.print(
                    "    [dim]nominal worst: the fault's first step lost + the breaching periods[/]"
                )
                console.print(
                    f"    [dim]+ {figures.visibility_s} s metric delay + wait for the evaluation + "
                    f"{figures.poll_s} s CodeDeploy poll[/]"
                )
                console.print(
                    "    [dim](both assumed: --metric-delay, --alarm-poll); JSON: best case, floor[/]"
                )
        guarded = [a for a in p.alarms if a.min_total_rps is not None]
        if guarded and p.steps:
            share = p.steps[0].percent
            console.print(f"  traffic each gate needs to fire at {share:g} % (its invocation guard):")
            for a in guarded:
                name = a.resource.split("/")[-1]
                line = f"    {v(name)}: {a.min_total_rps:g} requests/s ({v(a.guard)} per {a.period_s} s)"
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
            columns.setdefault(f"{v(alarm.split('/')[-1])}\n{detect} s", []).append(alarm)
        table = Table(
            title="nominal worst-case gate detection vs. bake windows"
            " (first-step / whole-shift / after-shift / never)"
        )
        table.add_column("deployment type", no_wrap=True)
        table.add_column("first step", justify="right")
        table.add_column("shift", justify="right")
        for header in columns:
            table.add_column(header, no_wrap=True)
        for row in report.types:
            cells = [f"[{FIT_STYLE[row.alarms[a[0]]]}]{row.alarms[a[0]]}[/]" for a in columns.values()]
            table.add_row(v(row.deployment_type), f"{row.first_window_s} s", f"{row.shift_s} s", *cells)
        console.print(table)
        console.print(f"{_fastest(report.fastest_1min_gate_s)}: no such alarm fits a 1-minute linear step.")
        if svg:
            Path(svg).parent.mkdir(parents=True, exist_ok=True)
            console.save_svg(svg, title="safedeploy timing")

    def _timing_narrow(self, report: TimingReport) -> None:
        """The same table for a narrow terminal: one block per worst-case time (gates with the same
        worst case fit the same windows), every gate and type named in full."""
        console = self.console
        console.print("[bold]nominal worst-case gate detection vs. bake windows[/]")
        by_time: dict[int, list[str]] = {}
        for alarm, detect in report.detection_s.items():
            name = alarm.split("/")[-1]
            if name not in by_time.setdefault(detect, []):
                by_time[detect].append(name)
        for detect, names in sorted(by_time.items()):
            console.print(f"  {detect} s nominal worst case: {v(', '.join(names))}", overflow="fold")
            alarm = next(a for a, d in report.detection_s.items() if d == detect)
            for row in report.types:
                where = row.alarms[alarm]
                console.print(
                    f"    {v(row.deployment_type):<30} first step {row.first_window_s:>5} s  "
                    f"[{FIT_STYLE[where]}]{where}[/]"
                )
        console.print(f"{_fastest(report.fastest_1min_gate_s)}: none fits a 1-minute linear step.")

    # ------------------------------------------------------------ judge
    def verdict(self, verdict: Verdict) -> None:
        console = self.console
        console.print(
            f"Canary verdict: [{RESULT_STYLE[verdict.verdict]}]{verdict.verdict}[/] — {v(verdict.reason)}"
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
                v(m.name),
                fmt(m.baseline),
                fmt(m.canary),
                fmt(m.effect),
                fmt(m.p_value, 4),
                f"[{RESULT_STYLE[m.result]}]{m.result}[/]",
                v(m.reason),
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
            task = progress.add_task(v(deployment_id), total=100, detail="")

            def show(s: Snapshot) -> None:
                hooks = " ".join(f"{k}:{v}" for k, v in s.hooks.items() if k != "AllowTraffic")
                alarms = sum(v == "ALARM" for v in s.alarms.values())
                left = f"~{s.left_s / 60:.1f} min left" if s.left_s is not None else ""
                versions = f"v{s.current_version}→v{s.target_version}"
                progress.update(
                    task,
                    completed=s.traffic_pct,
                    description=v(f"{s.function or deployment_id} {versions} {s.status}"),
                    detail=v(f"{hooks} alarms in ALARM: {alarms}/{len(s.alarms)} {left}{_counts(s)}"),
                )

            yield show

    def watched(self, final: Snapshot) -> None:
        if final.metrics.get("until"):
            self.console.print(v(f"CloudWatch, whole minutes to {final.metrics['until']}{_counts(final)}"))
        verdict = (
            "[green]succeeded[/]"
            if final.status == "Succeeded"
            else f"[bold red]{v(final.status.lower())}[/]"
        )
        self.console.print(
            f"deployment {v(final.deployment_id)} {verdict}"
            + (f": {v(final.reason)}" if final.reason else "")
            + (" — traffic rolled back to the previous version" if final.rolled_back else "")
        )

    def no_deployment(self, stack: str, since: datetime) -> None:
        self.console.print(
            f"stack {v(stack)}: no deployment started since {since.isoformat()} "
            "(no new version was published)"
        )

    # ------------------------------------------------------------ route
    def route(self, result: RouteResult) -> None:
        self.console.print(
            v(f"{result['function']}:{result['alias']}") + (" updated" if result["changed"] else "")
        )
        for version, w in sorted(result["weights"].items(), key=lambda kv: -kv[1]):
            self.console.print(f"  version {v(version):>4}  {'█' * round(w / 5):<20} {w:6.2f} %")

    # ------------------------------------------------------------ versions
    def versions(self, result: StackVersions) -> None:
        console = self.console
        for f in result.functions:
            self._header(one_line(f"{f.function} ({f.name}) · alias {f.alias}"))
            for ver in f.versions:
                share = f.weights.get(ver.version)
                where = f"{share:6.2f} % on {f.alias}" if share is not None else "not on the alias"
                newest = "  (newest)" if ver.version == f.newest else ""
                console.print(f"  [bold]v{v(ver.version)}[/]  {v(where)}{newest}")
                console.print(
                    v(
                        f"      {ver.runtime} · {ver.memory_mb} MB · {ver.timeout_s} s · "
                        f"{'/'.join(ver.architectures)} · code {str(ver.code_sha256)[:12]}"
                        + (f" · {_size(ver.code_size)}" if ver.code_size is not None else "")
                    )
                )
                console.print(f"      role {v(ver.role)}", overflow="fold")
                if ver.layers:
                    console.print(f"      layers {v(', '.join(ver.layers))}", overflow="fold")
                if ver.environment:
                    console.print(
                        f"      env {v(', '.join(f'{k}={val}' for k, val in ver.environment.items()))}",
                        overflow="fold",
                    )
            if f.changes:
                console.print(v(f"  changed from v{f.primary} (primary on {f.alias}) to v{f.newest}:"))
                for c in f.changes:
                    console.print(v(f"      {c.field}: {c.live} → {c.newest}"), overflow="fold")
            elif f.newest and f.newest in f.weights:
                console.print(v(f"  the newest version, v{f.newest}, is on {f.alias}"))
            if f.published:
                console.print(
                    v(
                        f"  {len(f.published)} published version(s), {_size(f.published_bytes)}: "
                        + ", ".join(f"v{n} {_size(size)}" for n, size in f.published.items())
                    ),
                    overflow="fold",
                )
        storage = result.code_storage
        if "unavailable" in storage:
            console.print(f"account code storage: unavailable ({v(storage['unavailable'])})", overflow="fold")
        else:
            used, limit = storage["used"], storage["limit"]
            console.print(
                f"account code storage: {_size(used)} of {_size(limit)} ({100 * used / max(limit, 1):.1f} %)"
            )

    # ------------------------------------------------------------ drill
    def drill_update(self, snapshot: Snapshot) -> None:
        self.console.print(
            v(
                f"  {snapshot.status:<10} traffic on v{snapshot.target_version}: "
                f"{snapshot.traffic_pct:5.1f} %  {' '.join(f'{k}:{s}' for k, s in snapshot.hooks.items())}"
            )
        )

    def drill(self, result: DrillResult) -> None:
        if result.rolled_back:
            self.console.print(
                f"[green]rollback proven[/]: {v(result.deployment_id)} {v(result.status.lower())} after "
                f"{result.detection_s:.0f} s ({v(result.reason)}); "
                f"alias back on v{v(result.restored_version)}"
            )
        else:
            self.console.print(
                f"[bold red]NO ROLLBACK[/]: deployment {v(result.deployment_id)} {v(result.status)}; "
                "the faulty "
                f"v{v(result.faulty_version)} was live; alias restored to v{v(result.restored_version)}"
            )
        if result.undone:
            self.console.print(f"  clean-up: {v(', '.join(result.undone))}")
        for item in result.left:
            self.console.print(f"  [bold red]left:[/] {v(item)}")

    # ------------------------------------------------------------ prune
    def prune_plan(self, report: PruneReport) -> None:
        console = self.console
        for d in report.decisions:
            self._header(one_line(f"{d.function}: keep {len(d.keep)}, delete {len(d.delete)}"))
            for version, reasons in d.keep.items():
                console.print(f"  keep   v{v(version):<5} {v('; '.join(reasons))}", overflow="fold")
            for gone in d.delete:
                console.print(f"  [red]delete[/] v{v(gone.version):<5} {_size(gone.code_size)}")
        used, limit, freed = report.storage.used, report.storage.limit, report.bytes_to_free
        console.print(
            f"code storage: {_size(used)} of {_size(limit)} used; deleting frees {_size(freed)}"
            f" ({_size(used - freed)} after)"
            + ("  [dim](dry run: nothing changed)[/]" if report.dry_run else "")
        )

    def prune(self, report: PruneReport) -> None:
        console = self.console
        for o in report.outcomes:
            line = f"{o.function}: deleted {len(o.deleted)} ({_size(o.bytes_freed)})"
            if o.already_gone:
                line += f", already gone {', '.join(o.already_gone)}"
            if o.kept_meanwhile:
                line += f", kept (an alias moved onto them) {', '.join(o.kept_meanwhile)}"
            console.print(v(line))
            if o.stopped:
                console.print(
                    "  [bold red]stopped:[/] "
                    + v(
                        f"{o.stopped}; not started: {', '.join(o.not_started) or 'none'}"
                        + (f"; done: {', '.join(o.deleted)}" if o.deleted else "")
                    )
                )

    # ------------------------------------------------------------ rollback
    def rollback_update(self, snapshot: Snapshot) -> None:
        self.drill_update(snapshot)

    def rollback(self, result: RollbackResult) -> None:
        console = self.console
        if result.status == "Succeeded":
            console.print(
                "[green]rolled back[/]: "
                + v(
                    f"{result.alias} of {result.function} now on v{result.target_version} "
                    f"(was v{result.from_version}), deployment {result.deployment_id}"
                )
            )
        else:
            console.print(
                f"[bold red]rollback {v(result.status.lower())}[/]: "
                + v(
                    f"deployment {result.deployment_id} ({result.reason or 'no reason given'}); "
                    f"{result.alias} is on v{result.alias_version}"
                )
            )
        for line in result.notes:
            console.print(f"  {v(line)}", overflow="fold")

    # ------------------------------------------------------------ rehearse
    def rehearsal_start(self, options: RehearsalOptions) -> None:
        self.console.print(
            f"[bold]rehearsal[/] of {v(options.function or 'its function')} in {v(options.template)}: "
            f"fault={options.fault} "
            f"rate={options.fault_rate:g} % speed={options.speed:g}x"
        )

    def rehearsal_event(self, event: TimelineEvent) -> None:
        minutes, seconds = divmod(int(event.t_s), 60)
        style = TIMELINE_STYLE.get(event.kind, "")
        self.console.print(f"  [dim]t+{minutes:02d}:{seconds:02d}[/] [{style}]{v(event.message)}[/]")

    def rehearsal(self, report: dict[str, Any]) -> None:
        console, req = self.console, report["requests"]
        console.print(
            f"[bold]outcome:[/] {v(report['outcome'])} (expected: {v(report['expected'])})"
            + (f"; caught by {v(report['caught_by'])}" if report["caught_by"] else "")
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


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _counts(s: Snapshot) -> str:
    """` · new 12/1 err, old 108/0` from what CloudWatch has (watch's `metrics`), else ``."""
    m = s.metrics
    if "unavailable" in m:
        return " · metrics unavailable"
    if not m.get("until"):
        return ""
    new, old = m["new"], m["old"]
    return f" · new {new['calls']} calls/{new['errors']} err, old {old['calls']}/{old['errors']}"
