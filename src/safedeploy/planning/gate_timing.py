"""Whether a gate alarm can stop its deployment in time: the timing rules' verdicts (SD303, SD311) as
plain data, from the detection model of safedeploy_core.timing.

SD303 (an error) rests on the proven floor alone: the M breaching periods of a sliding window span
more than (M - 1) periods from the first bad call whatever the delays, so a floor that reaches the
end of the deployment is a proof. Everything else rests on the nominal figures (`Assumptions`) and
is at most a warning that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safedeploy_core.timing import DeploymentConfig, Detection, detection

ASSUMED = "metric delay and alarm poll assumed: --metric-delay, --alarm-poll"


@dataclass(frozen=True)
class GateVerdict:
    rule: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def parts(timing: Detection) -> dict[str, Any]:
    """The nominal worst case's parts, in seconds (the JSON's `details`; the message stays one sentence)."""
    return {
        "worst_case_s": timing.worst_s,
        "parts_s": {
            "first_step_lost": timing.alignment_s,
            "breaching_periods": timing.datapoints_s,
            "metric_delay_assumed": timing.visibility_s,
            "to_next_evaluation": timing.wait_s,
            "codedeploy_poll_assumed": timing.poll_s,
        },
    }


def gate_timing(
    config: DeploymentConfig | None,
    period_s: int | None,
    evaluation_periods: int | None,
    datapoints_to_alarm: int | None,
    *,
    post_hook: bool,
    post_s: int | None,
    missing_breaches: bool = False,
    wall_clock: bool = False,
) -> GateVerdict | None:
    """The timing finding for one gate of one deployment, or None. `post_s`: how long the
    post-traffic hook keeps the deployment open after the shift (None: not known here).
    `missing_breaches`: TreatMissingData breaching, which can fire with no bad call at all (SD310
    says so), so no timing claim is made."""
    if config is None or config.kind == "all-at-once" or not period_s or not evaluation_periods:
        return None
    if missing_breaches:
        return None
    timing = detection(period_s, evaluation_periods, datapoints_to_alarm, wall_clock=wall_clock)
    points = f"{timing.datapoints} x {period_s} s"
    if post_s is not None:
        open_s = config.shift_s + post_s
        after = f" and the {post_s} s of its post-traffic hook" if post_s else ""
        if timing.floor_s >= open_s:
            return GateVerdict(
                "SD303",
                f"{points} breaching periods of a sliding window span more than {timing.floor_s} s from "
                f"the first bad call, whatever the delays, and the deployment ends within the "
                f"{config.shift_s} s shift of {config.name}{after}: it can never roll back during the "
                "deployment; use fewer or shorter periods, or a longer deployment type",
            )
        if timing.best_s > open_s:
            return GateVerdict(
                "SD311",
                f"nominal best case {timing.best_s} s to ALARM ({timing.floor_s} s of breaching periods + "
                f"{timing.visibility_s} s metric delay, assumed) is longer than the {config.shift_s} s "
                f"shift of {config.name}{after}: it fires during the deployment only if CloudWatch has "
                "the metrics sooner than assumed",
            )
    worst = timing.worst_s
    if worst > config.shift_s:
        if not post_hook:
            tail = "and no post-traffic hook keeps the deployment open for it"
        elif post_s is None:
            tail = "while the post-traffic hook runs (its timeout is not known here)"
        else:
            tail = f"while the post-traffic hook runs (at most {post_s} s)"
        return GateVerdict(
            "SD311",
            f"nominal worst case {worst} s to ALARM ({ASSUMED}) is longer than the whole "
            f"{config.shift_s} s shift of {config.name}: at worst it fires after all traffic moved, {tail}",
            parts(timing),
        )
    if worst > config.first_window_s:
        return GateVerdict(
            "SD311",
            f"nominal worst case {worst} s to ALARM ({ASSUMED}) is slower than the first "
            f"{config.first_window_s} s step of {config.name}: more traffic moves before it can fire",
            parts(timing),
        )
    return None
