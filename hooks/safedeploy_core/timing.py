"""CodeDeploy's predefined Lambda traffic-shifting configs, and when a gate alarm can fire.

Configs (CodeDeploy "Deployment configurations on an AWS Lambda compute platform"):
CanaryXPercentNMinutes shifts X % at once, the rest after N minutes; LinearXPercentEveryNMinutes adds
X % every N minutes; AllAtOnce shifts everything at once. SAM maps `Type: T` to
`CodeDeployDefault.LambdaT`.

A gate alarm needs `period x datapoints-to-alarm` (else evaluation periods) of breaching data, and
Lambda metrics arrive about two minutes late, so its worst-case time to ALARM is that plus ~120 s.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

METRIC_DELAY_S = 120
LAMBDA_METRIC_PERIOD_S = 60
# Lambda, "Asynchronous invocation" (CodeDeploy invokes hooks so): a function that returns an error is
# run two more times, one minute and then two minutes later; then the event goes to the dead-letter
# queue, if the function has one.
ASYNC_RETRY_DELAYS_S = (60, 120)
# CodeDeploy fails a lifecycle event that gets no status within one hour.
LIFECYCLE_LIMIT_S = 3600
# Assumed: from the last failed attempt to the dead-letter consumer's report (SQS delivery, one call).
DEAD_LETTER_REPORT_S = 10
PREFIX = "CodeDeployDefault.Lambda"
Fit = Literal["first-step", "whole-shift", "never"]


@dataclass(frozen=True)
class TrafficStep:
    at_s: int
    percent: float


@dataclass(frozen=True)
class DeploymentConfig:
    name: str
    kind: Literal["canary", "linear", "all-at-once"]
    steps: tuple[TrafficStep, ...]

    @property
    def first_window_s(self) -> int:
        """Time the first traffic step bakes before more traffic moves (0 for AllAtOnce)."""
        return self.steps[1].at_s if len(self.steps) > 1 else 0

    @property
    def shift_s(self) -> int:
        """Time from the first traffic on the new version until it has 100 %."""
        return self.steps[-1].at_s

    @property
    def codedeploy_name(self) -> str:
        return f"{PREFIX}{self.name}"


_CANARY = re.compile(r"^Canary(\d+)Percent(\d+)Minutes?$")
_LINEAR = re.compile(r"^Linear(\d+)PercentEvery(\d+)Minutes?$")

PREDEFINED = (
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
    "AllAtOnce",
)


def deployment_config(name: str) -> DeploymentConfig | None:
    """The config for a SAM `Type` or CodeDeploy name; None for a name that is not predefined."""
    short = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    if short not in PREDEFINED:
        return None
    if short == "AllAtOnce":
        return DeploymentConfig(short, "all-at-once", (TrafficStep(0, 100.0),))
    canary = _CANARY.match(short)
    if canary:
        return traffic_config(short, "canary", int(canary.group(1)), int(canary.group(2)))
    linear = _LINEAR.match(short)
    assert linear is not None
    return traffic_config(short, "linear", int(linear.group(1)), int(linear.group(2)))


def traffic_config(
    name: str, kind: Literal["canary", "linear", "all-at-once"], percent: float, interval_min: float
) -> DeploymentConfig | None:
    """A canary (X % then the rest after N minutes) or linear (X % more every N minutes) shift, as a
    custom AWS::CodeDeploy::DeploymentConfig's TimeBasedCanary/TimeBasedLinear describes it too."""
    if not 0 < percent <= 100 or interval_min < 0:
        return None
    interval_s = int(interval_min * 60)
    if kind == "canary":
        return DeploymentConfig(
            name, "canary", (TrafficStep(0, float(percent)), TrafficStep(interval_s, 100.0))
        )
    if kind == "linear":
        count = math.ceil(100 / percent)
        steps = tuple(TrafficStep(k * interval_s, float(min(100, (k + 1) * percent))) for k in range(count))
        return DeploymentConfig(name, "linear", steps)
    if kind == "all-at-once":
        return DeploymentConfig(name, "all-at-once", (TrafficStep(0, 100.0),))
    return None


def detection_seconds(period_s: int, evaluation_periods: int, datapoints_to_alarm: int | None = None) -> int:
    return period_s * (datapoints_to_alarm or evaluation_periods) + METRIC_DELAY_S


def hook_max_s(timeout_s: int, dead_letter: bool) -> int:
    """The longest a hook can hold its lifecycle event open. A hook that raises is run three times;
    with a dead-letter queue whose consumer reports Failed (hooks/lost_reports.py) that ends it, else
    only CodeDeploy's hour does. (A hook that returns without reporting also waits for the hour.)"""
    if not dead_letter:
        return LIFECYCLE_LIMIT_S
    attempts = 1 + len(ASYNC_RETRY_DELAYS_S)
    return min(attempts * timeout_s + sum(ASYNC_RETRY_DELAYS_S) + DEAD_LETTER_REPORT_S, LIFECYCLE_LIMIT_S)


def fit(detection_s: int, config: DeploymentConfig) -> Fit:
    """Where an alarm with this worst-case detection time can still stop the deployment."""
    if config.first_window_s and detection_s <= config.first_window_s:
        return "first-step"
    if config.shift_s and detection_s <= config.shift_s:
        return "whole-shift"
    return "never"


def fastest_gate_s(period_s: int = LAMBDA_METRIC_PERIOD_S) -> int:
    """The quickest any alarm on metrics of this period can fire (one datapoint)."""
    return detection_seconds(period_s, 1)


def first_window_possible(config: DeploymentConfig, period_s: int = LAMBDA_METRIC_PERIOD_S) -> bool:
    return fit(fastest_gate_s(period_s), config) == "first-step"
