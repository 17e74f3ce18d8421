"""Lazily built boto3 clients (never at import: moto must be active first, and cold starts stay small)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safedeploy_core.deadline import Reserve

# Control-plane calls retry throttling with botocore's standard mode (exponential backoff with jitter).
# `total_max_attempts` counts tries, `max_attempts` would count retries.
CONTROL_PLANE = {"mode": "standard", "total_max_attempts": 4}


def make_client(service: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    retries = config.pop("retries", CONTROL_PLANE)
    config.setdefault("connect_timeout", 3)
    factory: Any = boto3.client  # a plain name, not one of boto3-stubs' per-service overloads
    return factory(service, config=Config(retries=retries, **config))


@dataclass
class Clients:
    """A cache of clients; tests pass their own (Stubber, moto) through the constructor."""

    overrides: dict[str, Any] = field(default_factory=dict)
    invoke_read_timeout_s: float = 30.0
    # The CodeDeploy client's tries and timeouts fit the hook's reserve for its report
    reserve: Reserve = field(default_factory=lambda: Reserve.for_budget(0, fixed_s=25.0))

    def get(self, service: str) -> Any:
        if service not in self.overrides:
            if service == "lambda-invoke":
                # One try per smoke invocation: a retry would double a hung case's wait and
                # re-run a request that may not be idempotent.
                self.overrides[service] = make_client(
                    "lambda", retries={"total_max_attempts": 1}, read_timeout=self.invoke_read_timeout_s
                )
            elif service == "codedeploy":
                # The status report, with its retries, must fit in the hook's reserve.
                self.overrides[service] = make_client(
                    service,
                    retries={"mode": "standard", "total_max_attempts": self.reserve.tries},
                    read_timeout=self.reserve.read_timeout_s,
                    connect_timeout=self.reserve.connect_timeout_s,
                )
            else:
                self.overrides[service] = make_client(service, read_timeout=10)
        return self.overrides[service]

    @property
    def codedeploy(self) -> Any:
        return self.get("codedeploy")

    @property
    def lambda_control(self) -> Any:
        return self.get("lambda")

    @property
    def lambda_invoke(self) -> Any:
        return self.get("lambda-invoke")

    @property
    def cloudwatch(self) -> Any:
        return self.get("cloudwatch")

    @property
    def ssm(self) -> Any:
        return self.get("ssm")

    @property
    def s3(self) -> Any:
        return self.get("s3")

    @property
    def sns(self) -> Any:
        return self.get("sns")
