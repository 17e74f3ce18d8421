"""What the kit's machinery costs, from the translated template: per protected function and for the
stack, the standing monthly cost, the cost of one deployment and the part that grows with traffic.

Counted, not guessed: every alarm the template (and its nested applications) creates with the
parameters in force, by resolution and by the metrics it reads (CloudWatch bills a metric-math alarm
per metric it reads); composite alarms; dashboards beyond the account's free ones; each schedule's
invocations. What the code does is taken from the code: the metrics a step-judge look requests
(`safedeploy_core.metrics`), and that a run with no deployment in progress reads none. What cannot be
counted (how long a run takes, how big a log line is) is an assumption, named with its value in
`prices.ASSUMPTIONS`. Prices: `prices.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from safedeploy_core.metrics import EmfSource, metrics_per_look, threshold_metrics
from safedeploy_core.timing import STEP_LOOK_S

from safedeploy.planning.prices import GIB, HOURS_PER_MONTH, PriceBook
from safedeploy.template.deployments import FunctionDeployment, HookRef, deployments
from safedeploy.template.scope import Scope

MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
_RATE = re.compile(r"^\s*rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)\s*$")
_RATE_MINUTES = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}


@dataclass(frozen=True)
class Line:
    """One priced item: `quantity` units at `unit_usd` each."""

    what: str
    quantity: float
    unit: str
    unit_usd: float
    price: str  # the key in the price book (or "lambda" lines: the GB-second key)

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "quantity": round(self.quantity, 6),
            "unit": self.unit,
            "unit_usd": self.unit_usd,
            "price": self.price,
            "usd": round(self.usd, 6),
        }


@dataclass(frozen=True)
class Part:
    lines: list[Line] = field(default_factory=list)

    @property
    def usd(self) -> float:
        return sum(line.usd for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {"usd": round(self.usd, 6), "lines": [line.as_dict() for line in self.lines]}


@dataclass(frozen=True)
class FunctionCost:
    function: str
    standing: Part  # per month, before any traffic
    # per month once the function serves traffic, whatever the volume: custom metrics are billed for
    # the hours they receive data (CloudWatch pricing, Metrics)
    with_traffic: Part
    per_deployment: Part
    per_million_requests: Part
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "standing_per_month": self.standing.as_dict(),
            "with_traffic_per_month": self.with_traffic.as_dict(),
            "per_deployment": self.per_deployment.as_dict(),
            "per_million_requests": self.per_million_requests.as_dict(),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class CostReport:
    book: PriceBook
    functions: list[FunctionCost]
    stack: Part  # standing, shared by the stack's functions (hooks' alarms, schedule, dashboards)
    notes: list[str] = field(default_factory=list)

    @property
    def standing_usd(self) -> float:
        return self.stack.usd + sum(f.standing.usd for f in self.functions)

    @property
    def standing_per_function_usd(self) -> float | None:
        return self.standing_usd / len(self.functions) if self.functions else None

    def as_dict(self) -> dict[str, Any]:
        per_function = self.standing_per_function_usd
        return {
            "currency": "USD",
            "standing_per_month": round(self.standing_usd, 6),
            "protected_functions": len(self.functions),
            "standing_per_protected_function": None if per_function is None else round(per_function, 6),
            "stack_standing_per_month": self.stack.as_dict(),
            "functions": [f.as_dict() for f in self.functions],
            "notes": self.notes,
            "prices": self.book.as_dict(),
        }


# ---------------------------------------------------------------- counting
@dataclass(frozen=True)
class AlarmCount:
    metrics: int
    high_resolution: bool
    note: str | None = None


def count_alarm(props: dict[str, Any]) -> AlarmCount:
    """The alarm metrics CloudWatch bills for one metric alarm (resolved Properties)."""
    if "MetricName" in props:
        period = _int(props.get("Period"))
        return AlarmCount(1, period is not None and period < 60)
    queries = props.get("Metrics")
    if not isinstance(queries, list):
        return AlarmCount(1, False, "its metrics depend on a condition left open: counted as one")
    stats = [
        q["MetricStat"] for q in queries if isinstance(q, dict) and isinstance(q.get("MetricStat"), dict)
    ]
    expressions = " ".join(str(q.get("Expression", "")) for q in queries if isinstance(q, dict)).upper()
    periods = [p for p in (_int(s.get("Period")) for s in stats) if p is not None]
    count, note = max(len(stats), 1), None
    if "ANOMALY_DETECTION_BAND" in expressions:
        count, note = 3 * count, "anomaly detection: billed as 3 alarm metrics per metric"
    if "SELECT" in expressions:
        note = "a Metrics Insights query: billed per metric it analyzes, counted as one here"
    return AlarmCount(count, any(p < 60 for p in periods), note)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _scopes(scope: Scope) -> list[Scope]:
    out = [scope]
    for child in scope.children.values():
        out += _scopes(child)
    return out


def _active(scope: Scope, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical, scope.resolve(res.get("Properties", {})))
        for logical, res in scope.resources.items()
        if res.get("Type") == kind and scope.active(logical)
    ]


def _alarm_lines(
    alarms: list[dict[str, Any]], composites: int, book: PriceBook, notes: list[str]
) -> list[Line]:
    counts = [count_alarm(p) for p in alarms]
    notes += sorted({c.note for c in counts if c.note})
    lines = []
    for high, key, label in (
        (False, "alarm_metric_standard", "standard-resolution"),
        (True, "alarm_metric_high_resolution", "high-resolution"),
    ):
        group = [c for c in counts if c.high_resolution is high]
        if group:
            metrics = sum(c.metrics for c in group)
            what = f"{len(group)} {label} alarm(s) reading {metrics} metric(s)"
            lines.append(Line(what, metrics, "alarm metric-months", book.usd(key), key))
    if composites:
        key = "composite_alarm"
        lines.append(Line(f"{composites} composite alarm(s)", composites, "alarm-months", book.usd(key), key))
    return lines


@dataclass(frozen=True)
class LambdaSize:
    memory_gb: float
    gb_second_key: str
    timeout_s: int


def _lambda_size(scope: Scope, logical: str) -> LambdaSize:
    props = scope.resolve(scope.resources.get(logical, {}).get("Properties", {}))
    memory = _int(props.get("MemorySize")) or 128
    arch = props.get("Architectures")
    arm = isinstance(arch, list) and arch[:1] == ["arm64"]
    return LambdaSize(
        memory / 1024, f"lambda_gb_second_{'arm64' if arm else 'x86_64'}", _int(props.get("Timeout")) or 3
    )


def _env(scope: Scope, logical: str) -> dict[str, Any]:
    props = scope.resolve(scope.resources.get(logical, {}).get("Properties", {}))
    variables = (props.get("Environment") or {}).get("Variables") if isinstance(props, dict) else None
    return variables if isinstance(variables, dict) else {}


@dataclass(frozen=True)
class Schedule:
    scope: Scope
    function: str  # logical ID of the target function
    every_min: float | None  # None: not a rate() expression
    expression: str


def _raw(scope: Scope, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Active resources of a kind with their Properties unresolved (a target's Fn::GetAtt kept)."""
    return [
        (logical, res.get("Properties", {}))
        for logical, res in scope.resources.items()
        if res.get("Type") == kind and scope.active(logical)
    ]


