"""Second example function: a direct-invoke echo service sharing the same hook pair as hello_world."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
MAX_MESSAGE = 1024


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    message = event.get("message") if isinstance(event, dict) else None
    if not isinstance(message, str):
        return {"ok": False, "error": "field 'message' (string) is required"}
    if len(message) > MAX_MESSAGE:
        return {"ok": False, "error": f"field 'message' must be at most {MAX_MESSAGE} characters"}
    return {"ok": True, "echo": message, "length": len(message), "version": context.function_version}
