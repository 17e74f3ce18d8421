"""CloudWatch alarm evaluation, emulated for the offline rehearsal (moto stores alarms, never evaluates).

Rules, from the CloudWatch user guide ("Using Amazon CloudWatch alarms": evaluating an alarm, how
alarm state is evaluated when data is missing, with its two example tables; avoiding premature
transitions to alarm state; metric math functions):
- the alarm goes to ALARM when at least DatapointsToAlarm (M, default EvaluationPeriods = N) of the N
  datapoints it evaluates breach the threshold;
- it retrieves more than N periods (the *evaluation range*). With at least N datapoints present it
  evaluates the most recent N present ones (TreatMissingData is not used). With fewer, `breaching`
  and `notBreaching` fill the gap (every real datapoint of the range kept); `missing` and `ignore`
  fill nothing: ALARM with M breaching among them, OK when one of them is not breaching, and when all
  of them breach but fewer than M — `missing`: ALARM if the oldest is at least M periods old (the
  premature-alarm rule, "X - - - -" in the guide's table), else INSUFFICIENT_DATA ("- - - - X");
  `ignore`: the current state ("Retain current state" in both rows);
- nothing present in the whole range: `missing` -> INSUFFICIENT_DATA, `ignore` -> the current state,
  `breaching` -> ALARM, `notBreaching` -> OK;
- metric math: the alarm evaluates the one expression with ReturnData; supported here: numbers,
  metric ids, + - * /, comparisons, AND/OR, and IF(condition, a, b) — what the alarm pack uses.
Where the guide's prose and its tables differ, the tables decide: the prose's premature rule names
"the Evaluation Periods number of data points" and no TreatMissingData, but the table's "X - - - -"
(3 of 3) alarms with its one datapoint outside the last three, and keeps the state under `ignore`.
Assumed (the guide says only that the range "depends on the length of the alarm period and whether
it is based on a metric with standard resolution or high resolution"): the range is
N + max(N // 3, 2) periods, the figure LocalStack also uses. `decide` is cross-checked against
LocalStack's evaluator over every pattern (tools/crosscheck_alarms.py; disagreements explained there).
The window slides ("Evaluating an alarm": a 5-minute, 1-period alarm reads minutes 1-5 at the end of
minute 5, minutes 2-6 at the end of minute 6): its newest period ends on the evaluation grid (every
minute from 60-s periods, every 10 s below; safedeploy_core.timing), not on the period's clock
boundary; an alarm with `EvaluationWindow: WallClockWindow` reads whole clock-aligned periods (its
time zone is not modelled). Not emulated: anomaly detection, and CloudWatch's exact scheduling (we
evaluate whenever asked).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from safedeploy_core.timing import evaluation_step_s, wall_clock

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
Fetch = Callable[[dict[str, Any], float, int], float | None]  # (metric stat, start_s, period_s) -> value

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))")


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class _Value:
    """One operand at one timestamp: a scalar, or a time series' datapoint (None: it has none)."""

    value: float | None
    series: bool


def _series_zero(v: _Value) -> float:
    return 0.0 if v.value is None else v.value


def _both(a: _Value, b: _Value, op: Callable[[float, float], float | None]) -> _Value:
    """A binary operation, missing values as the metric-math page says: a scalar never misses; between
    two time series a missing one is 0 when the other has a value; a time series with no datapoint
    against a scalar has none."""
    series = a.series or b.series
    if a.series and b.series:
        if a.value is None and b.value is None:
            return _Value(None, True)
        return _Value(op(_series_zero(a), _series_zero(b)), True)
    if a.value is None or b.value is None:
        return _Value(None, series)
    return _Value(op(a.value, b.value), series)


def _divide(x: float, y: float) -> float | None:
    return x / y if y != 0 else None  # "the data point is dropped"


