"""CloudWatch alarm evaluation, emulated for the offline rehearsal (moto stores alarms, never evaluates).

Rules, from the CloudWatch user guide ("Using Amazon CloudWatch alarms": evaluating an alarm, how
alarm state is evaluated when data is missing, avoiding premature transitions to alarm state, metric
math functions):
- the alarm goes to ALARM when at least DatapointsToAlarm (M, default EvaluationPeriods = N) of the N
  datapoints it evaluates breach the threshold;
- it retrieves more than N periods (the *evaluation range*). With no datapoint missing it evaluates
  the most recent N. With some missing but at least N present it evaluates the most recent N
  *present* ones (TreatMissingData is not used). With fewer than N present it fills the gap with
  TreatMissingData: `breaching` counts as bad and `notBreaching` as good; `missing` and `ignore` add
  nothing, so only the present ones count;
- nothing present in the whole range: `missing` -> INSUFFICIENT_DATA, `ignore` -> the current state,
  `breaching` -> ALARM, `notBreaching` -> OK;
- premature alarm, for `missing` and `ignore`: ALARM when the oldest breaching datapoint among the
  last N periods is at least M periods old and every more recent one is breaching or missing, even
  with fewer than M datapoints present;
- metric math: the alarm evaluates the one expression with ReturnData; supported here: numbers,
  metric ids, + - * /, comparisons, AND/OR, and IF(condition, a, b) — what the alarm pack uses.
Assumed (the guide says only that the range "depends on the length of the alarm period and whether
it is based on a metric with standard resolution or high resolution"): the range is
N + max(N // 3, 2) periods, the figure LocalStack also uses. `decide` is cross-checked against
LocalStack's evaluator over every pattern (tools/crosscheck_alarms.py; disagreements explained there).
Not emulated: anomaly detection, and CloudWatch's exact scheduling (we evaluate whenever asked).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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


def evaluate_expression(expression: str, values: dict[str, float | None]) -> float | None:
    """Evaluate a metric-math expression over one datapoint of each id (None = no data)."""
    tokens = [t for t in _TOKEN.findall(expression)]
    flat = [a or b or c for a, b, c in tokens]
    if "".join(flat).replace(" ", "") != expression.replace(" ", ""):
        raise ExpressionError(f"unsupported metric math: {expression!r}")
    pos = 0

    def peek() -> str | None:
        return flat[pos] if pos < len(flat) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if token is None or (expected and token != expected):
            raise ExpressionError(f"expected {expected or 'a value'} in {expression!r}")
        pos += 1
        return token

    def primary() -> float | None:
        token = take()
        if token == "(":
            value = logical()
            take(")")
            return value
        if token == "-":
            inner = primary()
            return None if inner is None else -inner
        if token.upper() == "IF":
            take("(")
            cond = logical()
            take(",")
            yes = logical()
            take(",")
            no = logical()
            take(")")
            if cond is None:
                return None
            return yes if cond != 0 else no
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return float(token)
        if token not in values:
            raise ExpressionError(f"unknown id {token!r} in {expression!r}")
        return values[token]

    def term() -> float | None:
        value = primary()
        while peek() in ("*", "/"):
            op, right = take(), primary()
            if value is None or right is None:
                value = None
            elif op == "*":
                value = value * right
            else:
                value = value / right if right != 0 else math.nan
        return value

    def arith() -> float | None:
        value = term()
        while peek() in ("+", "-"):
            op, right = take(), term()
            value = (
                None if value is None or right is None else (value + right if op == "+" else value - right)
            )
        return value

    def compare() -> float | None:
        value = arith()
        ops = {
            ">": lambda a, b: a > b,
            "<": lambda a, b: a < b,
            ">=": lambda a, b: a >= b,
            "<=": lambda a, b: a <= b,
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
        }
        while peek() in ops:
            op, right = take(), arith()
            value = None if value is None or right is None else float(ops[op](value, right))
        return value

    def logical() -> float | None:
        value = compare()
        while peek() is not None and peek().upper() in ("AND", "OR"):  # type: ignore[union-attr]
            op, right = take().upper(), compare()
            if value is None or right is None:
                value = None
            else:
                value = float((value != 0 and right != 0) if op == "AND" else (value != 0 or right != 0))
        return value

    result = logical()
    if pos != len(flat):
        raise ExpressionError(f"unexpected {flat[pos]!r} in {expression!r}")
    return None if result is not None and math.isnan(result) else result


NOTHING_PRESENT: dict[str, State] = {
    "missing": "INSUFFICIENT_DATA",
    "breaching": "ALARM",
    "notBreaching": "OK",
}


def evaluation_range(evaluation_periods: int) -> int:
    return evaluation_periods + max(evaluation_periods // 3, 2)


def decide(points: Sequence[bool | None], n: int, m: int, treat: str, current: State) -> State:
    """The alarm's new state from its evaluation range, oldest first (True: breaching, False: not,
    None: missing), EvaluationPeriods `n`, DatapointsToAlarm `m`, TreatMissingData `treat`."""
    present = [p for p in points if p is not None]
    if not present:
        return NOTHING_PRESENT.get(treat, current)  # ignore: the current state
    if treat in ("missing", "ignore") and premature_alarm(points[-n:], m):
        return "ALARM"
    evaluated = present[-n:]
    if len(present) < n and treat in ("breaching", "notBreaching"):
        evaluated += [treat == "breaching"] * (n - len(present))  # the gap, filled as the alarm says
    return "ALARM" if sum(evaluated) >= m else "OK"


def premature_alarm(last: Sequence[bool | None], m: int) -> bool:
    """Of the last N datapoints: the oldest breaching one is at least M periods old, and every later
    one is breaching or missing."""
    breaching = [i for i, p in enumerate(last) if p]
    if not breaching:
        return False
    oldest = breaching[0]
    age = len(last) - oldest  # 1 = the most recent period
    return age >= m and all(p is None or p for p in last[oldest + 1 :])


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
        """Evaluate the periods that have fully ended `delay_s` before `now_s` (metrics arrive late).
        Periods start on clock boundaries: t = 0 lies `clock_offset_s` past one."""
        period = self.period
        n = int(self.props.get("EvaluationPeriods", 1))
        m = int(self.props.get("DatapointsToAlarm") or n)
        visible = now_s - delay_s
        last_end = visible - (visible + clock_offset_s) % period
        starts = [last_end - period * (k + 1) for k in reversed(range(evaluation_range(n)))]
        values = [self.datapoint(fetch, s) if s + period > 0 else None for s in starts]
        threshold = float(self.props["Threshold"])
        breach = COMPARE[self.props["ComparisonOperator"]]
        points = [None if v is None else breach(v, threshold) for v in values]
        self.state = decide(points, n, m, self.props.get("TreatMissingData", "missing"), self.state)
        return self.state
