"""CodeDeploy's predefined Lambda traffic-shifting configs, and when a gate alarm can fire.

Configs (CodeDeploy "Deployment configurations on an AWS Lambda compute platform"):
CanaryXPercentNMinutes shifts X % at once, the rest after N minutes; LinearXPercentEveryNMinutes adds
X % every N minutes; AllAtOnce shifts everything at once. SAM maps `Type: T` to
`CodeDeployDefault.LambdaT`.

When a gate alarm can stop a deployment (`detection`): it needs `datapoints-to-alarm` (else
evaluation periods) breaching periods, each visible VISIBILITY_S after it ends; at worst the first
period is lost to alignment (the shift began late in it, and its share of bad calls stayed under the
threshold or the invocation guard), CloudWatch evaluates the alarm only at its cadence, and CodeDeploy
sees the state only at its next poll. Each part names its basis; the rehearsal uses the same model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

LAMBDA_METRIC_PERIOD_S = 60
# Lambda user guide: "Lambda sends metric data to CloudWatch in 1-minute intervals" — a request is in
# CloudWatch up to a minute after it ran. EMF and API Gateway metrics: assumed the same (undocumented).
VISIBILITY_S = 60
# CloudWatch user guide ("Using Amazon CloudWatch alarms"): an alarm with a 10- or 30-second period is
# evaluated every 10 seconds; one of a minute or more is taken to be evaluated every minute (assumed).
HIGH_RESOLUTION_EVALUATION_S = 10
STANDARD_EVALUATION_S = 60
# Assumed: CodeDeploy documents no alarm poll interval; the rehearsal polls every 10 s too.
CODEDEPLOY_POLL_S = 10
# The step judge's default look interval within a scheduled run (safedeploy_core.step_gate; the hooks
# app's StepLookSeconds parameter sets it).
STEP_LOOK_S = 2.0
# Lambda, "Asynchronous invocation" (CodeDeploy invokes hooks so): a function that returns an error is
# run two more times, one minute and then two minutes later; then the event goes to the dead-letter
# queue, if the function has one.
ASYNC_RETRY_DELAYS_S = (60, 120)
# CodeDeploy fails a lifecycle event that gets no status within one hour.
LIFECYCLE_LIMIT_S = 3600
# Assumed: from the last failed attempt to the dead-letter consumer's report (SQS delivery, one call).
DEAD_LETTER_REPORT_S = 10
PREFIX = "CodeDeployDefault.Lambda"
Fit = Literal["first-step", "whole-shift", "after-shift", "never"]


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

    @property
    def shift_max_s(self) -> int:
        """The later reading of when a linear shift completes (LINEAR_SCHEDULE); else `shift_s`."""
        if self.kind != "linear" or len(self.steps) < 2:
            return self.shift_s
        return self.shift_s + self.steps[1].at_s - self.steps[0].at_s

    @property
    def schedule_note(self) -> str | None:
        if self.kind != "linear" or self.shift_max_s == self.shift_s:
            return None
        return LINEAR_SCHEDULE.format(
            step=self.steps[0].percent,
            count=len(self.steps),
            at=self.shift_s // 60,
            later=self.shift_max_s // 60,
        )


# The sources differ on when a linear shift ends. CodeDeploy's API reference (TimeBasedLinear): the
# percentage "is shifted at the start of each increment", with "the number of minutes between each
# incremental traffic shift": 100 % with the last increment, at (count - 1) intervals. SAM's guide
# (docs/safe_lambda_deployments.rst): Linear10PercentEvery10Minutes "will complete traffic shifting in
# 100 minutes", count intervals. The schedule follows CodeDeploy; the longest a deployment can take
# allows for SAM's figure, and whether a gate can fire in time is judged on the earlier end.
LINEAR_SCHEDULE = (
    "{step:g} % at the start of each of {count} increments: 100 % at {at} min (CodeDeploy API "
    "reference, TimeBasedLinear). SAM's guide counts one interval more (Linear10PercentEvery10Minutes "
    "'will complete traffic shifting in 100 minutes'), {later} min here: the longest total allows for "
    "it; the gates are timed on the earlier end"
)


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


@dataclass(frozen=True)
class Detection:
    """From the first bad call to CodeDeploy seeing the gate in ALARM, for a version bad throughout."""

    period_s: int
    datapoints: int

    @property
    def datapoints_s(self) -> int:
        return self.period_s * self.datapoints

    @property
    def evaluation_s(self) -> int:
        return HIGH_RESOLUTION_EVALUATION_S if self.period_s < 60 else STANDARD_EVALUATION_S

    @property
    def best_s(self) -> int:
        """Periods that start with the fault, evaluated and polled the moment the last is visible."""
        return self.datapoints_s + VISIBILITY_S

    @property
    def worst_s(self) -> int:
        return self.period_s + self.datapoints_s + VISIBILITY_S + self.evaluation_s + CODEDEPLOY_POLL_S

    def as_dict(self) -> dict[str, Any]:
        return {
            "best_s": self.best_s,
            "worst_s": self.worst_s,
            "alignment_s": self.period_s,
            "datapoints_s": self.datapoints_s,
            "visibility_s": VISIBILITY_S,
            "evaluation_s": self.evaluation_s,
            "poll_s": CODEDEPLOY_POLL_S,
            "assumptions": [
                "visibility: Lambda sends metric data in 1-minute intervals (Lambda guide); EMF and "
                "API Gateway metrics assumed the same",
                "alignment: at worst the first period is lost (the shift began late in it)",
                "evaluation: every 10 s below a 60-s period (CloudWatch guide), every minute above (assumed)",
                f"poll: CodeDeploy's alarm poll, undocumented, assumed {CODEDEPLOY_POLL_S} s",
            ],
        }


def detection(period_s: int, evaluation_periods: int, datapoints_to_alarm: int | None = None) -> Detection:
    return Detection(period_s, datapoints_to_alarm or evaluation_periods)


def detection_seconds(period_s: int, evaluation_periods: int, datapoints_to_alarm: int | None = None) -> int:
    """The worst case (`Detection.worst_s`)."""
    return detection(period_s, evaluation_periods, datapoints_to_alarm).worst_s


def hook_max_s(timeout_s: int, dead_letter: bool) -> int:
    """The longest a hook can hold its lifecycle event open. A hook that raises is run three times;
    with a dead-letter queue whose consumer reports Failed (hooks/lost_reports.py) that ends it, else
    only CodeDeploy's hour does. (A hook that returns without reporting also waits for the hour.)"""
    if not dead_letter:
        return LIFECYCLE_LIMIT_S
    attempts = 1 + len(ASYNC_RETRY_DELAYS_S)
    return min(attempts * timeout_s + sum(ASYNC_RETRY_DELAYS_S) + DEAD_LETTER_REPORT_S, LIFECYCLE_LIMIT_S)


def fit(detection_s: int, config: DeploymentConfig, after_shift_s: int = 0) -> Fit:
    """Where an alarm that fires `detection_s` after the fault began can still stop the deployment:
    within the first step, within the shift, after it while the deployment stays open for
    `after_shift_s` (its AfterAllowTraffic hook's run), or never."""
    if config.first_window_s and detection_s <= config.first_window_s:
        return "first-step"
    if config.shift_s and detection_s <= config.shift_s:
        return "whole-shift"
    if config.shift_s and detection_s <= config.shift_s + after_shift_s:
        return "after-shift"
    return "never"


def fastest_gate_s(period_s: int = LAMBDA_METRIC_PERIOD_S) -> int:
    """The quickest any alarm on metrics of this period can fire (one datapoint)."""
    return detection_seconds(period_s, 1)


def first_window_possible(config: DeploymentConfig, period_s: int = LAMBDA_METRIC_PERIOD_S) -> bool:
    return fit(fastest_gate_s(period_s), config) == "first-step"
