"""Pre-traffic checks: run smoke cases against exactly the new version, concurrently, each with a timeout."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.codedeploy import describe_client_error
from safedeploy_core.deadline import ABANDONED, Deadline
from safedeploy_core.smoke import (
    CheckResult,
    SmokeCase,
    api_gateway_event,
    decode_proxy_response,
    evaluate,
    failed_result,
)


def _invoke_one(
    lambda_client: Any,
    function_name: str,
    qualifier: str,
    expected_version: str,
    case: SmokeCase,
    deadline: Deadline,
) -> CheckResult:
    if deadline.expired():  # queued behind slower cases until after the deadline: do not start it
        return failed_result(case, "not run: the hook's deadline has passed")
    payload = api_gateway_event(case.request) if case.request is not None else case.event
    started = time.perf_counter()
    try:
        response = lambda_client.invoke(
            FunctionName=function_name,
            Qualifier=qualifier,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        raw = response["Payload"].read()
    except ClientError as exc:
        return failed_result(case, describe_client_error(exc), (time.perf_counter() - started) * 1000)
    except BotoCoreError as exc:
        return failed_result(case, f"invoke failed: {exc}", (time.perf_counter() - started) * 1000)
    latency_ms = (time.perf_counter() - started) * 1000
    executed = response.get("ExecutedVersion")
    if executed is not None and str(executed) != expected_version:
        return failed_result(
            case, f"version {executed} answered, not the target {expected_version}", latency_ms
        )
    try:
        result = json.loads(raw) if raw else None
    except ValueError:
        result = raw.decode(errors="replace")
    if response.get("FunctionError"):
        message = result.get("errorMessage") if isinstance(result, dict) else result
        return failed_result(case, f"function error ({response['FunctionError']}): {message}", latency_ms)
    status, body = decode_proxy_response(result, case.request.payload_format if case.request else "1.0")
    return evaluate(case, status, body, latency_ms)


def run_invoke_cases(
    lambda_client: Any,
    function_name: str,
    qualifier: str,
    cases: list[SmokeCase],
    deadline: Deadline,
    max_workers: int = 10,
    expected_version: str | None = None,
) -> list[CheckResult]:
    """One result per case, in case order; a case that outlives its timeout or the deadline fails.

    `qualifier` is the version to invoke (pre-traffic) or the alias (post-traffic); the answer must
    come from `expected_version` (default: the qualifier itself).
    """
    expected = expected_version or qualifier
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(cases))), thread_name_prefix="smoke")
    started = deadline.clock()
    futures = [
        (case, pool.submit(_invoke_one, lambda_client, function_name, qualifier, expected, case, deadline))
        for case in cases
    ]
    results: list[CheckResult] = []
    try:
        for case, future in futures:
            wait = min(started + case.timeout_s, deadline.at) - deadline.clock()
            try:
                results.append(future.result(timeout=max(wait, 0.0)))
            except FuturesTimeout:
                limit = "the hook's deadline" if deadline.at < started + case.timeout_s else "its timeout"
                elapsed = (deadline.clock() - started) * 1000
                results.append(
                    failed_result(case, f"no answer within {limit} ({case.timeout_s:g} s)", elapsed)
                )
    finally:
        # Never wait for a hung invocation here: the report must go out before the Lambda timeout.
        # The handler drains what is still running after its report (deadline.ABANDONED).
        pool.shutdown(wait=False, cancel_futures=True)
        ABANDONED.add(*(future for _, future in futures))
    return results
