"""AfterAllowTraffic hook: API end to end, gate alarms, and the canary judge decide the status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import app as hello_world
import boto3
import hook_support
import post_traffic
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

import echo as echo_fn
from safedeploy.offline.api_gateway import serve_api
from safedeploy.offline.inprocess_lambda import InProcessLambda
from tests.helpers import (
    REGION,
    SMOKE_CASES,
    CodeDeployStub,
    FakeContext,
    lambda_role,
    load_event,
    metric_data_response,
    publish_versions,
    version_series,
)

URL_PARAM = "/safe-deploy-test/api-url"
GATES = ["hello-fn-live-gate-error-rate", "hello-fn-live-gate-p99"]
HEALTHY = version_series((27000, 27, [200, 210, 205, 198, 202]), (3000, 3, [201, 209, 204, 199, 203]))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn,echo-fn")
    monkeypatch.setenv("SMOKE_CASE_LOCATION", str(SMOKE_CASES))
    monkeypatch.setenv("API_URL_PARAMETER", URL_PARAM)
    monkeypatch.setenv("ENVIRONMENT_NAME", "dev")
    waits: list[float] = []
    hook_support.use_sleep(waits.append)  # the judge's waits for metrics are recorded, not slept
    with mock_aws(), InProcessLambda().installed() as runtime:
        lam = boto3.client("lambda", region_name=REGION)
        ssm = boto3.client("ssm", region_name=REGION)
        role = lambda_role(boto3.client("iam", region_name=REGION))
        runtime.register("hello-fn", hello_world.lambda_handler)
        runtime.register("echo-fn", echo_fn.lambda_handler)
        cw = boto3.client("cloudwatch", region_name=REGION)
        cw_stub = Stubber(cw)
        cw_stub.activate()
        cd = CodeDeployStub()
        hook_support.use_clients(
            {
                "codedeploy": cd.client,
                "lambda": lam,
                "lambda-invoke": lam,
                "cloudwatch": cw,
                "ssm": ssm,
                "sns": boto3.client("sns", region_name=REGION),
            }
        )
        with serve_api(lam, {"GET /hello": "hello-fn:live", "POST /greetings": "hello-fn:live"}) as url:
            ssm.put_parameter(Name=URL_PARAM, Value=url, Type="String")
            yield {
                "lambda": lam,
                "role": role,
                "runtime": runtime,
                "cd": cd,
                "cw": cw_stub,
                "ssm": ssm,
                "waits": waits,
            }
        hook_support.use_clients(None)
    hook_support.use_sleep(None)


def shifted(
    aws: dict[str, Any], new_env: dict[str, str], name: str = "hello-fn", cases: str = "hello_world"
) -> None:
    """v1 -> v2 with the traffic shift complete: `live` points at v2."""
    publish_versions(aws["lambda"], aws["role"], name, [{}, new_env], {"safedeploy:smoke-cases": cases})
    aws["lambda"].update_alias(FunctionName=name, Name="live", FunctionVersion="2")


def alarms(aws: dict[str, Any], states: dict[str, str]) -> None:
    aws["cd"].deployment_group_alarms(list(states))
    aws["cw"].add_response(
        "describe_alarms",
        {
            "MetricAlarms": [{"AlarmName": n, "StateValue": s} for n, s in states.items()],
            "CompositeAlarms": [],
        },
        {"AlarmNames": list(states), "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
    )


def metrics(aws: dict[str, Any], series: dict[str, list[float]]) -> None:
    expected = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"}
    aws["cw"].add_response("get_metric_data", metric_data_response(series), expected)


def run() -> dict[str, Any]:
    context = FakeContext(function_name="PostTrafficHook")
    return post_traffic.lambda_handler(load_event("post_traffic.json"), context)  # type: ignore[no-any-return]


def test_healthy_release_succeeds(aws: dict[str, Any]) -> None:
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, HEALTHY)
    aws["cd"].report("Succeeded")
    out = run()
    aws["cd"].done()
    aws["cw"].assert_no_pending_responses()
    names = [c["check"] for c in out["checks"]]
    assert out["status"] == "Succeeded", out["reason"]
    assert names[:2] == [f"alarm {g}" for g in GATES] and names[-1] == "canary judge"
    assert len(names) == 2 + 3 + 1


def test_gate_alarm_in_alarm_fails(aws: dict[str, Any]) -> None:
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {GATES[0]: "ALARM", GATES[1]: "OK"})
    metrics(aws, HEALTHY)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and out["reason"].startswith(f"alarm {GATES[0]}: state ALARM")


def test_bad_response_through_the_api_fails(aws: dict[str, Any]) -> None:
    shifted(aws, {"FAULT_MODE": "bad-response"})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, HEALTHY)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "$.message is missing" in out["reason"]


def test_error_through_the_api_is_a_502(aws: dict[str, Any]) -> None:
    shifted(aws, {"FAULT_MODE": "error"})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, HEALTHY)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "status 502, expected 200" in out["reason"]


def test_judge_fail_rolls_back(aws: dict[str, Any]) -> None:
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, version_series((27000, 270, [200] * 5), (3000, 90, [200] * 5)))  # 1 % -> 3 %
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and out["reason"].startswith("canary judge: FAIL: error_rate")


@pytest.mark.parametrize(("environment", "status"), [("prod", "Failed"), ("dev", "Succeeded")])
def test_nodata_verdict_follows_the_environment_policy(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, environment: str, status: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT_NAME", environment)
    monkeypatch.setenv("JUDGE_WAIT_S", "0")
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, version_series((0, 0, []), (0, 0, [])))
    aws["cd"].report(status)
    out = run()
    aws["cd"].done()
    judge = out["checks"][-1]
    assert out["status"] == status and judge["reason"].startswith("NODATA")


def test_the_judge_waits_for_metrics_not_yet_visible_and_passes_in_prod(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN prod (undecided fails closed) and CloudWatch that has the new version's requests only on
    # the third look (they ran a minute ago)
    monkeypatch.setenv("ENVIRONMENT_NAME", "prod")
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    for series in (version_series((0, 0, []), (0, 0, [])), version_series((0, 0, []), (0, 0, [])), HEALTHY):
        metrics(aws, series)
    aws["cd"].report("Succeeded")
    # WHEN the hook runs
    out = run()
    # THEN it waited twice (20 s each) and judged on the visible metrics: PASS, Succeeded
    aws["cd"].done()
    assert out["status"] == "Succeeded" and out["checks"][-1]["reason"].startswith("PASS")
    assert aws["waits"] == [20.0, 20.0]


def test_function_without_api_is_checked_through_its_alias(aws: dict[str, Any]) -> None:
    shifted(aws, {}, name="echo-fn", cases="echo")
    aws["cd"].deployment("echo-fn")
    alarms(aws, {"echo-fn-live-gate-error-rate": "OK"})
    metrics(aws, HEALTHY)
    aws["cd"].report("Succeeded")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Succeeded", out["reason"]
    assert {(i.qualifier, i.executed_version) for i in aws["runtime"].invocations} == {("live", "2")}


def test_http_cases_without_a_url_parameter_fail(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("API_URL_PARAMETER")
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "API_URL_PARAMETER is not set" in out["reason"]


def test_plain_http_to_a_public_host_is_refused(aws: dict[str, Any]) -> None:
    aws["ssm"].put_parameter(
        Name=URL_PARAM, Value="http://api.example.com/Prod", Type="String", Overwrite=True
    )
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    assert out["status"] == "Failed" and "API URL must be https" in out["reason"]


def test_emf_counts_catch_5xx_answers_that_lambda_errors_miss(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no unhandled exceptions (Lambda Errors 0) but 3 % of the canary's answers are 5xx (EMF Errors)
    monkeypatch.setenv("EMF_NAMESPACE", "SafeDeploySample")
    monkeypatch.setenv("EMF_SERVICE", "safe-deploy-sample")
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    series = {
        **version_series((27000, 0, [200] * 5), (3000, 0, [200] * 5)),
        "emfreq_baseline": [5400.0] * 5,
        "emferr_baseline": [54.0] * 5,
        "emfreq_canary": [600.0] * 5,
        "emferr_canary": [18.0] * 5,
    }
    metrics(aws, series)
    aws["cd"].report("Failed")
    out = run()
    aws["cd"].done()
    # THEN the judge compares application error rates: 1 % -> 3 %
    assert out["status"] == "Failed" and "errors 1.00 % -> 3.00 %" in out["reason"]


@pytest.mark.parametrize(("errors", "status"), [(3, "Succeeded"), (90, "Failed")])
def test_only_the_new_version_has_data_falls_back_to_the_static_slo(
    aws: dict[str, Any], errors: int, status: str
) -> None:
    shifted(aws, {})
    aws["cd"].deployment("hello-fn")
    alarms(aws, {g: "OK" for g in GATES})
    metrics(aws, version_series((0, 0, []), (3000, errors, [200] * 5)))
    aws["cd"].report(status)
    out = run()
    aws["cd"].done()
    assert out["status"] == status and "no baseline" in str(out["checks"][-1])