def _schedules(scope: Scope) -> list[Schedule]:
    out = []
    for _, props in _raw(scope, "AWS::Events::Rule"):
        expression = scope.resolve(props.get("ScheduleExpression"))
        if not isinstance(expression, str):
            continue
        for target in props.get("Targets") or []:
            arn = target.get("Arn") if isinstance(target, dict) else None
            if isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
                out.append(Schedule(scope, arn["Fn::GetAtt"][0], _every_min(expression), expression))
    for _, props in _raw(scope, "AWS::Scheduler::Schedule"):
        expression, target = scope.resolve(props.get("ScheduleExpression")), props.get("Target") or {}
        arn = target.get("Arn") if isinstance(target, dict) else None
        if isinstance(expression, str) and isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
            out.append(Schedule(scope, arn["Fn::GetAtt"][0], _every_min(expression), expression))
    return out


def _every_min(expression: str) -> float | None:
    found = _RATE.match(expression)
    return int(found[1]) * _RATE_MINUTES[found[2]] if found else None


@dataclass(frozen=True)
class StepJudge:
    scope: Scope
    logical: str
    look_s: float
    emf: EmfSource | None
    size: LambdaSize


def _step_judge(schedules: list[Schedule]) -> StepJudge | None:
    """The kit's step judge: a scheduled function configured with STEP_LOOK_S."""
    for s in schedules:
        env = _env(s.scope, s.function)
        look = env.get("STEP_LOOK_S")
        if look is None:
            continue
        try:
            look_s = float(look)
        except (TypeError, ValueError):
            look_s = STEP_LOOK_S  # a value not known here: the code's default
        namespace = env.get("EMF_NAMESPACE")
        emf = (
            EmfSource(namespace, str(env.get("EMF_SERVICE", "")))
            if isinstance(namespace, str) and namespace
            else None
        )
        return StepJudge(s.scope, s.function, look_s, emf, _lambda_size(s.scope, s.function))
    return None


