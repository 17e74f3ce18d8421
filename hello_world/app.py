"""Sample service: GET /hello and POST /greetings behind API Gateway (REST), on the alias `live`."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from breaker import in_band_breaker
from faults import FaultConfig, InjectedFault

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()

LANGUAGES = {"en": "Hello, {}!", "fr": "Bonjour, {} !", "es": "¡Hola, {}!"}
MAX_NAME = 64


def _apply_fault(body: dict[str, Any]) -> dict[str, Any]:
    fault = FaultConfig.from_env()
    if not fault.fires():
        return body
    logger.warning("fault injected", extra={"fault_mode": fault.mode})
    if fault.mode == "error":
        raise InjectedFault("injected fault: FAULT_MODE=error")
    if fault.mode == "slow":
        time.sleep(fault.slow_ms / 1000)
        return body
    # bad-response: a 200 whose body breaks the contract (renamed and missing fields)
    return {"msg": "oops"}


@app.get("/hello")
def hello() -> dict[str, Any]:
    return _apply_fault({"message": "hello world", "version": app.lambda_context.function_version})


def validate_greeting(body: Any) -> tuple[str, str]:
    """Return (name, language) or raise BadRequestError with a message a client can act on."""
    if not isinstance(body, dict):
        raise BadRequestError('body must be a JSON object like {"name": "Ada"}')
    unknown = sorted(set(body) - {"name", "language"})
    if unknown:
        raise BadRequestError(f"unknown field(s): {', '.join(unknown)}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("field 'name' is required and must be a non-empty string")
    if len(name) > MAX_NAME:
        raise BadRequestError(f"field 'name' must be at most {MAX_NAME} characters")
    language = body.get("language", "en")
    if language not in LANGUAGES:
        raise BadRequestError(f"field 'language' must be one of {', '.join(sorted(LANGUAGES))}")
    return name.strip(), language


@app.post("/greetings")
def greet() -> tuple[dict[str, Any], int]:
    try:
        body = app.current_event.json_body
    except ValueError as exc:
        raise BadRequestError("body is not valid JSON") from exc
    name, language = validate_greeting(body)
    return _apply_fault({"greeting": LANGUAGES[language].format(name), "language": language}), 201


def _record(context: LambdaContext, failed: bool, began: float) -> None:
    # High-resolution (1 s) metrics with the executing version as a dimension: the alarm pack's
    # optional 10-second gate and the step judge read them (EMF, so they arrive after the log is
    # processed). Latency is the handler's own time, one value per call (percentiles need them).
    metrics.add_dimension(name="FunctionVersion", value=str(context.function_version))
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1, resolution=MetricResolution.High)
    metrics.add_metric(
        name="Errors", unit=MetricUnit.Count, value=1 if failed else 0, resolution=MetricResolution.High
    )
    elapsed_ms = (time.perf_counter() - began) * 1000
    metrics.add_metric(
        name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms, resolution=MetricResolution.High
    )


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@in_band_breaker  # counts what the caller gets: an exception or a 5xx is an error
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    began = time.perf_counter()
    try:
        response = app.resolve(event, context)
    except Exception:
        _record(context, failed=True, began=began)
        raise
    _record(context, failed=response.get("statusCode", 500) >= 500, began=began)
    return response
