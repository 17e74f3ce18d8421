"""`check`'s text output in a pipe: one `path:line:column: severity rule resource: message` line per
finding, every finding with a real line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from safedeploy import cli
from tests.helpers import ROOT

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning|info) "
                  r"(?P<rule>SD\d{3}) (?P<resource>\S+): (?P<message>.+)$")  # fmt: skip

NO_TRANSFORM = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: s3://bucket/key
"""


def test_a_pipe_gets_one_parseable_line_per_finding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN this project with one gate of its nested alarm pack left on the default TreatMissingData
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("alarms", "hooks", "hello_world", "echo"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    pack = tmp_path / "alarms" / "template.yaml"
    pack.write_text(pack.read_text().replace("      TreatMissingData: notBreaching\n", "", 1))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "template.yaml"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0 and lines
    for line in lines:
        match = LINE.match(line)
        assert match, line
        assert int(match["line"]) >= 1 and (tmp_path / match["path"]).is_file()
    # a nested application's finding points into its own template, relative to where check runs
    assert any(line.startswith("alarms/template.yaml:") and " SD304 " in line for line in lines)


def test_the_no_transform_finding_has_the_resource_s_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(NO_TRANSFORM)
    code = cli.main(["check", str(path)])
    (line,) = capsys.readouterr().out.splitlines()
    match = LINE.match(line)
    assert code == 1 and match and match["rule"] == "SD001"
    assert (match["line"], match["column"]) == ("3", "3") and match["resource"] == "Fn"


def test_a_clean_template_prints_nothing_in_a_pipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        NO_TRANSFORM.replace(
            'AWSTemplateFormatVersion: "2010-09-09"', "Transform: AWS::Serverless-2016-10-31"
        )
    )
    assert cli.main(["check", str(path)]) == 0
    assert capsys.readouterr().out == ""
