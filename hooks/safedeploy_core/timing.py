"""CodeDeploy's predefined Lambda traffic-shifting configs, and when a gate alarm can fire.

Configs (CodeDeploy "Deployment configurations on an AWS Lambda compute platform"):
CanaryXPercentNMinutes shifts X % at once, the rest after N minutes; LinearXPercentEveryNMinutes adds
X % every N minutes; AllAtOnce shifts everything at once. SAM maps `Type: T` to
`CodeDeployDefault.LambdaT`.

When a gate alarm can stop a deployment (`detection`). CloudWatch user guide, "Evaluating an alarm":
an alarm with a period of a minute or more "is evaluated every minute and the evaluation is based on
the window of time defined by the Period and Evaluation Periods" (Period 5 min, 1 period: at the end
of minute 5 the data of minutes 1-5, at the end of minute 6 minutes 2-6); "Alarm evaluation window":
that sliding window is the default; an alarm with `EvaluationWindow: {WallClockWindow: ...}` reads
whole periods aligned to the clock instead (`wall_clock`). A high-resolution alarm (10- or 30-second
period) is evaluated every 10 seconds; its window is taken to slide by those 10 s.
So at an evaluation at E the alarm reads the N periods that end at the newest data CloudWatch holds,
E - visibility, on the evaluation grid. For a version bad from its first call at t0:
- proven (no delay at all): the oldest of the M breaching periods holds t0's datapoint and the
  newest ends at E, so E - t0 > (M - 1) periods (`floor_s`); "cannot fire, even at best" rests on it;
- nominal best: (M - 1) periods + the metric's visibility, the fault starting just before a grid step;
- nominal worst: the fault's first, partial step lost (its share of bad calls under the threshold or
  the invocation guard) + M whole periods + visibility, up to the next evaluation, + CodeDeploy's poll.
The two figures AWS does not guarantee (`Assumptions`: CodeDeploy's alarm poll, the metric's
visibility) are settings; the rehearsal uses the same model (safedeploy.offline.alarm_eval).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, overload

LAMBDA_METRIC_PERIOD_S = 60
# CloudWatch user guide ("Evaluating an alarm"): an alarm with a 10- or 30-second period is evaluated
# every 10 seconds, one of a minute or more every minute.
HIGH_RESOLUTION_EVALUATION_S = 10
STANDARD_EVALUATION_S = 60
# Bounds of the two settings (`Assumptions`): a figure past CodeDeploy's hour means nothing here.
ASSUMPTION_MAX_S = 3600
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
# CodeDeploy's API reference types TimeBasedLinear's and TimeBasedCanary's percentage as an Integer,
# so a shift it runs has at most 100 steps: `plan` lists that many, a rehearsal runs no more.
LISTED_STEPS_MAX = 100
# The longest shift a rehearsal simulates (a custom interval can make it years long).
REHEARSED_SHIFT_MAX_S = 48 * 3600


@dataclass(frozen=True)
class Assumptions:
    """The figures detection times rest on that AWS does not guarantee, so every time built on them
    is *nominal*; `safedeploy check/plan/timing/rehearse --alarm-poll/--metric-delay` set them.

    poll_s: how often CodeDeploy reads its alarms' states (undocumented).
    visibility_s: from a request to its datapoint in CloudWatch. Lambda user guide: "Lambda sends
    metric data to CloudWatch in 1-minute intervals" — a sending interval, not a delivery guarantee;
    EMF and API Gateway metrics are taken to be the same (undocumented)."""

    poll_s: int = 10
    visibility_s: int = 60

    def __post_init__(self) -> None:
        for name, value in (("alarm poll", self.poll_s), ("metric delay", self.visibility_s)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= ASSUMPTION_MAX_S:
                raise ValueError(f"{name} must be a whole number of seconds from 0 to {ASSUMPTION_MAX_S}")


NOMINAL = Assumptions()
_CURRENT: ContextVar[Assumptions] = ContextVar("safedeploy_timing_assumptions", default=NOMINAL)


def assumptions() -> Assumptions:
    """The figures in force: NOMINAL unless a command set others (`assumed`)."""
    return _CURRENT.get()


@contextmanager
def assumed(figures: Assumptions) -> Iterator[None]:
    token = _CURRENT.set(figures)
    try:
        yield
    finally:
        _CURRENT.reset(token)


Fit = Literal["first-step", "whole-shift", "after-shift", "never"]
Kind = Literal["canary", "linear", "all-at-once"]


@dataclass(frozen=True)
class TrafficStep:
    at_s: int
    percent: float


class Steps(Sequence[TrafficStep]):
    """A shift's traffic steps worked out from its parameters when asked: O(1) memory and time per
    step whatever the parameters (a custom TimeBasedLinear of 0.000000001 % has 10^11 steps)."""

    def __init__(self, kind: Kind, percent: float, interval_s: int, size: int) -> None:
        self.kind, self.percent, self.interval_s, self.size = kind, percent, interval_s, size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> TrafficStep: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[TrafficStep]: ...

    def __getitem__(self, index: int | slice) -> TrafficStep | Sequence[TrafficStep]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(self.size))]
        k = index + self.size if index < 0 else index
        if not 0 <= k < self.size:
            raise IndexError(index)
        if k == self.size - 1:
            return TrafficStep(k * self.interval_s, 100.0)
        return TrafficStep(k * self.interval_s, float(min(100.0, (k + 1) * self.percent)))


@dataclass(frozen=True)
class DeploymentConfig:
    """A traffic shift by its parameters: `percent` first (canary) or each interval (linear),
    `interval_s` the canary's bake or the time between linear increments."""

    name: str
    kind: Kind
    percent: float = 100.0
    interval_s: int = 0

    @property
    def step_count(self) -> int:
        if self.kind == "all-at-once":
            return 1
        if self.kind == "canary":
            return 2
        return max(math.ceil(100 / self.percent), 1)

    @property
    def steps(self) -> Steps:
        return Steps(self.kind, self.percent, self.interval_s, self.step_count)

    @property
    def first_window_s(self) -> int:
        """Time the first traffic step bakes before more traffic moves (0 for AllAtOnce)."""
        return self.interval_s if self.step_count > 1 else 0

    @property
    def shift_s(self) -> int:
        """Time from the first traffic on the new version until it has 100 %."""
        return (self.step_count - 1) * self.interval_s

    @property
    def codedeploy_name(self) -> str:
        return f"{PREFIX}{self.name}"

    @property
    def shift_max_s(self) -> int:
        """The later reading of when a linear shift completes (LINEAR_SCHEDULE); else `shift_s`."""
        if self.kind != "linear" or self.step_count < 2:
            return self.shift_s
        return self.shift_s + self.interval_s

    @property
    def schedule_note(self) -> str | None:
        if self.kind != "linear" or self.shift_max_s == self.shift_s:
            return None
        return LINEAR_SCHEDULE.format(
            step=self.percent,
            count=self.step_count,
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
        return DeploymentConfig(short, "all-at-once")
    canary = _CANARY.match(short)
    if canary:
        return traffic_config(short, "canary", int(canary.group(1)), int(canary.group(2)))
    linear = _LINEAR.match(short)
    assert linear is not None
    return traffic_config(short, "linear", int(linear.group(1)), int(linear.group(2)))


def traffic_config(name: str, kind: Kind, percent: float, interval_min: float) -> DeploymentConfig | None:
    """A canary (X % then the rest after N minutes) or linear (X % more every N minutes) shift, as a
    custom AWS::CodeDeploy::DeploymentConfig's TimeBasedCanary/TimeBasedLinear describes it too. Its
    steps are worked out when asked (`Steps`), so any parameters cost the same; None for parameters
    that describe no shift (a share outside (0, 100], a negative or non-finite interval)."""
    if kind == "all-at-once":
        return DeploymentConfig(name, "all-at-once")
    if not (0 < percent <= 100 and math.isfinite(100 / percent)):
        return None
    interval_s = interval_min * 60
    if not (math.isfinite(interval_s) and interval_s >= 0):
        return None
    if kind in ("canary", "linear"):
        return DeploymentConfig(name, kind, float(percent), int(interval_s))
    return None


def too_long_to_rehearse(config: DeploymentConfig) -> str | None:
    """Why a rehearsal will not simulate this shift, or None (LISTED_STEPS_MAX, REHEARSED_SHIFT_MAX_S)."""
    if config.step_count > LISTED_STEPS_MAX:
        return (
            f"{config.name} shifts traffic in {config.step_count:,} steps; a rehearsal runs at most "
            f"{LISTED_STEPS_MAX} (CodeDeploy takes whole percentages)"
        )
    if config.shift_max_s > REHEARSED_SHIFT_MAX_S:
        return (
            f"{config.name} shifts traffic over {config.shift_max_s:,} s; a rehearsal simulates at most "
            f"{REHEARSED_SHIFT_MAX_S // 3600} hours"
        )
    return None


def evaluation_step_s(period_s: int) -> int:
    """How often CloudWatch evaluates an alarm of this period, and the step its window slides by."""
    return HIGH_RESOLUTION_EVALUATION_S if period_s < 60 else STANDARD_EVALUATION_S


def wall_clock(alarm_props: Mapping[str, Any]) -> bool:
    """Whether an alarm's window is aligned to the clock (CloudFormation's AWS::CloudWatch::Alarm
    EvaluationWindow: WallClockWindow) rather than the default sliding window."""
    window = alarm_props.get("EvaluationWindow")
    return isinstance(window, Mapping) and "WallClockWindow" in window


def _ceil_to(step: int, seconds: int) -> int:
    return -(-seconds // step) * step


@dataclass(frozen=True)
class Detection:
    """From the first bad call to CodeDeploy seeing the gate in ALARM, for a version bad throughout
    (see the module's docstring for the model and its sources)."""

    period_s: int
    datapoints: int
    visibility_s: int
    poll_s: int
    wall_clock: bool = False

    @property
    def datapoints_s(self) -> int:
        return self.period_s * self.datapoints

    @property
    def evaluation_s(self) -> int:
        return evaluation_step_s(self.period_s)

    @property
    def alignment_s(self) -> int:
        """At worst lost of the fault's beginning: the first, partial step of the window's grid (a
        whole period for a wall-clock window)."""
        return max(self.period_s, self.evaluation_s) if self.wall_clock else self.evaluation_s

    @property
    def floor_s(self) -> int:
        """Proven, whatever the delays: the alarm cannot be in ALARM this soon or sooner."""
        return (self.datapoints - 1) * self.period_s

    @property
    def best_s(self) -> int:
        """Nominal best: the fault begins just before a grid step, evaluated and polled at once."""
        return _ceil_to(self.evaluation_s, self.floor_s + self.visibility_s)

    @property
    def worst_s(self) -> int:
        """Nominal worst: the fault's first, partial step lost, then M whole periods, visible, up to
        the next evaluation, then CodeDeploy's poll."""
        return _ceil_to(self.evaluation_s, self.alignment_s + self.datapoints_s + self.visibility_s) + (
            self.poll_s
        )

    @property
    def wait_s(self) -> int:
        """Of the worst case, the wait for the next evaluation once the data is visible."""
        return self.worst_s - self.poll_s - self.alignment_s - self.datapoints_s - self.visibility_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "nominal": True,
            "floor_s": self.floor_s,
            "best_s": self.best_s,
            "worst_s": self.worst_s,
            "alignment_s": self.alignment_s,
            "datapoints_s": self.datapoints_s,
            "visibility_s": self.visibility_s,
            "evaluation_s": self.wait_s,
            "poll_s": self.poll_s,
            "assumptions": [
                "window: CloudWatch evaluates a sliding window of Period x Evaluation Periods every "
                "minute from 60-s periods, every 10 s below (CloudWatch guide, 'Evaluating an alarm')",
                f"visibility: {self.visibility_s} s from a request to CloudWatch, assumed (Lambda sends "
                "metric data in 1-minute intervals, a sending interval, not a guarantee; --metric-delay)",
                f"alignment: at worst the fault's first {self.alignment_s} s step is lost (few bad calls)"
                + (" (a wall-clock window)" if self.wall_clock else ""),
                f"poll: CodeDeploy's alarm poll, undocumented, assumed {self.poll_s} s (--alarm-poll)",
                f"floor: {self.floor_s} s, (M - 1) periods, holds whatever the delays",
            ],
        }


def detection(
    period_s: int,
    evaluation_periods: int,
    datapoints_to_alarm: int | None = None,
    figures: Assumptions | None = None,
    *,
    wall_clock: bool = False,
) -> Detection:
    figures = figures or assumptions()
    return Detection(
        period_s, datapoints_to_alarm or evaluation_periods, figures.visibility_s, figures.poll_s, wall_clock
    )


def detection_seconds(period_s: int, evaluation_periods: int, datapoints_to_alarm: int | None = None) -> int:
    """The nominal worst case (`Detection.worst_s`)."""
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
