"""The CLI's offline commands: output shapes, exit codes, and one-line errors (never a traceback)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from safedeploy import cli
from tests.helpers import EVENTS, ROOT


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


FUNCTION = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      DeploymentPreference: {preference}
"""


def check_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], preference: str
) -> tuple[int, list[dict[str, str]]]:
    """`safedeploy check --format json` on a one-function template with this DeploymentPreference."""
    template = tmp_path / "t.yaml"
    template.write_text(FUNCTION.format(preference=preference))
    code, out, _ = run(["check", str(template), "--format", "json"], capsys)
    return code, json.loads(out)


def test_check_json_on_the_project_template(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(ROOT / "template.yaml"), "--format", "json"], capsys)
    findings = json.loads(out)
    assert code == 0
    # the gates' nominal worst cases (2 of 2 one-minute periods: 60 + 120 + 60 + 10 = 250 s; the
    # 10-s EMF gate 110 s) all fit the 5-minute canary's first step
    assert {f["rule"] for f in findings} == {"SD105", "SD106"}
    # today's keys, plus where: file, line, column, and what the message leaves out: details
    assert all(
        set(f) == {"rule", "severity", "resource", "message", "file", "line", "column", "details"}
        for f in findings
    )


def test_the_timing_assumptions_are_cli_settings(capsys: pytest.CaptureFixture[str]) -> None:
    template = str(ROOT / "template.yaml")
    # CloudWatch having the metrics 4 minutes late: 60 + 120 + 240 + 10 = 430 s, past the 300-s shift
    code, out, _ = run(["check", template, "--format", "json", "--metric-delay", "240"], capsys)
    slow = [f for f in json.loads(out) if f["rule"] == "SD311"]
    assert code == 0 and slow and all(f["severity"] == "warning" for f in slow)
    assert "nominal worst case 430 s" in next(f["message"] for f in slow if "ErrorRateGate" in f["resource"])
    code, out, _ = run(["plan", template, "--format", "json", "--alarm-poll", "30"], capsys)
    gate = json.loads(out)["functions"][0]["alarms"][0]
    assert gate["detection"]["poll_s"] == 30 and gate["detection"]["nominal"] is True
    assert gate["detection_s"] == 60 + 120 + 60 + 30
    code, out, _ = run(["timing", template, "--format", "json", "--metric-delay", "0"], capsys)
    report = json.loads(out)
    assert report["fastest_1min_gate_s"] == 60 + 60 + 0 + 10
    assert report["nominal"] == {"alarm_poll_s": 10, "metric_delay_s": 0}


@pytest.mark.parametrize("value", ["-1", "3601", "1.5", "nan", "ten"])
def test_a_timing_assumption_out_of_range_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plan", str(ROOT / "template.yaml"), "--alarm-poll", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--alarm-poll" in err and "Traceback" not in err


def test_check_exits_1_on_an_error_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = check_json(tmp_path, capsys, "{Type: Linear10PercentEvery1Minute}")
    assert code == 1 and any(f["rule"] == "SD103" for f in findings)


