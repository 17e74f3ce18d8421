"""`pip install` of the project into a fresh venv outside the repository gives a working `safedeploy`
for another project's template, run from another directory."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

OTHER_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent10Minutes
"""


def test_a_fresh_install_checks_plans_and_judges_another_project(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    tool = env_dir / "bin" / "safedeploy"
    project = tmp_path / "orders-service"
    (project / "src").mkdir(parents=True)
    (project / "template.yaml").write_text(OTHER_TEMPLATE)
    (project / "judge.json").write_text(
        json.dumps(
            {"baseline": {"invocations": 27000, "errors": 270}, "canary": {"invocations": 3000, "errors": 90}}
        )
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(tool), *args], capture_output=True, text=True, cwd=workdir, check=False)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("safedeploy ")
    check = run("check", str(project / "template.yaml"), "--format", "json")
    assert check.returncode == 1, check.stderr  # a canary that nothing can roll back
    assert "SD103" in {f["rule"] for f in json.loads(check.stdout)}
    plan = run("plan", str(project / "template.yaml"), "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["functions"][0]["deployment_type"] == "Canary10Percent10Minutes"
    judge = run("judge", "--input", str(project / "judge.json"), "--format", "json")
    assert judge.returncode == 1 and json.loads(judge.stdout)["verdict"] == "FAIL"  # 1 % -> 3 %
    assert sys.prefix not in str(tool)  # really the fresh environment, not this one
