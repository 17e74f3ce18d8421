"""Smoke cases as data: loading with validation, request synthesis and evaluation (pure).

A case file (JSON) looks like:
{"cases": [
  {"name": "hello", "request": {"method": "GET", "path": "/hello"},
   "expect": {"status": 200, "json": {"message": "hello world"}, "latency_ms": 1500}, "timeout_s": 5},
  {"name": "echo", "event": {"message": "ping"}, "expect": {"json": {"ok": true, "echo": "ping"}}}
]}

`request` cases describe an HTTP call: the pre-traffic hook turns them into an API Gateway proxy event
and invokes the new version directly; the post-traffic hook sends them through the real API.
`event` cases are a raw payload for direct invocation only (functions without an API).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from safedeploy_core.errors import SmokeCaseError

_CASE_KEYS = {"name", "request", "event", "expect", "timeout_s"}
_REQUEST_KEYS = {"method", "path", "headers", "query", "body", "path_parameters", "payload_format"}
# API Gateway's proxy event formats: REST APIs send 1.0, HTTP APIs 2.0 unless set to 1.0
PAYLOAD_FORMATS = ("1.0", "2.0")
# `status_below`: any status under it (a generated case's first bound); `no_function_error`: for an
# event case, that the call returns without a function error is the assertion (every case checks it).
_EXPECT_KEYS = {"status", "status_below", "json", "latency_ms", "no_function_error"}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    path_parameters: dict[str, str] = field(default_factory=dict)  # {id} of a route /items/{id}
    payload_format: str = "1.0"  # of the function's event: "2.0" for an HTTP API


@dataclass(frozen=True)
class Expectation:
    status: int | None = None
    json: Any = None  # a subset that the response body must contain
    latency_ms: float | None = None
    status_below: int | None = None


@dataclass(frozen=True)
class SmokeCase:
    name: str
    expect: Expectation
    request: Request | None = None
    event: Any = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def http_capable(self) -> bool:
        return self.request is not None


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str
    latency_ms: float
    status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "passed": self.passed,
            "reason": self.reason,
            "latency_ms": round(self.latency_ms, 1),
            "status": self.status,
        }


def _require_keys(where: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SmokeCaseError(f"{where} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SmokeCaseError(f"{where} has unknown key(s): {', '.join(unknown)}")
    return value


def _positive(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SmokeCaseError(f"{where} must be a positive number")
    return float(value)


def _parse_request(where: str, raw: Any) -> Request:
    data = _require_keys(where, raw, _REQUEST_KEYS)
    method = str(data.get("method", "GET")).upper()
    if method not in _METHODS:
        raise SmokeCaseError(f"{where}.method {method!r} is not an HTTP method")
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise SmokeCaseError(f"{where}.path must be a string starting with '/'")
    for key in ("headers", "query", "path_parameters"):
        value = data.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise SmokeCaseError(f"{where}.{key} must map names to strings")
    payload_format = data.get("payload_format", "1.0")
    if payload_format not in PAYLOAD_FORMATS:
        raise SmokeCaseError(f"{where}.payload_format must be one of {', '.join(PAYLOAD_FORMATS)}")
    return Request(
        method,
        path,
        dict(data.get("headers", {})),
        dict(data.get("query", {})),
        data.get("body"),
        dict(data.get("path_parameters", {})),
        payload_format,
    )


def _parse_case(index: int, raw: Any) -> SmokeCase:
    where = f"cases[{index}]"
    data = _require_keys(where, raw, _CASE_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SmokeCaseError(f"{where}.name is required")
    where = f"case {name!r}"
    if ("request" in data) == ("event" in data):
        raise SmokeCaseError(f"{where} needs exactly one of 'request' or 'event'")
    exp = _require_keys(f"{where}.expect", data.get("expect"), _EXPECT_KEYS)
    # A latency bound or `json: null` alone lets a fast HTTP 500 pass: every case asserts an answer.
    if "no_function_error" in exp and exp["no_function_error"] is not True:
        raise SmokeCaseError(f"{where}.expect.no_function_error can only be true")
    if "request" in data and exp.get("status") is None and exp.get("status_below") is None:
        raise SmokeCaseError(
            f"{where}.expect must check something: a request case needs expect.status or expect.status_below"
        )
    if (
        exp.get("status") is None
        and exp.get("status_below") is None
        and exp.get("json") is None
        and not ("event" in data and exp.get("no_function_error"))
    ):
        raise SmokeCaseError(
            f"{where}.expect must check something: expect.status or a non-null expect.json "
            "(an event case: or no_function_error)"
        )
    status, below = exp.get("status"), exp.get("status_below")
    for key, value in (("status", status), ("status_below", below)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 600
        ):
            raise SmokeCaseError(f"{where}.expect.{key} must be an HTTP status code")
    latency = _positive(f"{where}.expect.latency_ms", exp["latency_ms"]) if "latency_ms" in exp else None
    timeout = _positive(f"{where}.timeout_s", data["timeout_s"]) if "timeout_s" in data else DEFAULT_TIMEOUT_S
    return SmokeCase(
        name=name,
        expect=Expectation(status=status, json=exp.get("json"), latency_ms=latency, status_below=below),
        request=_parse_request(f"{where}.request", data["request"]) if "request" in data else None,
        event=data.get("event"),
        timeout_s=timeout,
    )


def load_cases(document: Any, source: str = "smoke cases") -> list[SmokeCase]:
    """Validate a parsed case file; raise SmokeCaseError naming the first problem."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise SmokeCaseError(f"{source} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise SmokeCaseError(f"{source} must be an object with a 'cases' list")
    try:
        cases = [_parse_case(i, raw) for i, raw in enumerate(document["cases"])]
    except SmokeCaseError as exc:
        raise SmokeCaseError(f"{source}: {exc}") from exc
    if not cases:
        raise SmokeCaseError(f"{source} has no cases: a hook that tests nothing must not pass")
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SmokeCaseError(f"{source}: duplicate case name(s): {', '.join(duplicates)}")
    return cases


