"""Run Lambda handlers in-process behind moto's Lambda API (moto runs no code without Docker).

What it adds to moto (pinned: MOTO_VERSION):
- `Invoke` runs the registered Python handler with the invoked version's environment variables
  and a Lambda-like context (function_version, remaining time);
- `Qualifier` is honoured (moto 5.2.5 sends every invoke to $LATEST), aliases route by their
  `RoutingConfig.AdditionalVersionWeights`, and `X-Amz-Executed-Version` tells which version ran;
- an exception becomes `FunctionError: Unhandled` with Lambda's error payload.

Invocations are serialised by a lock because each one swaps `os.environ` (handlers read their
configuration at call time, as Lambda code should).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MOTO_VERSION = "5.2.5"
# One lock for the process: every invocation swaps os.environ, whichever registry runs it.
_ENV_LOCK = threading.Lock()
# moto's response layer reads `qualifier` (lower case) from the query string, botocore sends
# `Qualifier`: the patched response method passes the real one to the backend through here.
_REQUEST = threading.local()
Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    # seconds, on the clock the invocation runs on (a rehearsal passes its simulated clock)
    clock: Callable[[], float] = time.monotonic
    _started: float = field(init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.timeout_s - (self.clock() - self._started)) * 1000), 0)


@dataclass
class Invocation:
    function_name: str
    qualifier: str | None
    executed_version: str
    error: bool
    duration_ms: float


class InProcessLambda:
    """Registry of handlers by function name, and the patch that makes moto call them."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.handlers: dict[str, Handler] = {}
        self.invocations: list[Invocation] = []
        self.rng = rng or random.Random(7)
        # How many execution environments serve (function, version) now; calls go round-robin over
        # them, each with its own log stream name (as each Lambda environment has its own).
        self.environments: Callable[[str, str], int] = lambda function, version: 1
        self._calls: dict[tuple[str, str], int] = {}

    def register(self, function_name: str, handler: Handler) -> None:
        self.handlers[function_name] = handler

    def _pick_version(self, backend: Any, name: str, qualifier: str | None) -> tuple[str, str | None]:
        if qualifier is None or qualifier == "$LATEST":
            return "$LATEST", None
        if qualifier.isdigit():
            return qualifier, None
        for alias in backend.list_aliases(name):
            if alias.name == qualifier:
                weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
                draw = self.rng.random()
                for version, weight in weights.items():
                    if draw < float(weight):
                        return str(version), qualifier
                    draw -= float(weight)
                return str(alias.function_version), qualifier
        raise KeyError(qualifier)

    def invoke(
        self,
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        from moto.awslambda.exceptions import UnknownFunctionException

        qualifier = qualifier or getattr(_REQUEST, "qualifier", None)
        if function_name.startswith("arn:"):
            parts = function_name.split(":")
            function_name = parts[6]
            if len(parts) > 7:
                qualifier = parts[7]
        elif ":" in function_name:
            function_name, qualifier = function_name.split(":", 1)
        try:
            version, _alias = self._pick_version(backend, function_name, qualifier)
            fn = backend.get_function(function_name, None if version == "$LATEST" else version)
        except KeyError as exc:
            raise UnknownFunctionException(f"arn:aws:lambda:::function:{function_name}:{qualifier}") from exc
        handler = self.handlers.get(function_name)
        if handler is None:
            raise UnknownFunctionException(f"no in-process handler registered for {function_name}")
        event = json.loads(body) if body else {}
        base_arn = f"{fn.function_arn.split(':function:')[0]}:function:{function_name}"
        key = (function_name, str(fn.version))
        index = self._calls.get(key, 0)
        self._calls[key] = index + 1
        environment_index = index % max(1, self.environments(*key))
        context = LambdaContext(
            function_name=function_name,
            function_version=str(fn.version),
            invoked_function_arn=f"{base_arn}:{qualifier}" if qualifier else base_arn,
            memory_limit_in_mb=int(fn.memory_size or 128),
            timeout_s=float(fn.timeout or 3),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"[{fn.version}]environment-{environment_index}",
        )
        started = time.perf_counter()
        # a handler that runs the code in a process of its own brings its environment along: no swap
        # of this process's os.environ, so no lock (parallel calls, a hook's cases, may wait together)
        isolated = getattr(handler, "own_process", False)
        guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext() if isolated else _ENV_LOCK
        swap = contextlib.nullcontext() if isolated else environment(dict(fn.environment_vars or {}))
        with guard, swap:
            try:
                result = handler(event, context)
                payload = json.dumps(result).encode()
                error = False
            except Exception as exc:  # Lambda turns an exception into FunctionError: Unhandled
                payload = json.dumps(
                    {
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "stackTrace": traceback.format_exception(exc)[-3:],
                    }
                ).encode()
                response_headers["x-amz-function-error"] = "Unhandled"
                error = True
        record = Invocation(
            function_name, qualifier, str(fn.version), error, (time.perf_counter() - started) * 1000
        )
        self.invocations.append(record)
        response_headers["x-amz-executed-version"] = str(fn.version)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    @contextmanager
    def installed(self) -> Iterator[InProcessLambda]:
        import moto
        from moto.awslambda.models import LambdaBackend
        from moto.awslambda.responses import LambdaResponse

        if moto.__version__ != MOTO_VERSION:
            raise RuntimeError(
                f"in-process Lambda is written for moto {MOTO_VERSION}, found {moto.__version__}"
            )
        original = LambdaBackend.invoke
        original_response = LambdaResponse.invoke
        registry = self

        def response_invoke(response: Any) -> Any:
            values = response.querystring.get("Qualifier") or [None]
            _REQUEST.qualifier = values[0]
            try:
                return original_response(response)
            finally:
                _REQUEST.qualifier = None

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            return registry.invoke(backend, function_name, qualifier, body, response_headers)

        LambdaBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        LambdaResponse.invoke = response_invoke  # type: ignore[method-assign]
        try:
            yield self
        finally:
            LambdaBackend.invoke = original  # type: ignore[method-assign]
            LambdaResponse.invoke = original_response  # type: ignore[method-assign]


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update({k: str(v) for k, v in variables.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