def test_plan_json_per_environment(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["plan", str(ROOT / "template.yaml"), "--config-env", "staging", "--format", "json"], capsys
    )
    plan = json.loads(out)
    hello = next(f for f in plan["functions"] if f["function"] == "HelloWorldFunction")
    assert code == 0 and hello["deployment_type"] == "Linear10PercentEvery1Minute"
    assert [s["percent"] for s in hello["steps"]] == [10.0 * k for k in range(1, 11)]
    assert hello["shift_s"] == 540 and hello["first_window_possible"] is False
    # a hook that keeps raising: 3 tries of 120 s, 1 + 2 minutes between, the dead-letter consumer's report
    assert hello["pre_traffic_hook"] == {
        "name": "Hooks/PreTrafficHook",
        "timeout_s": 120,
        "dead_letter": True,
        "max_s": 3 * 120 + 60 + 120 + 10,
    }
    assert hello["post_traffic_hook"]["max_s"] == 3 * 180 + 60 + 120 + 10
    # the longest total allows for SAM's reading of a linear shift, one interval more than CodeDeploy's
    assert hello["total_max_s"] == 540 + 60 + 550 + 730
    assert "CodeDeploy API reference" in hello["schedule_note"] and "SAM's guide" in hello["schedule_note"]
    gate = {a["resource"]: a for a in hello["alarms"]}["HelloWorldAlarms/ErrorRateGate"]
    # 2 of 2 one-minute periods of a sliding window: the fault's first minute lost + 120 + 60 metric
    # delay + no wait (the data is visible on an evaluation minute) + 10 poll; at best 60 + 60
    assert (gate["detection_s"], gate["detection"]["best_s"], gate["fits"]) == (250, 120, "whole-shift")
    assert gate["detection"]["floor_s"] == 60
    assert {k: gate["detection"][k] for k in ("alignment_s", "visibility_s", "evaluation_s", "poll_s")} == {
        "alignment_s": 60,
        "visibility_s": 60,
        "evaluation_s": 0,
        "poll_s": 10,
    }
    assert any("assumed" in a for a in gate["detection"]["assumptions"])


def test_plan_text_mentions_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["plan", str(ROOT / "template.yaml"), "--config-env", "prod"], capsys)
    assert code == 0 and "BeforeAllowTraffic" in out and "AfterAllowTraffic" in out and "100.0 %" in out


@pytest.mark.parametrize(
    ("document", "exit_code", "verdict"),
    [
        (
            {
                "baseline": {"invocations": 27000, "errors": 270},
                "canary": {"invocations": 3000, "errors": 90},
            },
            1,
            "FAIL",
        ),
        (
            {
                "baseline": {"invocations": 27000, "errors": 270},
                "canary": {"invocations": 3000, "errors": 30},
            },
            0,
            "PASS",
        ),
        (
            {"baseline": {"invocations": 27000, "errors": 270}, "canary": {"invocations": 10, "errors": 0}},
            3,
            "NODATA",
        ),
        (
            {
                "baseline": {"invocations": 27000, "errors": 270, "duration_p99_ms": [200, 210]},
                "canary": {"invocations": 3000, "errors": 30, "duration_p99_ms": [200, 201]},
            },
            3,
            "INCONCLUSIVE",
        ),
    ],
)
def test_judge_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: object, exit_code: int, verdict: str
) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    code, out, _ = run(["judge", "--input", str(path), "--format", "json"], capsys)
    result = json.loads(out)
    assert code == exit_code and result["verdict"] == verdict
    if result["metrics"]:
        assert set(result["metrics"][0]) == {
            "name",
            "baseline",
            "canary",
            "effect",
            "p_value",
            "result",
            "reason",
        }


