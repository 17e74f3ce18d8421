"""The hooks' dead-letter consumer frees every deployment whose hook never reported (no hour-long hold)."""

from __future__ import annotations

import copy
import json
from typing import Any

import hook_support
import lost_reports
import pytest
from botocore.stub import Stubber

from tests.helpers import CodeDeployStub, FakeContext, RecordingSns, load_event

TOPIC = "arn:aws:sns:us-east-1:123456789012:safe-deploy"
EXECUTION = "eyJlbmNyeXB0ZWREYXRhIjoiQUJDREVGIn0="


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", TOPIC)
    cd, sns = CodeDeployStub(), RecordingSns()
    hook_support.use_clients({"codedeploy": cd.client, "sns": sns})
    yield cd, sns
    hook_support.use_clients(None)


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    event = load_event("lost_report.json") if event is None else event
    return lost_reports.lambda_handler(event, FakeContext(function_name="LostReportFunction"))  # type: ignore[no-any-return]


def stop(cd: CodeDeployStub, error: str | None = None) -> None:
    params = {"deploymentId": "d-AB12CD34E", "autoRollbackEnabled": True}
    if error:
        cd.stubber.add_client_error("stop_deployment", error, expected_params=params)
    else:
        cd.stubber.add_response("stop_deployment", {"status": "Pending"}, params)


def test_a_lost_report_is_reported_failed_and_a_person_is_told(world: Any) -> None:
    cd, sns = world
    cd.report("Failed", execution_id=EXECUTION)
    out = run()
    cd.done()
    assert out == {"batchItemFailures": []}
    (message,) = sns.published
    assert message["TopicArn"] == TOPIC and "d-AB12CD34E" in message["Subject"]
    assert "AccessDeniedException" in message["Message"] and "reported-failed" in message["Message"]


def test_a_report_that_still_fails_stops_the_deployment_with_rollback(world: Any) -> None:
    cd, sns = world
    cd.report("Failed", error_code="AccessDeniedException")
    stop(cd)
    assert run() == {"batchItemFailures": []}
    cd.done()
    assert "stopped the deployment with rollback" in sns.published[0]["Message"]


def test_when_nothing_works_the_message_comes_back_and_the_person_gets_the_command(world: Any) -> None:
    cd, sns = world
    cd.report("Failed", error_code="ThrottlingException")
    stop(cd, "ThrottlingException")
    out = run()
    cd.done()
    assert out == {"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]}
    assert (
        "aws deploy stop-deployment --deployment-id d-AB12CD34E --auto-rollback-enabled"
        in sns.published[0]["Message"]
    )


def test_a_redelivered_message_does_not_notify_again(world: Any) -> None:
    cd, sns = world
    event = load_event("lost_report.json")
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    cd.report("Failed")
    run(event)
    cd.done()
    assert sns.published == []


@pytest.mark.parametrize(
    ("report_error", "stop_error", "recovery"),
    [
        ("LifecycleEventAlreadyCompletedException", None, "already-completed"),
        ("AccessDeniedException", "DeploymentAlreadyCompletedException", "ended"),
    ],
)
def test_an_event_whose_deployment_moved_on_is_done_with(
    world: Any, report_error: str, stop_error: str | None, recovery: str
) -> None:
    cd, _ = world
    cd.report("Failed", error_code=report_error)
    if stop_error:
        stop(cd, stop_error)
    from safedeploy_core.lost_reports import recover

    record = load_event("lost_report.json")["Records"][0]
    lost = recover(cd.client, record)
    cd.done()
    assert (lost.recovery, lost.retry) == (recovery, False)


def test_a_message_that_is_no_hook_event_is_dropped_without_a_call(world: Any) -> None:
    cd, sns = world
    event = copy.deepcopy(load_event("lost_report.json"))
    event["Records"][0]["body"] = json.dumps({"source": "aws.events"})
    assert run(event) == {"batchItemFailures": []}
    Stubber.assert_no_pending_responses(cd.stubber)
    assert sns.published == []


def test_a_report_lost_on_every_try_is_recovered_from_the_dead_letter_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole path: three tries of the hook (Lambda's two async retries) all fail to report, then
    the event (as Lambda dead-letters it) reaches the consumer, which reports Failed."""
    import pre_traffic

    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("DEPLOYMENT_APPLICATION", "other-app")  # every try fails before any invoke
    event = load_event("pre_traffic.json")
    for _ in range(3):
        cd = CodeDeployStub()
        cd.deployment("hello-fn")
        cd.report("Failed", error_code="AccessDeniedException")
        hook_support.use_clients({"codedeploy": cd.client})
        try:
            with pytest.raises(hook_support.StatusNotReported, match="AccessDeniedException"):
                pre_traffic.lambda_handler(event, FakeContext())
        finally:
            hook_support.use_clients(None)
        cd.done()
    # Lambda's dead-letter message: the original event, unchanged, as the body
    dead_letter = load_event("lost_report.json")
    dead_letter["Records"][0]["body"] = json.dumps(event)
    cd = CodeDeployStub()
    cd.report("Failed", execution_id=event["LifecycleEventHookExecutionId"])
    hook_support.use_clients({"codedeploy": cd.client, "sns": RecordingSns()})
    try:
        assert run(dead_letter) == {"batchItemFailures": []}
    finally:
        hook_support.use_clients(None)
    cd.done()


def test_one_bad_record_never_blocks_the_others(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a batch: a body nested too deep for the JSON parser, a valid lost report, and a record
    # whose handling breaks unexpectedly
    cd, sns = world
    event = copy.deepcopy(load_event("lost_report.json"))
    good = event["Records"][0]
    deep = {**good, "messageId": "deep", "body": "[" * 100_000 + "]" * 100_000}
    broken = {**good, "messageId": "broken", "body": json.dumps({"DeploymentId": "d-BROKEN", "x": 1})}
    event["Records"] = [deep, good, broken]
    real_recover = lost_reports.recover

    def recover(codedeploy: Any, record: dict[str, Any]) -> Any:
        if record["messageId"] == "broken":
            raise RuntimeError("unexpected")
        return real_recover(codedeploy, record)

    monkeypatch.setattr(lost_reports, "recover", recover)
    cd.report("Failed", execution_id=EXECUTION)
    # THEN the valid one is reported Failed, the deep one dropped, and only the broken one comes back
    assert run(event) == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    cd.done()
    assert len(sns.published) == 1
