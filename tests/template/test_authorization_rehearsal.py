"""The rehearsal's fake account enforces IAM: every call the hooks, the step judge, the breaker and
CodeDeploy itself make is decided by the policies the translated templates give their roles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from safedeploy.rehearsal.options import RehearsalOptions
from safedeploy.rehearsal.run import rehearse
from tests.template.conftest import ROOT
from tests.template.test_authorization import OLD_SHIFT

pytestmark = pytest.mark.slow


def run(template: Path, fault: str = "none", rate: float = 100.0) -> dict[str, Any]:
    return rehearse(
        RehearsalOptions(template, "HelloWorldFunction", fault, rate, None, speed=2000, rps=20, seed=7)
    )


@functools.cache
def runs() -> tuple[dict[str, Any], ...]:
    """A healthy release, one the pre-traffic hook stops, one stopped under load."""
    template = ROOT / "template.yaml"
    return run(template), run(template, "error"), run(template, "error", rate=5)


def with_hooks(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    """This app with its hooks' template edited (the hooks' code stays where it is)."""
    for folder in ("alarms", "hello_world", "echo", "hooks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    (tmp_path / "edited-hooks").mkdir()
    text = (
        (ROOT / "hooks" / "template.yaml")
        .read_text()
        .replace("    CodeUri: .\n", f"    CodeUri: {ROOT / 'hooks'}\n", 1)
    )
    (tmp_path / "edited-hooks" / "template.yaml").write_text(edit(text))
    root = (ROOT / "template.yaml").read_text()
    (tmp_path / "template.yaml").write_text(
        root.replace("Location: hooks/template.yaml", "Location: edited-hooks/template.yaml", 1)
    )
    return tmp_path / "template.yaml"


def old_role(text: str) -> str:
    """The hooks' CodeDeployRole as it was (aliases granted on `:*` only)."""
    start = text.index("              # Lambda authorizes GetAlias/UpdateAlias")
    end = text.index("              # metric-alarm gates only")
    return text[:start] + OLD_SHIFT + text[end:]


def test_every_call_of_every_rehearsed_deployment_is_allowed() -> None:
    decided = [d for report in runs() for d in report["authorization"]]
    assert [d for d in decided if d["decision"] != "allowed"] == []
    made = {(d["principal"], d["action"]) for d in decided}
    assert {
        ("codedeploy-service-role", "lambda:GetAlias"),
        ("codedeploy-service-role", "lambda:UpdateAlias"),
        ("codedeploy-service-role", "lambda:InvokeFunction"),
        ("codedeploy-service-role", "cloudwatch:DescribeAlarms"),
        ("rehearsal-PreTrafficHook", "lambda:InvokeFunction"),
        ("rehearsal-PreTrafficHook", "codedeploy:PutLifecycleEventHookExecutionStatus"),
        ("rehearsal-PostTrafficHook", "ssm:GetParameter"),
        ("rehearsal-StepJudgeFunction", "cloudwatch:GetMetricData"),
    } <= made
    stops = {p for p, a in made if a == "codedeploy:StopDeployment"}
    assert stops, "a deployment stopped under load: its StopDeployment was decided too"


def test_a_role_that_cannot_move_the_alias_fails_the_rehearsed_deployment(tmp_path: Path) -> None:
    report = run(with_hooks(tmp_path, old_role))
    assert report["status"] == "Failed" and report["caught_by"] == "IAM"
    assert "AccessDeniedException" in report["reason"] and "lambda:GetAlias" in report["reason"]
    assert "function:rehearsal-HelloWorldFunction " in report["reason"]  # the unqualified ARN
    assert report["requests"]["new_version"] == 0
    denied = [d for d in report["authorization"] if d["decision"] != "allowed"]
    assert [(d["principal"], d["action"]) for d in denied] == [("codedeploy-service-role", "lambda:GetAlias")]


def test_a_hook_refused_a_call_reports_failed_as_on_aws(tmp_path: Path) -> None:
    """The pre-traffic hook's role without lambda:ListTags: the hook's own call is refused with
    AccessDeniedException, and the hook reports Failed instead of testing."""
    template = with_hooks(
        tmp_path, lambda t: t.replace("Action: lambda:ListTags", "Action: lambda:ListAliases", 1)
    )
    report = run(template)
    assert report["status"] == "Failed" and report["caught_by"] == "pre-traffic hook"
    denied = [d for d in report["authorization"] if d["decision"] != "allowed"]
    assert [(d["principal"], d["action"]) for d in denied] == [
        ("rehearsal-PreTrafficHook", "lambda:ListTags")
    ]
    assert any("AccessDeniedException" in e["message"] for e in report["events"])