# ---------------------------------------------------------------- the report
def build_cost(scope: Scope, book: PriceBook) -> CostReport:
    notes: list[str] = []
    if book.priced_as != book.region:
        notes.append(
            f"no list prices kept for {book.region}: priced at {book.priced_as}'s (give yours with --prices)"
        )
    seen: dict[str, FunctionDeployment] = {}
    for dep in deployments(scope):
        seen.setdefault(dep.logical_id, dep)
    everything = _scopes(scope)
    schedules = [s for sc in everything for s in _schedules(sc)]
    judge = _step_judge(schedules)

    owned: dict[int, str] = {}  # id(scope) of a nested alarm pack -> the function it watches
    owned_alarms: dict[tuple[int, str], str] = {}  # gates defined beside the function
    for name, dep in seen.items():
        for alarm in dep.alarms:
            if alarm.scope is None or alarm.logical_id is None:
                continue
            if alarm.scope is scope:
                owned_alarms[(id(scope), alarm.logical_id)] = name
            else:
                owned.setdefault(id(alarm.scope), name)

    alarms: dict[str, list[dict[str, Any]]] = {name: [] for name in [*seen, ""]}
    composites: dict[str, int] = {name: 0 for name in [*seen, ""]}
    dashboards = 0
    for sc in everything:
        for logical, props in _active(sc, "AWS::CloudWatch::Alarm"):
            owner = owned_alarms.get((id(sc), logical), owned.get(id(sc), ""))
            alarms[owner].append(props)
        for _ in _active(sc, "AWS::CloudWatch::CompositeAlarm"):
            composites[owned.get(id(sc), "")] += 1
        dashboards += len(_active(sc, "AWS::CloudWatch::Dashboard"))

    functions = [
        _function_cost(name, dep, alarms[name], composites[name], judge, len(seen), book)
        for name, dep in seen.items()
    ]
    stack = _alarm_lines(alarms[""], composites[""], book, notes)
    free = int(book.assume("free_dashboards"))
    if dashboards:
        billed = max(0, dashboards - free)
        stack.append(
            Line(
                f"{dashboards} dashboard(s), {free} free per account (if the account has no other)",
                billed,
                "dashboard-months",
                book.usd("dashboard"),
                "dashboard",
            )
        )
    for s in schedules:
        stack += _schedule_lines(s, judge, len(seen), book, notes)
    return CostReport(book, functions, Part(stack), notes)


def idle_run_s(book: PriceBook, groups: int) -> float:
    """A step-judge run with no deployment in progress: it lists the deployment groups, then each
    group's in-progress deployments, and reads no metric (`step_gate.in_progress_deployments`)."""
    return book.assume("idle_run_s") + book.assume("list_call_s") * (1 + groups)


def _schedule_lines(
    s: Schedule, judge: StepJudge | None, groups: int, book: PriceBook, notes: list[str]
) -> list[Line]:
    if s.every_min is None:
        notes.append(
            f"{s.scope.qualified(s.function)}: schedule {s.expression!r} not priced (only rate() is)"
        )
        return []
    runs = MINUTES_PER_MONTH / s.every_min
    size = _lambda_size(s.scope, s.function)
    name = s.scope.qualified(s.function)
    is_judge = judge is not None and judge.scope is s.scope and judge.logical == s.function
    idle_s = idle_run_s(book, groups) if is_judge else book.assume("idle_run_s")
    lines = [
        Line(
            f"{name}: {runs:,.0f} scheduled runs",
            runs / 1e6,
            "million requests",
            book.usd("lambda_requests_per_million"),
            "lambda_requests_per_million",
        ),
        Line(
            f"{name}: {idle_s:.2g} s at {size.memory_gb * 1024:.0f} MB a run"
            + (f" (no deployment: {1 + groups} list calls, no metric read)" if is_judge else ""),
            runs * idle_s * size.memory_gb,
            "GB-seconds",
            book.usd(size.gb_second_key),
            size.gb_second_key,
        ),
        Line(
            f"{name}: {book.assume('idle_log_bytes'):g} log bytes a run",
            runs * book.assume("idle_log_bytes") / GIB,
            "GB ingested",
            book.usd("logs_ingestion_per_gb"),
            "logs_ingestion_per_gb",
        ),
    ]
    if not is_judge:
        notes.append(f"{name}: what a scheduled run does besides starting is not known here (priced as idle)")
    return lines


