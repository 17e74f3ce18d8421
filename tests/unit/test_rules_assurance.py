"""`check` gives no false reassurance: functions that serve traffic with nothing gradual, hooks that
cannot find their smoke cases, a samconfig that cannot deploy nested applications."""

from __future__ import annotations

from pathlib import Path

import pytest

from safedeploy.rules import Finding, check
from safedeploy.template.scope import build_scope
from tests.helpers import ROOT


def project_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The project's template (optionally changed) beside links to its nested apps and code."""
    for folder in ("hooks", "alarms", "hello_world", "echo"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    path = tmp_path / "template.yaml"
    path.write_text(text if text is not None else (ROOT / "template.yaml").read_text())
    return path


def found(path: Path, rule: str) -> list[Finding]:
    return [f for f in check(build_scope(path)) if f.rule == rule]


PROJECT = (ROOT / "template.yaml").read_text()


@pytest.mark.parametrize(
    ("tag", "says"),
    [
        ("safedeploy:smoke-case: hello_world", "has 'safedeploy:smoke-case' instead (a typo?)"),
        ("team: payments", "has no such tag"),
        ("safedeploy:smoke-cases: hello_wrld", "names no case file"),
    ],
)
def test_a_function_this_kit_s_hooks_cannot_find_cases_for_is_reported(
    tmp_path: Path, tag: str, says: str
) -> None:
    assert "        safedeploy:smoke-cases: hello_world\n" in PROJECT
    path = project_copy(tmp_path, PROJECT.replace("safedeploy:smoke-cases: hello_world", tag))
    (finding,) = found(path, "SD111")
    assert (
        finding.resource == "HelloWorldFunction" and finding.severity == "warning" and says in finding.message
    )


def test_the_project_s_tags_name_existing_case_files(tmp_path: Path) -> None:
    assert not found(project_copy(tmp_path), "SD111")


@pytest.mark.parametrize(
    ("capabilities", "reported"),
    [('"CAPABILITY_IAM"', True), ('["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]', False), (None, False)],
)
def test_a_samconfig_without_auto_expand_for_nested_applications(
    tmp_path: Path, capabilities: str | None, reported: bool
) -> None:
    path = project_copy(tmp_path)
    line = f"capabilities = {capabilities}\n" if capabilities else ""
    (tmp_path / "samconfig.toml").write_text(
        f'version = 0.1\n[prod.deploy.parameters]\nstack_name = "x"\n{line}'
    )
    result = found(path, "SD004")
    assert [(f.severity, f.resource) for f in result] == (
        [("warning", "EchoAlarms")] if reported else []
    )  # the first, by name
    if reported:
        assert "'prod'" in result[0].message and "CAPABILITY_AUTO_EXPAND" in result[0].message


SERVING = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.13, Handler: app.handler, CodeUri: s3://bucket/key}
Resources:
  Gradual:
    Type: AWS::Serverless::Function
    Properties:
      AutoPublishAlias: live
      DeploymentPreference: {Type: Canary10Percent5Minutes, Hooks: {PreTraffic: !Ref Hook}}
      Events: {Get: {Type: HttpApi}}
  Hook:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: CodeDeployHook_pre, DeploymentPreference: {Enabled: false}}
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Events: {Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:orders}}}
  Public:
    Type: AWS::Serverless::Function
    Properties:
      FunctionUrlConfig: {AuthType: NONE}
"""


def test_functions_serving_traffic_with_nothing_gradual_get_one_note(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SERVING)
    (note,) = found(path, "SD109")
    assert (
        note.severity == "info"
        and note.resource == "Orders"
        and note.details == {"functions": ["Orders", "Public"]}
    )
    assert "Gradual" not in note.message and "Hook" not in note.message