def test_judge_on_the_sample_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["judge", "--input", str(EVENTS / "judge_input.json")], capsys)
    assert code == 1 and "FAIL" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"canary": {"invocations": 1, "errors": 0}}', "lacks 'baseline'"),
        (
            '{"baseline": {"invocations": 1, "errors": -1}, "canary": {"invocations": 1, "errors": 0}}',
            "baseline.errors must not be negative",
        ),
        (
            '{"baseline": {"invocations": 1, "errors": 2}, "canary": {"invocations": 1, "errors": 0}}',
            "exceeds baseline.invocations",
        ),
    ],
)
def test_judge_bad_input_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    code, out, err = run(["judge", "--input", str(path)], capsys)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "does-not-exist.yaml"], "template not found"),
        (["plan", str(ROOT / "template.yaml"), "--config-env", "qa"], "samconfig has no environment 'qa'"),
        (["plan", str(ROOT / "template.yaml"), "--parameter", "Nope=1"], "has no parameter(s) Nope"),
        (["judge", "--input", "missing.json"], "cannot read missing.json"),
    ],
)
def test_user_errors_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_not_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: [unclosed")
    # check: the template's problem is its finding, in every format, exit 1
    code, out, _ = run(["check", str(bad), "--format", "json"], capsys)
    assert code == 1 and [(f["rule"], f["severity"]) for f in json.loads(out)] == [("SD002", "error")]
    assert "not a valid YAML/JSON template" in json.loads(out)[0]["message"]
    # other commands: one line, exit 2
    code, _, err = run(["plan", str(bad)], capsys)
    assert code == 2 and "not a valid YAML/JSON template" in err


@pytest.mark.parametrize(
    ("text", "rule", "message"),
    [
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            "    Properties: {Runtime: python3.13, Handler: a.b, InlineCode: x, AutoPublishAlias: live,"
            " DeploymentPreference: {Enabled: true}}\n",
            "SD003",
            "'DeploymentPreference' is missing required Property 'Type'",
        ),
        ("Transform: 42\nResources: {T: {Type: AWS::SNS::Topic}}\n", "SD003", "Transform must be a name"),
        (  # the translator's own validation, before translating: a traceback here once
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            "    Condition: true\n    Properties: {Runtime: python3.13, Handler: a.b, InlineCode: x}\n",
            "SD003",
            "Every Condition member must be a string",
        ),
        ("Resources: []\n", "SD002", "not a CloudFormation/SAM template"),
    ],
)
def test_a_template_sam_cannot_read_is_a_finding_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, rule: str, message: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    code, out, _ = run(["check", str(path), "--format", "json"], capsys)
    (finding,) = json.loads(out)
    assert code == 1 and finding["rule"] == rule and message in finding["message"]
    code, out, _ = run(["check", str(path), "--format", "sarif"], capsys)
    assert code == 1 and json.loads(out)["runs"][0]["results"][0]["ruleId"] == rule
    code, out, _ = run(["check", str(path)], capsys)
    assert code == 1 and rule in out


def test_findings_can_be_ignored_by_id_by_resource_and_by_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (ROOT / "template.yaml").read_text()
    for folder in ("hooks", "alarms", "hello_world", "echo"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    path = tmp_path / "template.yaml"
    path.write_text(source)

    def rule_ids(*extra: str) -> list[str]:
        # SD311 (the one-minute gates' worst case, see above) is left out of this test
        code, out, _ = run(["check", str(path), "--format", "json", "--ignore", "SD311", *extra], capsys)
        assert code == 0
        return sorted(f["rule"] for f in json.loads(out))

    assert rule_ids() == ["SD105", "SD106"]
    assert rule_ids("--ignore", "SD105") == ["SD106"]
    assert rule_ids("--ignore", "SD105,SD106") == []
    assert rule_ids("--ignore", "I9105,w9106") == []  # cfn-lint's ids name the same rules
    # a resource's own Metadata, ours or cfn-lint's
    path.write_text(
        source.replace(
            "  HelloWorldFunction:\n    Type: AWS::Serverless::Function\n",
            "  HelloWorldFunction:\n    Type: AWS::Serverless::Function\n"
            "    Metadata:\n      cfn-lint:\n        config:\n          ignore_checks: [W9106]\n",
        )
    )
    assert rule_ids() == ["SD105"]
    path.write_text(
        source.replace(
            "  HelloWorldFunction:\n    Type: AWS::Serverless::Function\n",
            "  HelloWorldFunction:\n    Type: AWS::Serverless::Function\n"
            "    Metadata:\n      safedeploy:\n        ignore: [SD106]\n",
        )
    )
    assert rule_ids() == ["SD105"]
    # a config file next to the template
    (tmp_path / ".safedeploy.toml").write_text('ignore = ["SD105"]\n')
    assert rule_ids() == []
    code, _, err = run(["check", str(path), "--ignore", "SD999"], capsys)
    assert code == 2 and "no such rule: SD999" in err


def test_the_documented_rule_table_is_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    import re

    from safedeploy.rules.registry import RULES

    readme = (ROOT / "docs" / "check.md").read_text()
    table = re.findall(r"^\| (SD\d+) \| ([EWI]9\d+) \| ([^|]+) \| ([^|]+) \| (.+) \|$", readme, re.M)
    assert [(r, c, s.strip(), k.strip(), t.strip()) for r, c, s, k, t in table] == [
        (rule, r.cfnlint_id, r.severity, r.kind, r.title) for rule, r in RULES.items()
    ]
    code, out, _ = run(["check", "--list-rules", "--format", "json"], capsys)
    assert code == 0 and [r["rule"] for r in json.loads(out)] == list(RULES)


def test_no_region_is_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, _, err = run(["watch", "--stack", "s"], capsys)
    assert code == 2 and "no AWS region" in err


def test_timing_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["timing", str(ROOT / "template.yaml"), "--format", "json"], capsys)
    report = json.loads(out)
    rows = {r["deployment_type"]: r for r in report["types"]}
    assert code == 0 and report["fastest_1min_gate_s"] == 60 + 60 + 60 + 10
    five = rows["Canary10Percent5Minutes"]["alarms"]
    assert five["HelloWorldAlarms/EmfErrorRateGate"] == "first-step"
    assert five["HelloWorldAlarms/ErrorRateGate"] == "first-step"  # 250 s, nominal
    assert rows["Linear10PercentEvery2Minutes"]["alarms"]["HelloWorldAlarms/ErrorRateGate"] == "whole-shift"
    assert set(rows["Canary10Percent10Minutes"]["alarms"].values()) == {"first-step"}
    assert rows["Linear10PercentEvery1Minute"]["fastest_1min_gate_fits_first_window"] is False
    assert set(rows["AllAtOnce"]["alarms"].values()) == {"never"}