def evaluate_expression(expression: str, values: dict[str, float | None]) -> float | None:
    """Evaluate a metric-math expression at one timestamp: each id's datapoint there, None when that
    metric has none. Missing values follow the CloudWatch user guide's metric-math page
    (using-metric-math.md): in arithmetic and between two time series a missing value is 0, a
    division by zero drops the datapoint, and IF(c, a, b) drops it when c has none or c is false and
    b has none, and gives 0 when c is true and a (a time series) has none. Where no metric of the
    expression has a datapoint, neither has the expression (None)."""
    tokens = [t for t in _TOKEN.findall(expression)]
    flat = [a or b or c for a, b, c in tokens]
    if "".join(flat).replace(" ", "") != expression.replace(" ", ""):
        raise ExpressionError(f"unsupported metric math: {expression!r}")
    pos = 0
    used: set[str] = set()

    def peek() -> str | None:
        return flat[pos] if pos < len(flat) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if token is None or (expected and token != expected):
            raise ExpressionError(f"expected {expected or 'a value'} in {expression!r}")
        pos += 1
        return token

    def primary() -> _Value:
        token = take()
        if token == "(":
            value = logical()
            take(")")
            return value
        if token == "-":
            inner = primary()
            return _Value(None if inner.value is None else -inner.value, inner.series)
        if token.upper() == "IF":
            take("(")
            cond = logical()
            take(",")
            yes = logical()
            no: _Value | None = None
            if peek() == ",":
                take(",")
                no = logical()
            take(")")
            series = cond.series or yes.series or bool(no and no.series)
            if cond.value is None:
                return _Value(None, series)
            if cond.value != 0:
                return _Value(_series_zero(yes) if yes.series else yes.value, series)
            return _Value(None if no is None else no.value, series)
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return _Value(float(token), False)
        if token not in values:
            raise ExpressionError(f"unknown id {token!r} in {expression!r}")
        used.add(token)
        return _Value(values[token], True)

    def term() -> _Value:
        value = primary()
        while peek() in ("*", "/"):
            op, right = take(), primary()
            value = _both(value, right, (lambda x, y: x * y) if op == "*" else _divide)
        return value

    def arith() -> _Value:
        value = term()
        while peek() in ("+", "-"):
            op, right = take(), term()
            value = _both(value, right, (lambda x, y: x + y) if op == "+" else (lambda x, y: x - y))
        return value

    compare_ops: dict[str, Callable[[float, float], bool]] = {
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }

    def compare() -> _Value:
        value = arith()
        while peek() in compare_ops:
            test = compare_ops[take()]
            value = _both(value, arith(), lambda x, y, test=test: float(test(x, y)))  # type: ignore[misc]
        return value

    def logical() -> _Value:
        value = compare()
        while peek() is not None and peek().upper() in ("AND", "OR"):  # type: ignore[union-attr]
            op = take().upper()
            value = _both(
                value,
                compare(),
                (lambda x, y: float(x != 0 and y != 0))
                if op == "AND"
                else (lambda x, y: float(x != 0 or y != 0)),
            )
        return value

    result = logical()
    if pos != len(flat):
        raise ExpressionError(f"unexpected {flat[pos]!r} in {expression!r}")
    if used and all(values[i] is None for i in used):
        return None  # no metric has a datapoint here: no timestamp for the expression either
    return None if result.value is None or math.isnan(result.value) else result.value


NOTHING_PRESENT: dict[str, State] = {
    "missing": "INSUFFICIENT_DATA",
    "breaching": "ALARM",
    "notBreaching": "OK",
}


