"""A gate alarm's best and worst case to ALARM, part by part, and where that falls in a deployment."""

from __future__ import annotations

import pytest
from safedeploy_core.timing import deployment_config, detection, fit


@pytest.mark.parametrize(
    ("period", "n", "m", "best", "worst"),
    [
        # 2 of 2 minutes: 60 alignment + 120 breaching + 60 visibility + 60 evaluation + 10 poll
        (60, 2, 2, 180, 310),
        # 3 of 6 ten-second periods: evaluated every 10 s
        (10, 6, 3, 90, 10 + 30 + 60 + 10 + 10),
        # datapoints-to-alarm left out: all evaluation periods must breach
        (300, 3, None, 960, 300 + 900 + 60 + 60 + 10),
    ],
)
def test_best_and_worst_case_are_the_sum_of_their_parts(
    period: int, n: int, m: int | None, best: int, worst: int
) -> None:
    timing = detection(period, n, m)
    assert (timing.best_s, timing.worst_s) == (best, worst)
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
