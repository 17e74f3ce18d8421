"""Traffic schedules worked out from their parameters: any TimeBasedLinear/TimeBasedCanary costs the
same in check, plan, timing and rehearse (a hostile 0.000000001 % linear shift has 10^11 steps)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from safedeploy_core.timing import LISTED_STEPS_MAX, TrafficStep, deployment_config, traffic_config

from safedeploy import cli

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: !Ref TinySteps
  TinySteps:
    Type: AWS::CodeDeploy::DeploymentConfig
    Properties:
      ComputePlatform: Lambda
      TrafficRoutingConfig:
        Type: TimeBasedLinear
        TimeBasedLinear: {LinearPercentage: 0.000000001, LinearInterval: 1}
"""


def test_a_schedule_is_its_parameters_and_each_step_is_worked_out_when_asked() -> None:
    config = traffic_config("tiny", "linear", 1e-9, 1)
    assert config is not None
    assert config.step_count == len(config.steps) == 10**11
    assert (config.first_window_s, config.shift_s) == (60, (10**11 - 1) * 60)
    assert config.steps[0] == TrafficStep(0, 1e-9)
    assert config.steps[-1] == TrafficStep((10**11 - 1) * 60, 100.0)
    assert config.steps[10**10].percent == pytest.approx(10.0)
    with pytest.raises(IndexError):
        config.steps[10**11]


def test_the_predefined_schedules_are_unchanged() -> None:
    linear = deployment_config("Linear10PercentEvery3Minutes")
    assert linear is not None
    assert [(s.at_s, s.percent) for s in linear.steps] == [(k * 180, 10.0 * (k + 1)) for k in range(10)]
    canary = deployment_config("Canary10Percent15Minutes")
    assert canary is not None and list(canary.steps) == [TrafficStep(0, 10.0), TrafficStep(900, 100.0)]
    everything = deployment_config("AllAtOnce")
    assert everything is not None and list(everything.steps) == [TrafficStep(0, 100.0)]
    assert (everything.shift_s, everything.first_window_s) == (0, 0)


@pytest.mark.parametrize(
    ("percent", "interval"),
    [(0.0, 1), (-5, 1), (101, 1), (float("nan"), 1), (5e-324, 1), (10, float("inf")), (10, 1e308), (10, -1)],
)
def test_parameters_that_describe_no_shift_give_no_schedule(percent: float, interval: float) -> None:
    assert traffic_config("x", "linear", percent, interval) is None


def test_check_plan_and_timing_on_ten_to_the_eleven_steps_stay_small(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"

    def every_command() -> tuple[list[dict[str, str]], dict[str, Any], str, int]:
        tracemalloc.reset_peak()
        assert cli.main(["check", str(template), "--format", "json"]) in (0, 1)
        findings = json.loads(capsys.readouterr().out)
        assert cli.main(["plan", str(template), "--format", "json"]) == 0
        (plan,) = json.loads(capsys.readouterr().out)["functions"]
        assert cli.main(["plan", str(template)]) == 0
        text = capsys.readouterr().out
        assert cli.main(["timing", str(template), "--format", "json"]) == 0
        capsys.readouterr()
        return findings, plan, text, tracemalloc.get_traced_memory()[1]

    tracemalloc.start()
    try:
        # the same template with a 10 % linear shift first: what the commands need anyway
        template.write_text(TEMPLATE.replace("0.000000001", "10"))
        *_, usual = every_command()
        template.write_text(TEMPLATE)
        findings, plan, text, peak = every_command()
    finally:
        tracemalloc.stop()
    assert {f["rule"] for f in findings} >= {"SD103"}  # checked as any other shift
    assert plan["step_count"] == 10**11 and len(plan["steps"]) == LISTED_STEPS_MAX
    assert plan["steps"][-1]["percent"] == 100.0 and plan["steps"][-1]["until_s"] is None
    assert f"{10**11 - LISTED_STEPS_MAX:,} more steps" in text
    assert peak < usual + 4 * 2**20  # bytes: nothing proportional to the step count was built


def test_rehearse_refuses_a_shift_it_cannot_simulate_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    code = cli.main(["rehearse", str(template), "--function", "Fn"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "100000000000 steps" in err.replace(",", "") and "at most 100" in err