def evaluation_range(evaluation_periods: int) -> int:
    return evaluation_periods + max(evaluation_periods // 3, 2)


def decide(points: Sequence[bool | None], n: int, m: int, treat: str, current: State) -> State:
    """The alarm's new state from its evaluation range, oldest first (True: breaching, False: not,
    None: missing), EvaluationPeriods `n`, DatapointsToAlarm `m`, TreatMissingData `treat`.

    It reproduces every cell of the guide's two tables (tests/unit/test_alarm_eval.py)."""
    present = [p for p in points if p is not None]
    if not present:
        return NOTHING_PRESENT.get(treat, current)  # ignore: the current state
    if len(present) >= n:  # the most recent N real datapoints; TreatMissingData is not used
        return "ALARM" if sum(present[-n:]) >= m else "OK"
    if treat in ("breaching", "notBreaching"):  # the gap filled, every real datapoint of the range kept
        return "ALARM" if sum(present) + (n - len(present)) * (treat == "breaching") >= m else "OK"
    # missing / ignore: fewer than N real datapoints and nothing to fill the gap with
    if sum(present) >= m:
        return "ALARM"
    if not all(present):
        return "OK"  # a good datapoint among them ("0 - - - -", "0 - X - -")
    if treat == "missing" and premature_alarm(points, m):
        return "ALARM"  # "X - - - -": the oldest is breaching and none is good
    return "INSUFFICIENT_DATA" if treat == "missing" else current  # "- - - - X"


def premature_alarm(points: Sequence[bool | None], m: int) -> bool:
    """Every real datapoint of the range breaching, and the oldest at least M periods old."""
    present = [i for i, p in enumerate(points) if p is not None]
    return bool(present) and all(points[i] for i in present) and len(points) - present[0] >= m


@dataclass
class AlarmModel:
    name: str
    props: dict[str, Any]
    state: State = "INSUFFICIENT_DATA"

    @property
    def period(self) -> int:
        if "Period" in self.props:
            return int(self.props["Period"])
        return max(int(m["MetricStat"]["Period"]) for m in self.props["Metrics"] if "MetricStat" in m)

    def datapoint(self, fetch: Fetch, start_s: float) -> float | None:
        """The alarm's value for the period that starts at `start_s` (None = missing)."""
        if "MetricName" in self.props:
            stat = {
                "Namespace": self.props.get("Namespace"),
                "MetricName": self.props["MetricName"],
                "Dimensions": self.props.get("Dimensions", []),
                "Stat": self.props.get("Statistic") or self.props.get("ExtendedStatistic"),
            }
            return fetch(stat, start_s, self.period)
        values: dict[str, float | None] = {}
        expression = None
        for m in self.props["Metrics"]:
            if "MetricStat" in m:
                ms = m["MetricStat"]
                stat = {**ms["Metric"], "Stat": ms["Stat"]}
                values[m["Id"]] = fetch(stat, start_s, int(ms["Period"]))
            if m.get("Expression") and m.get("ReturnData", True):
                expression = m["Expression"]
        if expression is None:
            returned = [m["Id"] for m in self.props["Metrics"] if m.get("ReturnData", True)]
            return values.get(returned[0]) if returned else None
        return evaluate_expression(expression, values)

    def namespaces(self) -> list[str | None]:
        if "MetricName" in self.props:
            return [self.props.get("Namespace")]
        stats = [m["MetricStat"] for m in self.props["Metrics"] if "MetricStat" in m]
        return [ms["Metric"].get("Namespace") for ms in stats]

    def evaluate(self, fetch: Fetch, now_s: int, delay_s: int = 0, clock_offset_s: float = 0.0) -> State:
        """Evaluate the sliding window whose newest period ends `delay_s` before `now_s` (metrics
        arrive late), on the evaluation grid (clock minutes, or 10 s below a 60-s period; the period's
        clock boundary for a WallClockWindow): t = 0 lies `clock_offset_s` past a clock minute."""
        period = self.period
        n = int(self.props.get("EvaluationPeriods", 1))
        m = int(self.props.get("DatapointsToAlarm") or n)
        visible = now_s - delay_s
        step = period if wall_clock(self.props) else evaluation_step_s(period)
        last_end = visible - (visible + clock_offset_s) % step
        starts = [last_end - period * (k + 1) for k in reversed(range(evaluation_range(n)))]
        values = [self.datapoint(fetch, s) if s + period > 0 else None for s in starts]
        threshold = float(self.props["Threshold"])
        breach = COMPARE[self.props["ComparisonOperator"]]
        points = [None if v is None else breach(v, threshold) for v in values]
        if self._too_few_samples(fetch, starts[-n:]):
            return self.state  # EvaluateLowSampleCountPercentile: ignore
        self.state = decide(points, n, m, self.props.get("TreatMissingData", "missing"), self.state)
        return self.state

    def _too_few_samples(self, fetch: Fetch, evaluated: list[float]) -> bool:
        """A percentile alarm set to `ignore` low sample counts, with fewer samples in its evaluated
        periods than the guide's bound ("Percentile-based alarms and low data samples": fewer than
        10/(1-p) for p in 0.5..1, 10/p below 0.5). Only single-metric alarms (ExtendedStatistic)
        have the setting; `evaluate`, the default, always evaluates."""
        extended = str(self.props.get("ExtendedStatistic") or "")
        if self.props.get("EvaluateLowSampleCountPercentile") != "ignore" or not re.fullmatch(
            r"p\d+(\.\d+)?", extended
        ):
            return False
        p = float(extended[1:]) / 100
        needed = (10 / (1 - p) if p < 1 else math.inf) if p > 0.5 else 10 / p
        stat = {
            "Namespace": self.props.get("Namespace"),
            "MetricName": self.props["MetricName"],
            "Dimensions": self.props.get("Dimensions", []),
            "Stat": "SampleCount",
        }
        samples = sum(
            fetch(stat, start, self.period) or 0.0 for start in evaluated if start + self.period > 0
        )
        return samples < needed
