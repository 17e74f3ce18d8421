"""A gate the pull request cannot switch off: `check --strict` takes ignores only from the pipeline
(--ignore, --config), never from the change it checks, and never ignores a template error; JSON
templates with duplicate keys are refused as YAML ones are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from safedeploy import cli
from tests.helpers import ROOT

NO_ALARM = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
{metadata}    Properties:
      Handler: app.handler
      Runtime: python3.13
      CodeUri: src/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
"""
METADATA = "    Metadata:\n      safedeploy:\n        ignore: [SD103]\n"


def _rules(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(["check", "--format", "json", *args])
    out = capsys.readouterr().out
    return code, sorted(f["rule"] for f in json.loads(out)) if out else []


def test_the_changes_own_ignores_count_only_without_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a pull request whose config beside the template and whose Metadata ignore its error (SD103)
    template = tmp_path / "template.yaml"
    template.write_text(NO_ALARM.format(metadata=""))
    (tmp_path / ".safedeploy.toml").write_text('ignore = ["SD103"]\n')
    assert _rules([str(template)], capsys) == (0, ["SD105"])
    # WHEN the pipeline checks it --strict THEN the error stands
    assert _rules([str(template), "--strict"], capsys) == (1, ["SD103", "SD105"])
    template.write_text(NO_ALARM.format(metadata=METADATA))
    (tmp_path / ".safedeploy.toml").unlink()
    assert _rules([str(template)], capsys) == (0, ["SD105"])
    assert _rules([str(template), "--strict"], capsys) == (1, ["SD103", "SD105"])


def test_strict_takes_the_pipelines_config_and_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "pr" / "template.yaml"
    template.parent.mkdir()
    template.write_text(NO_ALARM.format(metadata=""))
    base = tmp_path / "base.toml"  # the base branch's config, named by the pipeline
    base.write_text('ignore = ["SD105"]\n')
    assert _rules([str(template), "--strict", "--config", str(base)], capsys) == (1, ["SD103"])
    assert _rules([str(template), "--strict", "--ignore", "SD103"], capsys) == (0, ["SD105"])


@pytest.mark.parametrize("rule", ["SD002", "SD003", "E9003"])
def test_strict_refuses_to_ignore_a_template_error(
    rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources: {Fn: {Type: [x]}}\n")
    code = cli.main(["check", str(template), "--strict", "--ignore", rule])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be ignored" in err
    # without --strict the id is accepted, and the error is reported all the same
    code, rules = _rules([str(template), "--ignore", rule], capsys)
    assert (code, rules) == (1, ["SD002"])


def test_a_json_template_with_a_duplicate_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a second DeploymentPreference that would silently replace the first
    template = tmp_path / "template.json"
    template.write_text(
        '{"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": {"Type": "AWS::Serverless::Function",'
        ' "Properties": {"CodeUri": "s", "Handler": "h", "Runtime": "python3.13", "AutoPublishAlias": "live",'
        ' "DeploymentPreference": {"Type": "Canary10Percent5Minutes"},'
        ' "DeploymentPreference": {"Type": "AllAtOnce"}}}}}'
    )
    code = cli.main(["check", str(template), "--format", "json"])
    (finding,) = json.loads(capsys.readouterr().out)
    assert code == 1 and finding["rule"] == "SD002"
    assert "duplicate key 'DeploymentPreference'" in finding["message"]


def test_the_shipped_pipeline_and_hook_run_check_strict() -> None:
    workflow = (ROOT / ".github" / "workflows" / "pipeline.yml").read_text()
    runs = re.findall(r"safedeploy check[^\n]*", workflow)
    assert runs and all("--strict" in r and "--config .gate/" in r for r in runs)
    # the gate's code comes from the base branch, not from the pull request
    assert "path: .gate" in workflow and "pip install ./.gate" in workflow
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: safedeploy check --strict" in hook
