"""The CodeDeploy adapter with the production client configuration (botocore standard retries)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from safedeploy_core.appspec import parse_appspec
from safedeploy_core.clients import make_client
from safedeploy_core.codedeploy import HookEvent, appspec_content, report_status
from safedeploy_core.errors import AppSpecError

from tests.helpers import appspec


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self.body


def fake_http(client: Any, operation: str, replies: list[tuple[int, dict[str, Any]]]) -> list[Any]:
    """Answer `operation` at the HTTP layer, so botocore's parsing and retry logic really run."""
    sent: list[Any] = []

    def before_send(request: Any, **kwargs: Any) -> AWSResponse:
        sent.append(request)
        status, body = replies.pop(0)
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))

    client.meta.events.register(f"before-send.codedeploy.{operation}", before_send)
    return sent


THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
OK = (200, {"lifecycleEventHookExecutionId": "e-1"})


def test_throttled_report_is_retried_and_sent_once_successfully(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)  # skip the backoff wait, keep the retry logic
    client = make_client("codedeploy", region_name="us-east-1")
    sent = fake_http(client, "PutLifecycleEventHookExecutionStatus", [THROTTLED, THROTTLED, OK])
    assert report_status(client, HookEvent("d-1", "e-1"), "Failed") == "reported"
    assert len(sent) == 3
    assert {json.loads(r.body)["status"] for r in sent} == {"Failed"}


def test_report_gives_up_after_four_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    monkeypatch.setattr("time.sleep", lambda s: None)
    client = make_client("codedeploy", region_name="us-east-1")
    sent = fake_http(client, "PutLifecycleEventHookExecutionStatus", [THROTTLED] * 5)
    with pytest.raises(ClientError, match="ThrottlingException"):
        report_status(client, HookEvent("d-1", "e-1"), "Succeeded")
    assert len(sent) == 4  # total_max_attempts counts tries, not retries


def test_appspec_is_read_from_either_revision_shape() -> None:
    content = appspec("fn", "3", "4")
    for revision in (
        {"revisionType": "String", "string": {"content": content}},
        {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
    ):
        target = parse_appspec(appspec_content(revision))
        assert (target.function_name, target.alias, target.current_version, target.target_version) == (
            "fn",
            "live",
            "3",
            "4",
        )
        assert (
            target.before_allow_traffic == "PreTrafficHook"
            and target.after_allow_traffic == "PostTrafficHook"
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "AppSpec is not JSON"),
        ("[]", "must be a JSON object"),
        ('{"Resources": []}', "no Resources[0]"),
        (
            '{"Resources": [{"F": {"Properties": {"Name": "fn", "Alias": "live", "CurrentVersion": "1"}}}]}',
            "TargetVersion is missing",
        ),
    ],
)
def test_bad_appspec_names_the_problem(content: str, message: str) -> None:
    with pytest.raises(AppSpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_appspec(content)


def test_revision_without_content_is_an_error() -> None:
    with pytest.raises(AppSpecError, match="carries no AppSpec content"):
        appspec_content({"revisionType": "S3", "s3Location": {}})


def test_a_hanging_check_still_ends_in_a_failed_report_before_the_deadline() -> None:
    import time as _time

    from safedeploy_core.config import HookConfig
    from safedeploy_core.deadline import Deadline
    from safedeploy_core.runner import run_hook

    from tests.helpers import CodeDeployStub, load_event

    cd = CodeDeployStub()
    cd.deployment("hello-fn")
    cd.report("Failed")

    def hangs(deployment: object, deadline: object) -> list[object]:
        _time.sleep(1.5)  # e.g. a GetMetricData call stuck on the network
        return []

    started = _time.monotonic()
    outcome = run_hook(
        "AfterAllowTraffic",
        load_event("post_traffic.json"),
        codedeploy=cd.client,
        config=HookConfig(frozenset({"hello-fn"})),
        deadline=Deadline.in_seconds(0.3),
        checks=hangs,
        hook_name="PostTrafficHook",
        grace_s=0,
    )  # type: ignore[arg-type]
    assert _time.monotonic() - started < 1.2
    cd.done()
    assert (outcome.status, outcome.report) == ("Failed", "reported")
    assert outcome.reason == "the checks did not finish before the hook's deadline"
    _time.sleep(1.3)  # let the abandoned worker end before the next test
