"""Whole gradual deployments of this app, offline: moto server + in-process Lambda + the CodeDeploy engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from safedeploy.rehearsal.options import RehearsalOptions
from safedeploy.rehearsal.run import rehearse
from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def run(fault: str, rate: float = 100.0, type_name: str | None = None) -> dict[str, Any]:
    return rehearse(
        RehearsalOptions(
            ROOT / "template.yaml", "HelloWorldFunction", fault, rate, type_name, speed=2000, rps=20, seed=7
        )
    )


def variant(tmp_path: Any, old: str, new: str) -> Any:
    """This app's template with `old` replaced by `new`, beside links to its code."""
    for folder in ("hooks", "alarms", "hello_world", "echo"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    source = (ROOT / "template.yaml").read_text()
    changed = source.replace(old, new, 1)
    assert changed != source
    (tmp_path / "template.yaml").write_text(changed)
    return tmp_path / "template.yaml"


def test_healthy_release_succeeds_and_is_judged_after_the_shift() -> None:
    report = run("none")
    assert report["status"] == "Succeeded" and report["caught_by"] is None
    assert report["requests"]["new_version"] > 0 and report["requests"]["faulty"] == 0
    messages = [e["message"] for e in report["events"]]
    assert any(m.startswith("BeforeAllowTraffic: Succeeded") for m in messages)
    assert any(m.startswith("AfterAllowTraffic: Succeeded") for m in messages)
    assert report["simulated_s"] >= 300  # the 5-minute canary really baked
    # the per-version metrics reached (moto's) CloudWatch, as Lambda would publish them
    assert report["cloudwatch_invocations_new_version"] == report["requests"]["new_version"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("error", "function error"), ("bad-response", "$.message is missing"), ("slow", "budget 1500 ms")],
)
def test_smoke_visible_faults_never_reach_a_user(fault: str, reason: str) -> None:
    report = run(fault)
    assert report["status"] == "Failed" and report["caught_by"] == "pre-traffic hook"
    assert report["requests"]["new_version"] == 0
    assert any(reason in e["message"] for e in report["events"])


@pytest.mark.parametrize("fault", ["error", "slow"])
def test_faults_under_load_are_caught_during_the_canary(fault: str) -> None:
    report = run(fault, rate=5)
    assert report["status"] == "Stopped"
    assert report["caught_by"] == "step judge" or report["caught_by"].startswith("alarm ")
    assert report["detection_s"] is not None and report["detection_s"] <= 240
    assert report["simulated_s"] < 300  # rolled back before the canary bake ended


def test_linear_rehearsal_walks_every_step() -> None:
    report = run("none", type_name="Linear10PercentEvery1Minute")
    shifts = [e["message"] for e in report["events"] if e["kind"] == "shift"]
    assert shifts[0].startswith("10 %") and shifts[-1].startswith("100 %") and len(shifts) == 10


def test_the_second_function_is_served_by_the_same_hooks() -> None:
    report = rehearse(
        RehearsalOptions(
            ROOT / "template.yaml", "EchoFunction", "none", 100.0, None, speed=2000, rps=20, seed=7
        )
    )
    assert report["status"] == "Succeeded" and report["requests"]["new_version"] > 0
    assert report["function"] == "rehearsal-EchoFunction"


