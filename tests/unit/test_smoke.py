"""Smoke cases as data: validation on load, evaluation, sources (bundled folder, S3), HTTP transport."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from safedeploy_core.case_source import read_case_document, smoke_case_key
from safedeploy_core.deadline import Deadline
from safedeploy_core.errors import ConfigError, SmokeCaseError
from safedeploy_core.http_checks import check_base_url, make_session, run_http_cases
from safedeploy_core.smoke import api_gateway_event, decode_proxy_response, evaluate, load_cases

from tests.helpers import SMOKE_CASES, code_zip, lambda_role

GOOD = {"name": "hello", "request": {"path": "/hello"}, "expect": {"status": 200}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "must be an object with a 'cases' list"),
        ({"cases": []}, "has no cases: a hook that tests nothing must not pass"),
        ({"cases": [{**GOOD, "extra": 1}]}, "cases[0] has unknown key(s): extra"),
        ({"cases": [{"request": {"path": "/"}, "expect": {"status": 200}}]}, "cases[0].name is required"),
        ({"cases": [{"name": "x", "expect": {"status": 200}}]}, "needs exactly one of 'request' or 'event'"),
        ({"cases": [{**GOOD, "expect": {}}]}, "must check something"),
        ({"cases": [{**GOOD, "expect": {"json": None}}]}, "a request case needs expect.status"),
        ({"cases": [{**GOOD, "expect": {"json": {"ok": True}, "latency_ms": 100}}]}, "needs expect.status"),
        (
            {"cases": [{"name": "e", "event": {}, "expect": {"json": None, "latency_ms": 100}}]},
            "expect.status or a non-null expect.json",
        ),
        ({"cases": [{**GOOD, "expect": {"status": 999}}]}, "must be an HTTP status code"),
        ({"cases": [{**GOOD, "timeout_s": 0}]}, "timeout_s must be a positive number"),
        ({"cases": [{**GOOD, "request": {"method": "FETCH", "path": "/"}}]}, "is not an HTTP method"),
        ({"cases": [GOOD, GOOD]}, "duplicate case name(s): hello"),
    ],
)
def test_invalid_case_files_name_the_problem(document: Any, message: str) -> None:
    with pytest.raises(SmokeCaseError) as info:
        load_cases(document, "cases.json")
    assert message in str(info.value)


def test_the_shipped_case_files_are_valid() -> None:
    for path in SMOKE_CASES.glob("*.json"):
        assert load_cases(json.loads(path.read_text()), path.name)


def test_evaluation_checks_status_json_subset_and_latency() -> None:
    case = load_cases(
        {
            "cases": [
                {
                    "name": "c",
                    "request": {"path": "/"},
                    "expect": {"status": 200, "json": {"a": {"b": 1}}, "latency_ms": 100},
                }
            ]
        }
    )[0]
    assert evaluate(case, 200, {"a": {"b": 1, "c": 2}}, 50).passed
    assert evaluate(case, 200, {"a": {"b": 2}}, 50).reason == "$.a.b is 2, expected 1"
    assert evaluate(case, 200, {"a": "x"}, 50).reason == "$.a is str, expected an object"
    assert (
        evaluate(case, 500, {"a": {"b": 1}}, 150).reason
        == "status 500, expected 200; took 150 ms, budget 100 ms"
    )


def test_proxy_event_and_response_round_trip() -> None:
    case = load_cases(
        {
            "cases": [
                {
                    "name": "c",
                    "request": {"method": "POST", "path": "/g", "body": {"n": 1}, "query": {"q": "1"}},
                    "expect": {"status": 201},
                }
            ]
        }
    )[0]
    assert case.request is not None
    event = api_gateway_event(case.request)
    assert (
        event["httpMethod"],
        event["path"],
        json.loads(event["body"]),
        event["queryStringParameters"],
    ) == ("POST", "/g", {"n": 1}, {"q": "1"})
    assert decode_proxy_response({"statusCode": 201, "body": '{"ok": true}'}) == (201, {"ok": True})
    assert decode_proxy_response({"ok": True}) == (None, {"ok": True})


def test_bundled_cases_are_read_by_key_and_keys_cannot_escape(tmp_path: Path) -> None:
    (tmp_path / "svc.json").write_text(json.dumps({"cases": [GOOD]}))
    assert read_case_document(str(tmp_path), "svc") == {"cases": [GOOD]}
    with pytest.raises(SmokeCaseError, match=r"no smoke case file missing\.json"):
        read_case_document(str(tmp_path), "missing")
    with mock_aws():
        lam = boto3.client("lambda", region_name="us-east-1")
        role = lambda_role(boto3.client("iam", region_name="us-east-1"))
        for index, bad in enumerate(("../etc/passwd", "a/b")):
            lam.create_function(
                FunctionName=f"fn{index}",
                Runtime="python3.13",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": code_zip()},
                Tags={"safedeploy:smoke-cases": bad},
            )
            with pytest.raises(SmokeCaseError, match="is not a plain case-set name"):
                smoke_case_key(lam, f"arn:aws:lambda:us-east-1:123456789012:function:fn{index}")


def test_cases_can_live_in_s3() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="cases")
        s3.put_object(Bucket="cases", Key="smoke/svc.json", Body=json.dumps({"cases": [GOOD]}).encode())
        assert read_case_document("s3://cases/smoke", "svc", s3) == {"cases": [GOOD]}
        s3.put_object(Bucket="cases", Key="smoke/bad.json", Body=b"{not json")
        with pytest.raises(SmokeCaseError, match=r"s3://cases/smoke/bad\.json is not JSON"):
            read_case_document("s3://cases/smoke", "bad", s3)


def test_https_only_except_loopback() -> None:
    assert check_base_url("https://x.execute-api.us-east-1.amazonaws.com/Prod/") == (
        "https://x.execute-api.us-east-1.amazonaws.com/Prod"
    )
    assert check_base_url("http://127.0.0.1:8080/Prod") == "http://127.0.0.1:8080/Prod"
    with pytest.raises(ConfigError):
        check_base_url("http://x.execute-api.us-east-1.amazonaws.com/Prod")


def test_an_unreachable_api_fails_the_case_instead_of_hanging() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cases = load_cases({"cases": [GOOD]})
    results = run_http_cases(make_session(), f"http://127.0.0.1:{port}/Prod", cases, Deadline.in_seconds(10))
    assert not results[0].passed and "HTTP GET /hello failed" in results[0].reason
