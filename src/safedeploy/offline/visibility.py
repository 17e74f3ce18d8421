"""When a datapoint becomes visible to a reader — one model for every reader of the rehearsal's metrics
(gate alarms, the hooks' and the step judge's GetMetricData).

A request at time t counts in a reader's answer only from t + delay on. The delay is one setting,
`Assumptions.visibility_s` (safedeploy_core.timing, `--metric-delay`), read when asked; each kind of
metric names the basis for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safedeploy_core import timing


@dataclass(frozen=True)
class Visibility:
    kind: str
    basis: str
    assumed: bool

    @property
    def delay_s(self) -> int:
        return timing.assumptions().visibility_s


LAMBDA = Visibility(
    "Lambda standard metrics (AWS/Lambda)",
    "Lambda user guide, 'Using CloudWatch metrics with Lambda': Lambda sends metric data to CloudWatch "
    "in 1-minute intervals, so a request can wait up to a minute before CloudWatch has it (a sending "
    "interval, not a delivery guarantee: nominal)",
    assumed=True,
)
EMF = Visibility(
    "EMF custom metrics (from the function's log)",
    "assumption: CloudWatch extracts embedded-metric-format metrics from the log asynchronously and "
    "documents no delay; taken as long as Lambda's own metrics",
    assumed=True,
)
API_GATEWAY = Visibility(
    "API Gateway metrics (AWS/ApiGateway)",
    "assumption: per-minute metrics, as Lambda's; API Gateway documents no delivery delay",
    assumed=True,
)


def of_namespace(namespace: str | None) -> Visibility:
    if namespace == "AWS/Lambda":
        return LAMBDA
    if namespace == "AWS/ApiGateway":
        return API_GATEWAY
    return EMF


def delay_s(namespaces: Iterable[str | None]) -> int:
    """The delay of a reader of several metrics (metric math): its slowest input."""
    return max((of_namespace(n).delay_s for n in namespaces), default=timing.assumptions().visibility_s)


def assumptions() -> list[Visibility]:
    return [LAMBDA, EMF, API_GATEWAY]
