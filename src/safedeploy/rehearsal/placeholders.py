"""The template's placeholders (<Fn>, <Fn.Version>, <stack>) replaced with the rehearsal's values."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"<([A-Za-z0-9_.:]+)>")

ALARM_NUMBERS = {"Threshold", "EvaluationPeriods", "DatapointsToAlarm", "Period"}
ALARM_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "ComparisonOperator",
    "Threshold",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "TreatMissingData",
    "Metrics",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "Unit",
}


def concretize(value: Any, mapping: dict[str, str]) -> Any:
    """Replace placeholders such as <HelloWorldFunction> with the rehearsal's physical values."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: mapping.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [concretize(v, mapping) for v in value if v is not None]
    if isinstance(value, dict):
        return {k: concretize(v, mapping) for k, v in value.items() if v is not None}
    return value


def _number(value: Any) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


def alarm_arguments(props: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """put_metric_alarm arguments from a template's alarm properties (actions left out offline)."""
    args = {k: v for k, v in concretize(props, mapping).items() if k in ALARM_KEYS}
    for key in ALARM_NUMBERS & set(args):
        args[key] = _number(args[key])
    if "Threshold" in args:
        args["Threshold"] = float(args["Threshold"])
    for metric in args.get("Metrics", []):
        if "MetricStat" in metric:
            metric["MetricStat"]["Period"] = int(_number(metric["MetricStat"]["Period"]))
    return args
