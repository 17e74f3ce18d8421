"""The smoke-case file `init` writes for a function: a start the user owns and tightens.

One request case per REST API route (path parameters filled with a placeholder), asserting no
function error and a status below 500; per HTTP API route the same as an event case of its own payload
format; for a function without an API one invoke case, from a sample event in
`events/` when one exists. The format is `safedeploy_core.smoke`'s; a top-level `how_to_tighten` says,
per case, what to assert instead (the hooks read only `cases`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from safedeploy_core.smoke import load_cases

from safedeploy.adopt.functions import Target
from safedeploy.errors import UserError
from safedeploy.inputs import MIB, read_text

MAX_EVENT_BYTES = MIB  # a sample event in events/ (Lambda's own payload limit is 6 MB)

PATH_PLACEHOLDER = "example"
_PATH_PARAMETER = re.compile(r"\{[^}/]+\}")
TIMEOUT_S = 5
# A minimal event per source type when no sample event exists: the shape the source sends, with
# nothing in it (a batch of no records, a scheduled tick).
_RECORDS = {"SQS", "Kinesis", "DynamoDB", "SNS", "S3", "MSK", "MQ", "SelfManagedKafka", "DocumentDB"}
_SCHEDULED = {
    "version": "0",
    "id": "safedeploy-smoke",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {},
}


def _path_parameters(path: str) -> dict[str, str]:
    """{name: placeholder} of a route's path parameters (`{proxy+}` is `proxy`), as API Gateway sends
    them in the event's pathParameters."""
    return {m.group(0)[1:-1].rstrip("+"): PATH_PLACEHOLDER for m in _PATH_PARAMETER.finditer(path)}


def _request_case(method: str, path: str) -> tuple[dict[str, Any], str]:
    filled = _PATH_PARAMETER.sub(PATH_PLACEHOLDER, path) if path.startswith("/") else "/"
    verb = "GET" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
    name = f"{method} {path} answers"
    request: dict[str, Any] = {"method": verb, "path": filled}
    if parameters := _path_parameters(path):
        request["path_parameters"] = parameters
    case = {
        "name": name,
        "request": request,
        "expect": {"status_below": 500},
        "timeout_s": TIMEOUT_S,
    }
    hint = (
        f"assert the status and a part of the body a healthy {verb} {path} returns, e.g. "
        '"expect": {"status": 200, "json": {"id": "..."}}'
    )
    if filled != path:
        hint += f"; '{PATH_PLACEHOLDER}' stands in for the path parameters: use a value that exists"
    return case, hint


def _http_api_case(method: str, path: str) -> tuple[dict[str, Any], str]:
    """An HTTP API route is invoked with its own (payload 2.0) event: the hooks' request cases
    synthesize REST API events, which a handler written for an HTTP API need not understand."""
    filled = _PATH_PARAMETER.sub(PATH_PLACEHOLDER, path) if path.startswith("/") else "/"
    verb = "GET" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
    route = f"{method} {path}" if path.startswith("/") else "$default"
    event = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": filled,
        "rawQueryString": "",
        "headers": {"user-agent": "safedeploy-smoke"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "smoke",
            "domainName": "smoke.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": verb,
                "path": filled,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "safedeploy-smoke",
            },
            "requestId": "safedeploy-smoke",
            "routeKey": route,
            "stage": "$default",
            "time": "01/Jan/2024:00:00:00 +0000",
            "timeEpoch": 1704067200000,
        },
        "isBase64Encoded": False,
    }
    if parameters := _path_parameters(path):
        event["pathParameters"] = parameters
    name = f"{method} {path} answers (HTTP API event)"
    case = {"name": name, "event": event, "expect": {"status_below": 500}, "timeout_s": TIMEOUT_S}
    hint = (
        f"assert the status and a part of the body a healthy {verb} {path} returns, e.g. "
        '"expect": {"status": 200, "json": {"id": "..."}}'
    )
    return case, hint


def sample_event(project: Path, target: Target, code_uri: str | None) -> tuple[Any, str] | None:
    """A sample event from `events/`: the one named after the function or its code folder."""
    events = project / "events"
    if not events.is_dir():
        return None
    candidates = sorted(p for p in events.glob("*.json") if p.is_file())
    keys = {target.logical_id.lower()}
    if code_uri:
        keys.add(Path(code_uri.rstrip("/")).name.lower())
    named = [p for p in candidates if any(k and k in p.stem.lower() for k in keys)]
    chosen = named[0] if named else (candidates[0] if len(candidates) == 1 else None)
    if chosen is None:
        return None
    try:
        return json.loads(read_text(chosen, MAX_EVENT_BYTES, "sample event")), f"events/{chosen.name}"
    except (ValueError, UnicodeDecodeError, RecursionError, UserError):  # not a usable sample: none
        return None


def _invoke_case(target: Target, sample: tuple[Any, str] | None) -> tuple[dict[str, Any], str]:
    if sample is not None:
        event, origin = sample
    elif set(target.event_types) & _RECORDS:
        event, origin = {"Records": []}, "an empty batch"
    elif set(target.event_types) & {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}:
        event, origin = dict(_SCHEDULED), "a scheduled event"
    else:
        event, origin = {}, "an empty event"
    case = {
        "name": f"{target.logical_id} handles {origin}",
        "event": event,
        "expect": {"no_function_error": True},
        "timeout_s": TIMEOUT_S,
    }
    hint = (
        "replace the event with one your function must handle and assert a part of its answer, e.g. "
        '"expect": {"json": {"ok": true}}'
    )
    return case, hint


def case_document(project: Path, target: Target, code_uri: str | None) -> dict[str, Any]:
    pairs = [_request_case(m, p) for m, p in dict.fromkeys(target.routes)]
    pairs += [_http_api_case(m, p) for m, p in dict.fromkeys(target.http_routes)]
    if not pairs:
        pairs = [_invoke_case(target, sample_event(project, target, code_uri))]
    document = {
        "how_to_tighten": {case["name"]: hint for case, hint in pairs},
        "cases": [case for case, _ in pairs],
    }
    load_cases(document, source=f"smoke cases {target.logical_id!r}")  # what the hooks will accept
    return document


def case_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
