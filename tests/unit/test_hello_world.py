"""The sample service's routes, validation and fault switch (events shared with `sam local invoke`)."""

from __future__ import annotations

import json
from typing import Any

import app
import pytest
from faults import FaultConfig, FaultConfigError

from tests.helpers import FakeContext, load_event


def call(event_file: str) -> tuple[int, Any]:
    response = app.lambda_handler(load_event(event_file), FakeContext(function_version="7"))
    return response["statusCode"], json.loads(response["body"])


def test_get_hello() -> None:
    assert call("api_get_hello.json") == (200, {"message": "hello world", "version": "7"})


def test_post_greetings() -> None:
    assert call("api_post_greetings.json") == (201, {"greeting": "Bonjour, Ada !", "language": "fr"})


@pytest.mark.parametrize(
    ("event_file", "message"),
    [
        ("api_post_greetings_invalid.json", "unknown field(s): nom"),
        ("api_post_greetings_not_json.json", "body is not valid JSON"),
    ],
)
def test_bad_greeting_input_is_a_400(event_file: str, message: str) -> None:
    status, body = call(event_file)
    assert status == 400 and body["message"] == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1]", "body must be a JSON object"),
        ('{"name": ""}', "'name' is required"),
        ('{"name": "' + "x" * 65 + '"}', "at most 64 characters"),
        ('{"name": "Ada", "language": "de"}', "'language' must be one of en, es, fr"),
    ],
)
def test_greeting_validation(body: str, message: str) -> None:
    event = load_event("api_post_greetings.json")
    event["body"] = body
    response = app.lambda_handler(event, FakeContext())
    assert response["statusCode"] == 400 and message in json.loads(response["body"])["message"]


def test_error_fault_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_MODE", "error")
    with pytest.raises(RuntimeError, match="injected fault"):
        call("api_get_hello.json")


def test_bad_response_fault_breaks_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_MODE", "bad-response")
    assert call("api_get_hello.json") == (200, {"msg": "oops"})


def test_fault_rate_zero_never_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_MODE", "error")
    monkeypatch.setenv("FAULT_RATE", "0")
    assert call("api_get_hello.json")[0] == 200


def test_metrics_carry_the_version_and_an_error_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_MODE", "error")
    with pytest.raises(RuntimeError):
        call("api_get_hello.json")
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line][-1]

    def total(value: Any) -> float:
        return float(sum(value)) if isinstance(value, list) else float(value)

    assert emf["FunctionVersion"] == "7" and total(emf["Errors"]) == 1 and total(emf["Requests"]) == 1
    assert {
        m["Name"]: m.get("StorageResolution") for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    } == {"Requests": 1, "Errors": 1, "Latency": 1}
    assert 0 <= total(emf["Latency"]) < 5000  # one value per call, in milliseconds


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FAULT_MODE": "explode"}, "FAULT_MODE must be one of"),
        ({"FAULT_RATE": "200"}, "within 0..100"),
        ({"FAULT_RATE": "x"}, "must be numbers"),
    ],
)
def test_bad_fault_configuration_is_rejected(env: dict[str, str], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        FaultConfig.from_env(env)