def _hook_lines(kind: str, ref: HookRef | None, book: PriceBook) -> list[Line]:
    if ref is None or ref.scope is None or ref.logical_id is None:
        return []
    size = _lambda_size(ref.scope, ref.logical_id)
    timeout = ref.timeout_s or size.timeout_s
    return [
        Line(
            f"{kind} hook: 1 run",
            1e-6,
            "million requests",
            book.usd("lambda_requests_per_million"),
            "lambda_requests_per_million",
        ),
        Line(
            f"{kind} hook: at most {timeout} s at {size.memory_gb * 1024:.0f} MB",
            timeout * size.memory_gb,
            "GB-seconds",
            book.usd(size.gb_second_key),
            size.gb_second_key,
        ),
    ]


def _function_cost(
    name: str,
    dep: FunctionDeployment,
    alarms: list[dict[str, Any]],
    composites: int,
    judge: StepJudge | None,
    groups: int,
    book: PriceBook,
) -> FunctionCost:
    notes: list[str] = []
    standing = _alarm_lines(alarms, composites, book, notes)
    env = _env(dep.scope, name)
    size = _lambda_size(dep.scope, name)
    # EMF the kit relies on: a gate of this function reads a custom namespace (the code's own metric
    # lines cannot be read from a template)
    emits_emf = any(
        isinstance(stat.get("namespace"), str) and not stat["namespace"].startswith("AWS/")
        for alarm in dep.alarms
        if alarm.known and not alarm.unresolved()
        for stat in alarm.metric_stats()
    )
    with_traffic: list[Line] = []
    if emits_emf:
        metrics = book.assume("emf_metrics")
        with_traffic.append(
            Line(
                f"{metrics:g} EMF custom metrics of the version serving",
                metrics,
                "metric-months",
                book.usd("custom_metric"),
                "custom_metric",
            )
        )

    deploy: list[Line] = []
    shift_s = dep.config.shift_s if dep.config else 0
    pre_s = (dep.pre_hook.timeout_s or 0) if dep.pre_hook else 0
    post_s = (dep.post_hook.timeout_s or 0) if dep.post_hook else 0
    window_s = pre_s + shift_s + post_s
    per_1000 = book.usd("get_metric_data_per_1000")
    if judge is not None and window_s:
        # every look asks for the 1-s series; each run (one a minute, nothing kept between runs) asks
        # for the per-minute series at its first look and once more when the next minute settles, and
        # once for the deployment's latency threshold
        looks = math.ceil(window_s / judge.look_s)
        minutes = math.ceil(window_s / 60)
        every, per_minute = metrics_per_look(judge.emf)
        threshold = threshold_metrics(judge.emf)
        requested = looks * every + minutes * (2 * per_minute + threshold)
        deploy.append(
            Line(
                f"step judge: {looks} looks every {judge.look_s:g} s over {window_s} s x {every} metrics"
                f" + {minutes} run(s) x (2 x {per_minute} per-minute + {threshold} threshold)",
                requested / 1000,
                "thousand metrics requested",
                per_1000,
                "get_metric_data_per_1000",
            )
        )
        busy_s = max(judge.size.timeout_s - idle_run_s(book, groups), 0)
        deploy.append(
            Line(
                f"step judge: {minutes} run(s) looking for up to {judge.size.timeout_s} s instead of idling",
                minutes * busy_s * judge.size.memory_gb,
                "GB-seconds",
                book.usd(judge.size.gb_second_key),
                judge.size.gb_second_key,
            )
        )
    deploy += _hook_lines("pre-traffic", dep.pre_hook, book)
    deploy += _hook_lines("post-traffic", dep.post_hook, book)
    if dep.post_hook is not None and dep.post_hook.known:
        reads = book.assume("post_judge_reads")
        per_read = sum(metrics_per_look(judge.emf if judge else None))
        deploy.append(
            Line(
                f"post-traffic judge: up to {reads:g} reads x {per_read} metrics (assumed)",
                reads * per_read / 1000,
                "thousand metrics requested",
                per_1000,
                "get_metric_data_per_1000",
            )
        )

    traffic: list[Line] = []
    if emits_emf:
        size_b = book.assume("emf_bytes_per_request")
        traffic.append(
            Line(
                f"EMF log line, {size_b:g} bytes a call",
                1e6 * size_b / GIB,
                "GB ingested",
                book.usd("logs_ingestion_per_gb"),
                "logs_ingestion_per_gb",
            )
        )
    if "BREAKER_APPLICATION" in env:
        us = book.assume("breaker_us_per_call")
        traffic.append(
            Line(
                f"in-band breaker, {us:g} µs a call at {size.memory_gb * 1024:.0f} MB",
                1e6 * us * 1e-6 * size.memory_gb,
                "GB-seconds",
                book.usd(size.gb_second_key),
                size.gb_second_key,
            )
        )
    return FunctionCost(name, Part(standing), Part(with_traffic), Part(deploy), Part(traffic), notes)
