"""The pipeline users copy: workflows valid for actionlint, wired to samconfig's stacks, OIDC only;
its AWS set-up template valid; the pre-commit hook manifest valid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.template.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (requirements-dev.txt installs it)")
        pytest.skip(f"{name} not installed: run `make test`")
    return str(found)


def _workflow(name: str) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    return {("on" if k is True else k): v for k, v in yaml.safe_load((WORKFLOWS / name).read_text()).items()}


def test_actionlint_passes_on_the_workflows() -> None:
    proc = subprocess.run(
        [_tool("actionlint"), *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_environment_deploys_its_own_samconfig_stack_in_order() -> None:
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
    jobs = _workflow("pipeline.yml")["jobs"]
    order = []
    for job in ("dev", "staging", "prod"):
        call = jobs[job]
        assert call["uses"] == "./.github/workflows/deploy.yml"
        inputs = call["with"]
        assert samconfig[inputs["config-env"]]["global"]["parameters"]["stack_name"] == inputs["stack"]
        assert call["permissions"]["id-token"] == "write"
        order.append(call["needs"])
    assert order == ["build", "dev", "staging"]  # prod only after staging
    assert jobs["prod"]["with"]["environment"] == "prod"  # whose required reviewers approve
    # only prod prunes, after its deployment succeeded
    assert [jobs[j]["with"].get("prune-keep", 0) for j in ("dev", "staging", "prod")] == [0, 0, 10]
    prune = next(
        s for s in _workflow("deploy.yml")["jobs"]["deploy"]["steps"] if s.get("name", "").startswith("Prune")
    )
    assert prune["if"] == "success() && inputs.prune-keep > 0" and "--yes" in prune["run"]


def test_deployments_use_short_lived_credentials_and_are_followed() -> None:
    deploy = _workflow("deploy.yml")
    steps = deploy["jobs"]["deploy"]["steps"]
    credentials = next(
        s for s in steps if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
    )
    assert "role-to-assume" in credentials["with"]
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    script = next(s["run"] for s in steps if s.get("name") == "Deploy and follow the deployment")
    assert "safedeploy watch --stack" in script and "--since" in script and "exit 1" in script


def test_findings_go_to_code_scanning() -> None:
    steps = _workflow("pipeline.yml")["jobs"]["check"]["steps"]
    assert any("--format sarif" in str(s.get("run", "")) for s in steps)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "safedeploy.sarif"


def test_the_aws_set_up_template_is_valid_and_least_privilege() -> None:
    path = ROOT / "pipeline" / "github-oidc-role.yaml"
    proc = subprocess.run([_tool("cfn-lint"), "--", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from safedeploy.template.loader import load_template

    resources = load_template(path)["Resources"]
    trust = resources["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
    }
    assert "token.actions.githubusercontent.com:sub" in trust["Condition"]["StringLike"]
    statements = resources["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passes == [
        {
            "Sid": "PassTheExecutionRoleOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        }
    ]
    # only actions that take no resource ARN (GetMetricData: the CloudWatch permissions reference
    # gives "*" as its resource)
    wildcard = [s["Sid"] for s in statements if s["Resource"] == "*"]
    assert wildcard == ["TemplateSummary", "ReadVersionMetrics", "PruneAccountReads"]
    assert (
        next(s for s in statements if s["Sid"] == "ReadVersionMetrics")["Action"]
        == "cloudwatch:GetMetricData"
    )


def test_the_pre_commit_hook_manifest_is_valid() -> None:
    proc = subprocess.run(
        [_tool("pre-commit"), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "safedeploy check --strict" and hook["language"] == "python"
