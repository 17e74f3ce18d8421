"""A gate alarm's best and worst case to ALARM, part by part, and where that falls in a deployment."""

from __future__ import annotations

import pytest
from safedeploy_core.timing import deployment_config, detection, fit


@pytest.mark.parametrize(
    ("period", "n", "m", "floor", "best", "worst"),
    [
        # 2 of 2 minutes: the window slides by the minute, so at worst 60 s of the fault's first,
        # partial minute are lost + 120 breaching + 60 visibility + 10 poll; at best 1 period + 60
        (60, 2, 2, 60, 120, 60 + 120 + 60 + 10),
        # 3 of 6 ten-second periods: evaluated, and slid, every 10 s
        (10, 6, 3, 20, 80, 10 + 30 + 60 + 10),
        # datapoints-to-alarm left out: all evaluation periods must breach
        (300, 3, None, 600, 660, 60 + 900 + 60 + 10),
        # the gate: 1 x 300 s Errors > 0 fires about a minute after the first bad call,
        # and at worst in 430 s, not 730 s (a clock-aligned 5-minute period lost)
        (300, 1, None, 0, 60, 430),
        # one hour, one period: as quick at best as a one-minute gate
        (3600, 1, None, 0, 60, 3730),
    ],
)
def test_best_and_worst_case_are_the_sum_of_their_parts(
    period: int, n: int, m: int | None, floor: int, best: int, worst: int
) -> None:
    timing = detection(period, n, m)
    assert (timing.floor_s, timing.best_s, timing.worst_s) == (floor, best, worst)
    parts = timing.as_dict()
    assert (
        sum(parts[k] for k in ("alignment_s", "datapoints_s", "visibility_s", "evaluation_s", "poll_s"))
        == worst
    )
    assert any("assumed" in a for a in parts["assumptions"])


def test_a_gate_past_the_shift_still_counts_while_the_post_traffic_hook_runs() -> None:
    canary = deployment_config("Canary10Percent5Minutes")
    assert canary is not None
    assert fit(250, canary) == "first-step"
    assert fit(310, canary) == "never"  # nothing keeps the deployment open after its 300-s shift
    assert fit(310, canary, after_shift_s=180) == "after-shift"
    assert fit(500, canary, after_shift_s=180) == "never"


def test_the_linear_schedules_of_codedeploy_and_sam_are_both_told() -> None:
    from safedeploy_core.timing import deployment_config

    linear = deployment_config("Linear10PercentEvery10Minutes")
    assert linear is not None
    # CodeDeploy: 10 % at the start of each increment, so 100 % with the 10th, 90 minutes in
    assert (linear.shift_s, linear.shift_max_s) == (5400, 6000)  # SAM's guide: "in 100 minutes"
    assert linear.schedule_note is not None and "100 % at 90 min" in linear.schedule_note
    canary = deployment_config("Canary10Percent5Minutes")
    assert canary is not None and (canary.shift_max_s, canary.schedule_note) == (300, None)


def test_the_assumptions_are_settings_that_move_the_nominal_times_and_not_the_floor() -> None:
    from safedeploy_core.timing import Assumptions, assumed, detection

    slow = Assumptions(poll_s=60, visibility_s=180)
    with assumed(slow):
        timing = detection(300, 2)
    assert timing.as_dict()["nominal"] is True
    assert (timing.floor_s, timing.best_s, timing.worst_s) == (300, 480, 60 + 600 + 180 + 60)
    assert detection(300, 2).worst_s == 60 + 600 + 60 + 10  # back to the nominal figures
    # a visibility off the minute grid waits for the next evaluation
    odd = detection(60, 1, figures=Assumptions(poll_s=0, visibility_s=45))
    assert (odd.best_s, odd.worst_s, odd.as_dict()["evaluation_s"]) == (60, 180, 15)


@pytest.mark.parametrize("bad", [-1, 3601, 1.5, True])
def test_an_assumption_out_of_range_is_refused(bad: object) -> None:
    from safedeploy_core.timing import Assumptions

    with pytest.raises(ValueError, match="whole number of seconds"):
        Assumptions(poll_s=bad)  # type: ignore[arg-type]


def test_cannot_fire_is_a_proof_on_the_floor_and_breaching_missing_data_claims_nothing() -> None:
    from safedeploy.planning.gate_timing import gate_timing

    canary = deployment_config("Canary10Percent5Minutes")
    # 6 of 6 minutes: the breaching minutes span more than 300 s whatever the delays
    verdict = gate_timing(canary, 60, 6, None, post_hook=False, post_s=0)
    assert verdict is not None and verdict.rule == "SD303"
    # one minute less: 240 s < 300 s, so only a nominal warning
    verdict = gate_timing(canary, 60, 5, None, post_hook=False, post_s=0)
    assert verdict is not None and verdict.rule == "SD311" and "nominal worst case 430 s" in verdict.message
    # a post-traffic hook whose timeout is not known: nothing is proven
    verdict = gate_timing(canary, 60, 6, None, post_hook=True, post_s=None)
    assert verdict is not None and verdict.rule == "SD311"
    # TreatMissingData breaching can be in ALARM before any bad call (SD310 says so): no timing claim
    assert gate_timing(canary, 60, 6, None, post_hook=False, post_s=0, missing_breaches=True) is None
    assert gate_timing(deployment_config("AllAtOnce"), 60, 6, None, post_hook=False, post_s=0) is None


def test_a_wall_clock_window_loses_a_whole_period_at_worst() -> None:
    from safedeploy_core.timing import wall_clock

    sliding, aligned = detection(300, 1), detection(300, 1, wall_clock=True)
    assert (sliding.worst_s, aligned.worst_s) == (60 + 300 + 60 + 10, 300 + 300 + 60 + 10)
    assert aligned.floor_s == sliding.floor_s == 0  # the floor holds for either window
    assert wall_clock({"EvaluationWindow": {"WallClockWindow": {"Timezone": "UTC"}}})
    assert not wall_clock({"EvaluationWindow": {"SlidingWindow": {}}}) and not wall_clock({})