def test_unforeseen_malformed_input_is_still_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr("safedeploy.template.scope.build_scope", boom)
    code, _, err = run(["plan", str(ROOT / "template.yaml")], capsys)
    assert code == 2 and err.count("\n") == 1 and "IndexError: list index out of range" in err
    monkeypatch.setenv("SAFEDEPLOY_DEBUG", "1")
    with pytest.raises(IndexError):
        cli.main(["plan", str(ROOT / "template.yaml")])


def test_a_numeric_deployment_type_is_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = check_json(
        tmp_path, capsys, "{Type: 42, Hooks: {PreTraffic: !GetAtt Missing.Outputs.X}}"
    )
    rules = {(f["rule"], f["severity"]) for f in findings}
    assert code == 0 and ("SD101", "warning") in rules and ("SD251", "warning") in rules


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rps", "1e9"], "--rps must be at most 1000"),
        (["--speed", "1e-6"], "--speed must be within 1..1e+06"),
        (["--speed", "inf"], "--speed and --rps must be positive"),
    ],
)
def test_rehearsals_that_would_never_end_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["rehearse", str(ROOT / "template.yaml"), *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_huge_template_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("Resources:\n" + "".join(f"  R{i}:\n    Type: AWS::SNS::Topic\n" for i in range(40_000)))
    for command in ("check", "plan", "timing"):
        code, _, err = run([command, str(big)], capsys)
        assert code == 2 and "is more than CloudFormation accepts" in err


def test_a_template_with_too_many_resources_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = tmp_path / "many.json"
    many.write_text(json.dumps({"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(2500)}}))
    code, _, err = run(["check", str(many)], capsys)
    assert code == 2 and "2500 resources; CloudFormation accepts at most 500" in err


def test_judge_refuses_absurd_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "judge.json"
    path.write_text(
        json.dumps(
            {"baseline": {"invocations": 10**16, "errors": 0}, "canary": {"invocations": 1, "errors": 0}}
        )
    )
    code, _, err = run(["judge", "--input", str(path)], capsys)
    assert code == 2 and "baseline.invocations must be at most 1000000000000000" in err


@pytest.mark.parametrize("env", ["default", "staging", "prod"])
def test_plan_at_80_columns_names_every_gate_alarm_in_full(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(["plan", str(ROOT / "template.yaml"), "--config-env", env], capsys)
    assert code == 0 and "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    # nothing wrapped: every line but the title and the function headers is indented
    wrapped = [x for x in out.splitlines()[1:] if x and not x.startswith(" ") and "→ alias" not in x]
    assert wrapped == []
    names = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and "Gate" in line]
    # every gate, by its own name, under the alarm pack that defines it
    assert names.count("ErrorRateGate") == 2 and "EmfErrorRateGate" in names and "ThrottleGate" in names
    assert "gate alarms in HelloWorldAlarms" in out and "gate alarms in EchoAlarms" in out


def test_no_colour_when_not_a_terminal_or_no_color(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["plan", str(ROOT / "template.yaml")], capsys)
    assert code == 0 and "\x1b[" not in out  # captured: not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")  # even a forced terminal stays plain with NO_COLOR
    code, out, _ = run(["check", str(ROOT / "template.yaml")], capsys)
    assert "\x1b[1m" in out  # a terminal: bold stays
    assert not re.search(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[;m]", out)  # but no colour at all


def test_check_writes_sarif_for_code_scanning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(ROOT / "template.yaml"), "--format", "sarif"], capsys)
    sarif = json.loads(out)
    assert code == 0 and sarif["version"] == "2.1.0"
    (run_,) = sarif["runs"]
    assert run_["tool"]["driver"]["name"] == "safedeploy"
    rules = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run_["results"]} == rules and rules >= {"SD105", "SD106"}
    for result in run_["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("template.yaml")
        assert location["region"]["startLine"] > 1  # on the function's own line
        assert result["message"]["text"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("safedeploy 0.")


@pytest.mark.parametrize("command", ["timing", "check"])
def test_narrow_terminals_cut_no_name(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # a terminal: check draws its table
    code, out, _ = run([command, str(ROOT / "template.yaml")], capsys)
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert code == 0 and "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    if command == "timing":
        for name in ("ErrorRateGate", "EmfErrorRateGate", "Linear10PercentEvery10Minutes", "AllAtOnce"):
            assert name in out


def test_every_finding_says_where_to_change_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(ROOT / "template.yaml"), "--format", "json"], capsys)
    findings = json.loads(out)
    assert code == 0
    for f in findings:
        assert f["file"].endswith("template.yaml") and f["line"] >= 1 and f["column"] >= 1
        lines = Path(f["file"]).read_text().splitlines()
        # the resource's own line, in the template that holds it (a nested app's for App/Resource)
        assert lines[f["line"] - 1].strip() == f"{f['resource'].split('/')[-1]}:"


def test_a_nested_finding_points_into_the_nested_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("hooks", "hello_world", "echo"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    (tmp_path / "alarms").mkdir()
    alarms = (ROOT / "alarms" / "template.yaml").read_text()
    (tmp_path / "alarms" / "template.yaml").write_text(
        alarms.replace("TreatMissingData: notBreaching", "TreatMissingData: breaching", 1)
    )
    (tmp_path / "template.yaml").write_text((ROOT / "template.yaml").read_text())
    code, out, _ = run(["check", str(tmp_path / "template.yaml"), "--format", "json"], capsys)
    nested = [f for f in json.loads(out) if f["rule"] == "SD310"]
    assert code == 0
    assert nested and all(f["file"].endswith("alarms/template.yaml") for f in nested)
    text = (tmp_path / "alarms" / "template.yaml").read_text().splitlines()
    assert all(text[f["line"] - 1].strip() == f["resource"].split("/")[-1] + ":" for f in nested)


def test_circular_conditions_are_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nConditions:\n  A: !Condition B\n  B: !Not [!Condition A]\n"
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Condition: A\n"
    )
    code, out, _ = run(["check", str(path), "--format", "json"], capsys)
    (finding,) = json.loads(out)
    assert (
        code == 1 and finding["rule"] == "SD002" and "circular Conditions: A -> B -> A" in finding["message"]
    )


@pytest.mark.parametrize("width", ["40", "60"])
def test_plan_on_a_narrow_terminal_cuts_no_name(
    width: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", width)
    code, out, _ = run(["plan", str(ROOT / "template.yaml"), "--config-env", "staging"], capsys)
    assert code == 0 and "…" not in out
    for name in ("ErrorRateGate", "EmfErrorRateGate", "ThrottleGate", "HelloWorldFunction", "EchoFunction"):
        assert name in out


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import jsonschema

    schema_path = ROOT / ".venv" / "share" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        if os.environ.get("CI"):
            pytest.fail("the SARIF schema is not installed (make test installs it)")
        pytest.skip("SARIF schema not installed: run `make test`")
    validator_class = jsonschema.validators.validator_for(json.loads(schema_path.read_text()))
    validator = validator_class(json.loads(schema_path.read_text()))
    bad = tmp_path / "template.yaml"
    bad.write_text(FUNCTION.format(preference="{Type: Linear10PercentEvery1Minute}"))
    for template in (ROOT / "template.yaml", bad):
        _, out, _ = run(["check", str(template), "--format", "sarif"], capsys)
        document = json.loads(out)
        assert list(validator.iter_errors(document)) == []
    # and the validator does catch a broken document
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(document))


def test_rehearse_does_not_pick_a_scenario_for_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Env:\n    Type: String\n"
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Runtime: python3.13\n      Handler: app.handler\n      InlineCode: x\n"
        "      AutoPublishAlias: live\n      DeploymentPreference:\n"
        "        Type: !If [IsProd, Canary10Percent15Minutes, AllAtOnce]\n"
    )
    code, _, err = run(["rehearse", str(path), "--function", "Fn"], capsys)
    assert code == 2 and "depends on condition(s) IsProd" in err and err.count("\n") == 1


def test_a_translation_that_needs_parameter_values_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  AliasName:\n    Type: String\nResources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.13\n"
        "      Handler: app.handler\n      InlineCode: x\n      AutoPublishAlias: !Ref AliasName\n"
        "      DeploymentPreference:\n        Type: Canary10Percent5Minutes\n"
    )
    # offline, AliasName has no value: SAM fails for that alone, which proves nothing about the template
    code, out, _ = run(["check", str(path), "--format", "json"], capsys)
    (finding,) = json.loads(out)
    assert code == 0 and (finding["rule"], finding["severity"]) == ("SD053", "warning")
    assert "without values for AliasName" in finding["message"]
    # with the value, the template is checked (and this canary can never roll back)
    code, out, _ = run(["check", str(path), "--format", "json", "--parameter", "AliasName=live"], capsys)
    assert code == 1 and "SD103" in {f["rule"] for f in json.loads(out)}


def test_plan_names_the_traffic_each_guarded_gate_needs(capsys: pytest.CaptureFixture[str]) -> None:
    # at 10 % canary, a guard of 20 invocations per minute needs 200 requests a minute in total
    def hello_at(rps: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = run(["plan", str(ROOT / "template.yaml"), "--format", "json", "--rps", rps], capsys)
        return code, next(f for f in json.loads(out)["functions"] if f["function"] == "HelloWorldFunction")

    code, hello = hello_at("2")
    gates = {a["resource"].split("/")[-1]: a for a in hello["alarms"]}
    assert code == 0
    assert (gates["ErrorRateGate"]["guard"], gates["ErrorRateGate"]["min_total_rps"]) == (20, 3.33)
    assert gates["ErrorRateGate"]["fires_at_rps"] is False
    assert (gates["EmfErrorRateGate"]["guard"], gates["EmfErrorRateGate"]["min_total_rps"]) == (5, 5.0)
    assert "guard" not in gates["ThrottleGate"]  # no invocation guard: fires on any throttle
    code, hello = hello_at("10")
    assert all(a["fires_at_rps"] for a in hello["alarms"] if "guard" in a)
    code, out, _ = run(["plan", str(ROOT / "template.yaml"), "--rps", "2"], capsys)
    assert "ErrorRateGate: 3.33 requests/s (20 per 60 s) — not met at --rps" in out


def test_plan_refuses_a_traffic_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["plan", str(ROOT / "template.yaml"), "--rps", "0"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--rps: '0': must be more than 0" in err and err.count("\n") == 1
