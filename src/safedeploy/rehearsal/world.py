"""The rehearsal's fake AWS account: a moto server on loopback, moto extended to run Lambda code
in-process, boto3 clients for it, and the engine's `Cloud` port implemented on top of them."""

from __future__ import annotations

import contextlib
import io
import logging
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safedeploy.offline.inprocess_lambda import InProcessLambda

REGION = "us-east-1"
ACCOUNT = "123456789012"
SERVICES = ("lambda", "cloudwatch", "codedeploy", "ssm", "iam", "sns")


@contextlib.contextmanager
def moto_server(address: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # the in-band breaker logs with the standard library (Lambda's root handler shows it); its stop
    # is on the timeline already
    logging.getLogger("breaker").addHandler(logging.NullHandler())
    server = ThreadedMotoServer(ip_address=address, port=port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import requests

    # moto's backends live in this process: start every rehearsal from an empty AWS
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    try:
        yield endpoint
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()


@dataclass
class World:
    """One fake account: the endpoint, a client factory for it, and the in-process Lambda runtime."""

    endpoint: str
    runtime: InProcessLambda

    def client(self, service: str) -> Any:
        import boto3

        factory: Any = boto3.client  # a plain name, not one of boto3-stubs' per-service overloads
        return factory(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="rehearsal",
            aws_secret_access_key="rehearsal",  # noqa: S106 - moto takes any key
        )

    def backend(self, service: str) -> Any:
        from moto.backends import get_backend

        return get_backend(service)[ACCOUNT][REGION]  # type: ignore[call-overload]


@contextlib.contextmanager
def world(seed: int) -> Iterator[World]:
    runtime = InProcessLambda(random.Random(seed))
    with runtime.installed(), moto_server() as endpoint:
        yield World(endpoint, runtime)


class MotoCloud:
    """The engine's port on the world: invocations through the in-process runtime (alias weights
    drawn there), alias and alarm changes through the API, deployment status in moto's records."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lambda_client = world.client("lambda")
        self.cloudwatch = world.client("cloudwatch")

    def invoke(self, function: str, qualifier: str, payload: str) -> tuple[bytes, dict[str, str]]:
        headers: dict[str, str] = {}
        body = self.world.runtime.invoke(self.world.backend("lambda"), function, qualifier, payload, headers)
        return body, headers

    def route(self, function: str, alias: str, version: str, weights: dict[str, float]) -> None:
        self.lambda_client.update_alias(
            FunctionName=function,
            Name=alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )

    def set_deployment_status(self, deployment_id: str, status: str) -> None:
        self.world.backend("codedeploy").deployments[deployment_id].status = status

    def put_metric_data(self, namespace: str, data: list[dict[str, Any]]) -> None:
        self.cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)

    def set_alarm_state(self, name: str, state: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="rehearsal evaluation")

    def invocations_stored(self, function: str, alias: str, version: str) -> int:
        """What CloudWatch (moto) holds for `version`: a cross-check of the metrics the engine wrote."""
        now = datetime.now(UTC)
        stats = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=7200,
            Statistics=["Sum"],
            Dimensions=[
                {"Name": "FunctionName", "Value": function},
                {"Name": "Resource", "Value": f"{function}:{alias}"},
                {"Name": "ExecutedVersion", "Value": version},
            ],
        )
        total: float = sum(p["Sum"] for p in stats.get("Datapoints", []))
        return round(total)


def quiet_loggers() -> None:
    """Powertools loggers write JSON to stdout; the rehearsal shows its own timeline instead."""
    sink = io.StringIO()
    for logger in [
        logging.getLogger(),
        *[v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)],
    ]:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.stderr):
                handler.setStream(sink)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # the in-band breaker logs with the standard library (Lambda's root handler shows it); its stop
    # is on the timeline already
    logging.getLogger("breaker").addHandler(logging.NullHandler())
