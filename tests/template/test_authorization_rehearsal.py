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


def run(template: Path, fault: str = "none", rate: float = 100.0, **more: Any) -> dict[str, Any]:
    options = {"speed": 2000, "rps": 20, "seed": 7, "function": "HelloWorldFunction", **more}
    return rehearse(RehearsalOptions(template, fault=fault, fault_rate=rate, **options))


@functools.cache
def runs() -> tuple[dict[str, Any], ...]:
    """A healthy release, one the pre-traffic hook stops, one the step judge stops (2 % errors: too
    few for the breaker's evidence in time, enough for the judge's comparison), one the in-band
    breaker stops, and a function without an API (the post-traffic hook invokes it)."""
    template = ROOT / "template.yaml"
    return (
        run(template),
        run(template, "error"),
        run(template, "error", rate=2, seed=1, speed=100000),
        run(template, "error", rate=5, rps=200, speed=100000, step_judge=False),
        run(template, function="EchoFunction"),
    )


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
    assert [r["caught_by"] for r in runs()] == [
        None,
        "pre-traffic hook",
        "step judge",
        "in-band breaker",
        None,
    ]
    stops = {p for p, a in made if a == "codedeploy:StopDeployment"}
    assert stops == {"rehearsal-StepJudgeFunction", "rehearsal-HelloWorldFunction"}


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


TOPIC = "arn:aws:sns:us-east-1:123456789012:safe-deploy"
APP, GROUP = "app", "stack-HelloWorldFunctionDeploymentGroup-1AB2"


def lost_report_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The dead-letter consumer on one lost report whose status it cannot report: it stops the
    deployment and tells a person; its clients guarded for its role (the rehearsal does not run it)."""
    import boto3
    import hook_support
    import lost_reports
    from botocore.stub import Stubber

    from safedeploy.iam.enforce import Account, rehearsal_principals
    from safedeploy.template.deployments import deployments
    from safedeploy.template.scope import build_scope
    from tests.helpers import FakeContext, load_event

    scope = build_scope(ROOT / "template.yaml")
    dep = next(d for d in deployments(scope) if d.logical_id == "HelloWorldFunction")
    names = {"ServerlessDeploymentApplication": APP, "stack": "stack", "NotificationTopic": TOPIC}
    account = Account(
        rehearsal_principals(scope, dep, names, lambda logical: logical), lambda d: (APP, GROUP)
    )
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", TOPIC)
    cd = account.guard(boto3.client("codedeploy", region_name="us-east-1"), "LostReportFunction")
    sns = account.guard(boto3.client("sns", region_name="us-east-1"), "LostReportFunction")
    with Stubber(cd) as cd_stub, Stubber(sns) as sns_stub:
        cd_stub.add_client_error("put_lifecycle_event_hook_execution_status", "ThrottlingException")
        cd_stub.add_response("stop_deployment", {"status": "Pending"})
        sns_stub.add_response("publish", {"MessageId": "1"})
        hook_support.use_clients({"codedeploy": cd, "sns": sns})
        try:
            lost_reports.lambda_handler(
                load_event("lost_report.json"), FakeContext(function_name="LostReportFunction")
            )
        finally:
            hook_support.use_clients(None)
        cd_stub.assert_no_pending_responses()
        sns_stub.assert_no_pending_responses()
    return [
        {"principal": d.principal, "action": d.action, "resource": d.resource, "decision": d.decision.value}
        for d in account.log
    ]


def test_the_dead_letter_consumer_may_report_stop_and_notify(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = lost_report_calls(monkeypatch)
    assert [(c["action"], c["decision"]) for c in calls] == [
        ("codedeploy:PutLifecycleEventHookExecutionStatus", "allowed"),
        ("codedeploy:StopDeployment", "allowed"),
        ("sns:Publish", "allowed"),
    ]
    assert calls[1]["resource"] == f"arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:{APP}/{GROUP}"


# Grants no rehearsed or documented call uses, each with its reason.
JUSTIFIED = {
    ("CodeDeployRole", "lambda:GetProvisionedConcurrencyConfig"): "CodeDeploy reads it for an alias with "
    "provisioned concurrency (AWSCodeDeployRoleForLambda grants it); the sample's aliases have none",
}


def test_no_role_grants_an_action_that_no_code_path_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from safedeploy.iam.actions import Where
    from safedeploy.iam.calls import codedeploy_calls, lambda_service_calls
    from safedeploy.iam.enforce import SERVICE_ROLE, function_role
    from safedeploy.iam.principals import renames, role_policies, walk
    from safedeploy.template.deployments import deployments
    from safedeploy.template.scope import build_scope

    scope = build_scope(ROOT / "template.yaml")
    rename = renames(scope)
    used: set[tuple[str, str]] = set()
    for d in [c for report in runs() for c in report["authorization"]] + lost_report_calls(monkeypatch):
        who = d["principal"].removeprefix("rehearsal-")
        used.add(("CodeDeployRole" if who == SERVICE_ROLE else who, d["action"].lower()))
    for dep in deployments(scope):
        used |= {("CodeDeployRole", c.action.lower()) for c in codedeploy_calls(dep, Where(), rename)}
    granted: set[tuple[str, str]] = set()
    for sc in walk(scope):
        for logical, res in sc.resources.items():
            if res["Type"] == "AWS::Lambda::Function" and sc.active(logical):
                used |= {
                    (logical, c.action.lower()) for c in lambda_service_calls(sc, logical, Where(), rename)
                }
                located = function_role(sc, logical)
                assert located is not None
                owner = logical
            elif res["Type"] == "AWS::IAM::Role" and logical == "CodeDeployRole":
                located, owner = (sc, logical), logical
            else:
                continue
            for st in role_policies(*located, rename=rename).statements:
                if st.effect == "Allow" and st.present is not False:
                    granted |= {(owner, a.lower()) for a in st.actions}
    unused = {g for g in granted - used if (g[0], g[1]) not in {(o, a.lower()) for o, a in JUSTIFIED}}
    assert unused == set()
    stale = {k for k in JUSTIFIED if (k[0], k[1].lower()) in used or (k[0], k[1].lower()) not in granted}
    assert stale == set(), "a justified exception that is used after all, or no longer granted"