def test_the_command_exits_1_when_the_outcome_is_not_what_the_fault_predicts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from safedeploy import cli

    # a fault that never fires: the release succeeds, but a rollback was expected
    code = cli.main(
        [
            "rehearse",
            str(ROOT / "template.yaml"),
            "--function",
            "HelloWorldFunction",
            "--fault",
            "error",
            "--fault-rate",
            "0",
            "--speed",
            "5000",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["outcome"] == "Succeeded" and report["as_expected"] is False


def test_bad_arguments_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from safedeploy import cli

    assert cli.main(["rehearse", str(ROOT / "template.yaml"), "--speed", "0"]) == 2
    assert "--speed and --rps must be positive" in capsys.readouterr().err
    assert cli.main(["rehearse", str(ROOT / "template.yaml"), "--function", "Nope"]) == 2
    assert "has no function 'Nope'" in capsys.readouterr().err
    # two protected functions and no --function: the error names both
    assert cli.main(["rehearse", str(ROOT / "template.yaml")]) == 2
    err = capsys.readouterr().err
    assert "pick one with --function" in err and "EchoFunction, HelloWorldFunction" in err


def test_a_step_judge_switched_off_in_the_template_is_not_run(tmp_path: Any) -> None:
    # GIVEN the hooks nested with EnableStepJudge "false"
    template = variant(
        tmp_path,
        "        EmfService: safe-deploy-sample\n",
        '        EmfService: safe-deploy-sample\n        EnableStepJudge: "false"\n',
    )
    # WHEN a 5 % error canary is rehearsed
    report = rehearse(
        RehearsalOptions(template, "HelloWorldFunction", "error", 5.0, None, speed=2000, rps=20, seed=7)
    )
    # THEN no step judge acted: something else caught it (or nothing did)
    assert report["caught_by"] != "step judge"
    assert not [e for e in report["events"] if e["kind"] == "judge"]


def test_a_healthy_all_at_once_release_in_prod_passes_once_its_metrics_are_visible(tmp_path: Any) -> None:
    # GIVEN the template with prod defaults (undecided verdicts fail closed) and an AllAtOnce shift
    environment = "  EnvironmentName:\n    Type: String\n    Default: {}\n"
    template = variant(tmp_path, environment.format("dev"), environment.format("prod"))
    # WHEN a healthy version is rehearsed: at the post-traffic hook, CloudWatch has nothing of it yet
    report = rehearse(
        RehearsalOptions(
            template,
            "HelloWorldFunction",
            "none",
            100.0,
            "AllAtOnce",
            speed=2000,
            rps=20,
            seed=7,
        )
    )
    # THEN the judge waited for the metrics (a minute, as they become visible) and the release passed
    assert report["status"] == "Succeeded", [e["message"] for e in report["events"]][-3:]
    hook = [e for e in report["events"] if e["message"].startswith("AfterAllowTraffic")]
    # (event times carry one decimal: 70.1 - 10.1 is 59.999... in floating point)
    assert round(hook[-1]["t_s"] - hook[0]["t_s"], 1) >= 60


def test_readers_see_metrics_only_after_their_visibility_delay() -> None:
    # The same 5 % error canary, told by what CloudWatch holds when each reader looks: the judge and
    # the alarms see a request a minute after it ran, so detection takes longer than a minute.
    report = run("error", rate=5)
    assert report["status"] == "Stopped"
    assert report["detection_s"] is not None and report["detection_s"] >= 60


def test_the_rehearsed_hooks_carry_their_dead_letter_queue_and_the_judge_none() -> None:
    from safedeploy.rehearsal.run import _deployment, _hooks

    dep, _ = _deployment(RehearsalOptions(ROOT / "template.yaml", "HelloWorldFunction"))
    mapping = {
        "stack": "rehearsal",
        "ServerlessDeploymentApplication": "app",
        "HelloWorldFunction.Version": "2",
    }
    pre, post, judge = _hooks(dep, mapping)
    assert pre is not None and post is not None and judge is not None
    assert (pre.dead_letter, post.dead_letter, judge.dead_letter) == (True, True, False)


def test_rehearse_draws_its_timeline(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    from safedeploy import cli

    picture = tmp_path / "out" / "timeline.svg"
    args = ["rehearse", str(ROOT / "template.yaml"), "--function", "HelloWorldFunction"]
    args += ["--fault", "error", "--fault-rate", "5"]
    code = cli.main([*args, "--speed", "100000", "--svg", str(picture)])
    assert code == 0
    text = picture.read_text()
    ET.fromstring(text)  # well-formed SVG
    for label in (
        "first bad answer",
        "rollback decided",
        "traffic back on v1",
        "gate-emf-error-rate",
        "hooks",
    ):
        assert label in text


def test_rehearse_svg_refuses_an_unknown_picture_format(capsys: pytest.CaptureFixture[str]) -> None:
    from safedeploy import cli

    assert cli.main(["rehearse", str(ROOT / "template.yaml"), "--svg", "timeline.gif"]) == 2
    assert "must end in .svg or .png" in capsys.readouterr().err


def test_rehearse_svg_without_matplotlib_says_what_to_install(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    from safedeploy.cli.picture import draw
    from safedeploy.errors import UserError

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(UserError, match=r"safedeploy\[svg\]"):
        draw({"timeline": {}}, tmp_path / "x.svg")


def test_the_step_judge_stops_a_bad_canary_before_the_alarms_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from safedeploy import cli

    def rehearsed(seed: int, *extra: str) -> str:
        args = ["rehearse", str(ROOT / "template.yaml"), "--function", "HelloWorldFunction"]
        args += ["--fault", "error", "--fault-rate", "5"]
        assert cli.main([*args, "--seed", str(seed), "--speed", "100000", *extra]) == 0
        return capsys.readouterr().out

    def detection(out: str) -> float:
        return float(out.split("detection: ")[1].split(" s", maxsplit=1)[0])

    # GIVEN the same requests at the same times (seed 1), with and without the step judge
    judged, alone = rehearsed(1), rehearsed(1, "--without-step-judge")
    # THEN the judge stopped it, sooner than what stops it without the judge: the gate alarm, or the
    # function's in-band breaker, which reaches FAIL about when the alarm fires (which is first
    # depends on the hooks' wall time, by a request or two)
    assert "caught by step judge" in judged and "step judge: FAIL -> stopped" in judged
    assert "caught by alarm" in alone or "caught by in-band breaker" in alone
    assert detection(judged) < detection(alone)


def test_the_in_band_breaker_stops_its_own_bad_canary_and_leaves_a_healthy_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from safedeploy import cli

    def rehearsed(*extra: str) -> str:
        args = ["rehearse", str(ROOT / "template.yaml"), "--function", "HelloWorldFunction"]
        args += ["--rps", "200", "--speed", "100000", *extra]
        cli.main(args)
        return capsys.readouterr().out

    # GIVEN 200 requests/s (20 on the canary, two execution environments) and 5 % errors
    bad = rehearsed("--fault", "error", "--fault-rate", "5", "--without-step-judge")
    # THEN the function's own breaker stops it through StopDeployment, before any gate alarm would
    assert "caught by in-band breaker" in bad and "in-band breaker: StopDeployment" in bad
    assert float(bad.split("detection: ")[1].split(" s", maxsplit=1)[0]) < 90
    # AND a healthy version at the same traffic is never stopped by it
    healthy = rehearsed("--fault", "none")
    assert "outcome: succeeded" in healthy.lower() and "in-band breaker" not in healthy
