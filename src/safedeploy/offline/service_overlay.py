"""Answer chosen operations of a real botocore client in-process (the rest still goes to its endpoint).

Registered on `before-call`, like botocore's Stubber: parameters are validated against the service
model first, and the answer is parsed as botocore would parse a real one. Used for the CodeDeploy
operations moto lacks (GetApplicationRevision, PutLifecycleEventHookExecutionStatus, StopDeployment;
GetDeploymentGroup, whose alarm configuration moto leaves empty)
and for GetMetricData, which moto cannot compute for percentiles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse


class ServiceError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


Operation = Callable[[dict[str, Any]], dict[str, Any]]


def overlay(client: Any, operations: dict[str, Operation]) -> Any:
    service = client.meta.service_model.service_id.hyphenize()

    def remember(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["overlay_params"] = dict(params)  # the API parameters, before serialisation

    def make_handler(operation: Operation) -> Callable[..., Any]:
        def handler(context: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
            try:
                body = operation(context["overlay_params"])
                status = 200
            except ServiceError as exc:
                body = {"Error": {"Code": exc.code, "Message": exc.message}}
                status = exc.status
            body.setdefault("ResponseMetadata", {"HTTPStatusCode": status})
            return AWSResponse(None, status, {}, None), body  # type: ignore[arg-type]  # as botocore's Stubber

        return handler

    for name, operation in operations.items():
        client.meta.events.register_first(f"before-parameter-build.{service}.{name}", remember)
        client.meta.events.register_first(f"before-call.{service}.{name}", make_handler(operation))
    return client
