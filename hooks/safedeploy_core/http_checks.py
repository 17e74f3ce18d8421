"""Post-traffic checks through the real API endpoint (https only; plain http only on loopback)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from safedeploy_core.deadline import Deadline
from safedeploy_core.errors import ConfigError
from safedeploy_core.smoke import CheckResult, SmokeCase, evaluate, failed_result

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_base_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK):
        return url.rstrip("/")
    raise ConfigError(f"API URL must be https, got {url!r}")


def make_session() -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    # Retry only when the request never reached the service (connection errors), not on answers.
    retry = Retry(total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.3, allowed_methods=None)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def run_http_cases(
    session: Any, base_url: str, cases: list[SmokeCase], deadline: Deadline
) -> list[CheckResult]:
    import requests

    base = check_base_url(base_url)
    results: list[CheckResult] = []
    for case in (c for c in cases if c.request is not None):
        request = case.request
        assert request is not None
        budget = min(case.timeout_s, deadline.remaining())
        if budget <= 0:
            results.append(failed_result(case, "not run: the hook's deadline has passed"))
            continue
        started = time.perf_counter()
        try:
            response = session.request(
                request.method,
                base + request.path,
                params=request.query or None,
                headers=request.headers or None,
                json=request.body if request.body is not None and not isinstance(request.body, str) else None,
                data=request.body if isinstance(request.body, str) else None,
                timeout=(3.05, budget),
            )
        except requests.RequestException as exc:
            latency = (time.perf_counter() - started) * 1000
            results.append(
                failed_result(case, f"HTTP {request.method} {request.path} failed: {exc}", latency)
            )
            continue
        latency = (time.perf_counter() - started) * 1000
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        results.append(evaluate(case, response.status_code, body, latency))
    return results