def api_gateway_event(request: Request) -> dict[str, Any]:
    """The proxy event API Gateway would send for `request`, in its payload format: REST API (1.0)
    or HTTP API (2.0) ("Working with AWS Lambda proxy integrations for HTTP APIs", API Gateway guide)."""
    body = request.body
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    headers = {"Content-Type": "application/json", "User-Agent": "safedeploy-smoke", **request.headers}
    if request.payload_format == "2.0":
        return _http_api_event(request, headers, body)
    request_id = str(uuid.uuid4())
    return {
        "resource": request.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": request.query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in request.query.items()} or None,
        "pathParameters": request.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": request.path,
            "httpMethod": request.method,
            "path": f"/smoke{request.path}",
            "stage": "smoke",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "safedeploy-smoke"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _http_api_event(request: Request, headers: dict[str, str], body: str | None) -> dict[str, Any]:
    from urllib.parse import urlencode

    route = f"{request.method} {request.path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": request.path,
        "rawQueryString": urlencode(request.query),
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "smoke",
            "domainName": "smoke.local",
            "domainPrefix": "smoke",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", "safedeploy-smoke"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }
    if request.query:
        event["queryStringParameters"] = dict(request.query)
    if request.path_parameters:
        event["pathParameters"] = dict(request.path_parameters)
    if body is not None:
        event["body"] = body
    return event


def _subset_mismatch(expected: Any, actual: Any, path: str = "$") -> str | None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path} is {type(actual).__name__}, expected an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key} is missing"
            problem = _subset_mismatch(value, actual[key], f"{path}.{key}")
            if problem:
                return problem
        return None
    if expected != actual:
        return f"{path} is {actual!r}, expected {expected!r}"
    return None


def evaluate(case: SmokeCase, status: int | None, body: Any, latency_ms: float) -> CheckResult:
    """Compare one observed response with the case's expectations."""
    exp = case.expect
    problems: list[str] = []
    if exp.status is not None and status != exp.status:
        problems.append(f"status {status}, expected {exp.status}")
    # An event case's answer has a status only when it is a proxy response: an HTTP API (payload 2.0)
    # answers 200 for a result without `statusCode` (API Gateway developer guide, "Lambda proxy
    # integrations for HTTP APIs", format 2.0 response); a REST request without one is a 502.
    missing_ok = status is None and case.event is not None
    if exp.status_below is not None and not missing_ok and (status is None or status >= exp.status_below):
        problems.append(f"status {status}, expected one below {exp.status_below}")
    if exp.json is not None:
        problem = _subset_mismatch(exp.json, body)
        if problem:
            problems.append(problem)
    if exp.latency_ms is not None and latency_ms > exp.latency_ms:
        problems.append(f"took {latency_ms:.0f} ms, budget {exp.latency_ms:.0f} ms")
    reason = "; ".join(problems) if problems else "ok"
    return CheckResult(case.name, not problems, reason, latency_ms, status)


def failed_result(case: SmokeCase, reason: str, latency_ms: float = 0.0) -> CheckResult:
    return CheckResult(case.name, False, reason, latency_ms)


def decode_proxy_response(payload: Any, payload_format: str = "1.0") -> tuple[int | None, Any]:
    """(status, parsed body) of a Lambda result: an API Gateway proxy response or a plain payload.
    An HTTP API (format 2.0) takes a result without `statusCode` as a 200 whose body is the result."""
    if payload_format == "2.0" and not (isinstance(payload, dict) and "statusCode" in payload):
        return 200, payload
    if isinstance(payload, dict) and "statusCode" in payload:
        body = payload.get("body")
        if isinstance(body, str) and body:
            with contextlib.suppress(ValueError):
                body = json.loads(body)
        status = payload.get("statusCode")
        return (int(status) if isinstance(status, int | str) and str(status).isdigit() else None), body
    return None, payload
