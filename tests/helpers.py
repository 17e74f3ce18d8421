"""Test helpers: events from events/, a Lambda context, CodeDeploy stubs, moto Lambda set-up."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber
from safedeploy_core.appspec import render_appspec

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
SMOKE_CASES = ROOT / "hooks" / "smoke_cases"
REGION = "us-east-1"
APP = "safe-deploy-dev-ServerlessDeploymentApplication-1A2B3C"
GROUP = "safe-deploy-dev-HelloWorldFunctionDeploymentGroup-4D5E6F"
DEPLOYMENT_START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@dataclass
class FakeContext:
    remaining_ms: int = 120_000
    function_name: str = "PreTrafficHook"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:PreTrafficHook"
    log_group_name: str = "/aws/lambda/PreTrafficHook"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


HOOKS = {"BeforeAllowTraffic": "PreTrafficHook", "AfterAllowTraffic": "PostTrafficHook"}


def appspec(
    function: str,
    current: str = "1",
    target: str = "2",
    alias: str = "live",
    hooks: dict[str, str] | None = None,
) -> str:
    return render_appspec(function, alias, current, target, HOOKS if hooks is None else hooks)


REVISION = {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "abc"}}


@dataclass
class CodeDeployStub:
    """A real codedeploy client with botocore's Stubber: every call is checked against the API model,
    and `assert_no_pending_responses` proves that no expected call (e.g. the report) was skipped."""

    client: Any = field(default_factory=lambda: boto3.client("codedeploy", region_name=REGION))

    def __post_init__(self) -> None:
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def deployment(
        self,
        function: str,
        current: str = "1",
        target: str = "2",
        deployment_id: str = "d-AB12CD34E",
        status: str = "InProgress",
        application: str = APP,
        platform: str = "Lambda",
        hooks: dict[str, str] | None = None,
    ) -> None:
        self.stubber.add_response(
            "get_deployment",
            {
                "deploymentInfo": {
                    "deploymentId": deployment_id,
                    "applicationName": application,
                    "deploymentGroupName": GROUP,
                    "status": status,
                    "createTime": DEPLOYMENT_START,
                    "revision": REVISION,
                    "computePlatform": platform,
                }
            },
            {"deploymentId": deployment_id},
        )
        content = appspec(function, current, target, hooks=hooks)
        self.stubber.add_response(
            "get_application_revision",
            {
                "applicationName": application,
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": content, "sha256": "abc"},
                },
            },
            {"applicationName": application, "revision": REVISION},
        )

    def deployment_group_alarms(self, names: list[str], enabled: bool = True) -> None:
        self.stubber.add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "applicationName": APP,
                    "deploymentGroupName": GROUP,
                    "alarmConfiguration": {"enabled": enabled, "alarms": [{"name": n} for n in names]},
                }
            },
            {"applicationName": APP, "deploymentGroupName": GROUP},
        )

    def report(self, status: str, error_code: str | None = None, execution_id: str = ANY) -> None:
        params = {"deploymentId": ANY, "lifecycleEventHookExecutionId": execution_id, "status": status}
        if error_code:
            self.stubber.add_client_error(
                "put_lifecycle_event_hook_execution_status",
                service_error_code=error_code,
                service_message=f"{error_code} (stubbed)",
                http_status_code=400,
                expected_params=params,
            )
        else:
            self.stubber.add_response(
                "put_lifecycle_event_hook_execution_status", {"lifecycleEventHookExecutionId": "x"}, params
            )

    def error(self, operation: str, code: str, status: int = 400) -> None:
        self.stubber.add_client_error(
            operation, service_error_code=code, service_message=f"{code} (stubbed)", http_status_code=status
        )

    def done(self) -> None:
        self.stubber.assert_no_pending_responses()


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def lambda_role(iam: Any) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def publish_versions(
    lambda_client: Any,
    role: str,
    name: str,
    envs: list[dict[str, str]],
    tags: dict[str, str] | None = None,
    timeout: int = 10,
) -> list[str]:
    """Create `name`, publish one version per environment, point `live` at the first one."""
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="app.lambda_handler",
        Code={"ZipFile": code_zip()},
        Timeout=timeout,
        Environment={"Variables": envs[0]},
        Tags=tags or {},
    )
    versions = []
    for env in envs:
        lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": env})
        versions.append(lambda_client.publish_version(FunctionName=name)["Version"])
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=versions[0])
    return versions


def metric_data_response(series: dict[str, list[float]]) -> dict[str, Any]:
    """A GetMetricData answer: {query id: values} (ids as built by safedeploy_core.metrics)."""
    return {
        "MetricDataResults": [
            {
                "Id": qid,
                "Label": qid,
                "Timestamps": [DEPLOYMENT_START] * len(values),
                "Values": values,
                "StatusCode": "Complete",
            }
            for qid, values in series.items()
        ],
        "Messages": [],
    }


def version_series(
    baseline: tuple[int, int, list[float]], canary: tuple[int, int, list[float]], minutes: int = 5
) -> dict[str, list[float]]:
    """Per-minute series for both versions from totals (invocations, errors, p99 list)."""
    out: dict[str, list[float]] = {}
    for label, (inv, err, p99) in (("baseline", baseline), ("canary", canary)):
        out[f"inv_{label}"] = [inv / minutes] * minutes if inv else []
        out[f"err_{label}"] = [err / minutes] * minutes if inv else []
        out[f"p99_{label}"] = p99
        out[f"p50_{label}"] = [v / 4 for v in p99]
    return out


def stubbed_cloudwatch(series: dict[str, list[float]], end: datetime, repeat: int = 1) -> tuple[Any, Stubber]:
    """A cloudwatch client answering `repeat` GetMetricData calls for the window [DEPLOYMENT_START, end)."""
    cw = boto3.client("cloudwatch", region_name=REGION)
    stub = Stubber(cw)
    expected = {
        "MetricDataQueries": ANY,
        "StartTime": DEPLOYMENT_START,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(repeat):
        stub.add_response("get_metric_data", metric_data_response(series), expected)
    stub.activate()
    return cw, stub


class RecordingSns:
    """An SNS client that keeps what it was asked to publish."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.published.append(kwargs)
        return {"MessageId": "m-1"}


class StoreCloudWatch:
    """A CloudWatch client that answers GetMetricData from per-request records, as the rehearsal's does
    (safedeploy.offline.metric_store): clock-aligned periods, the exact dimension sets Lambda publishes,
    percentiles and PR(:T). Requests are validated against botocore's model; `now_s` (seconds after
    DEPLOYMENT_START) is what has been published so far. `calls` keeps every request."""

    def __init__(self, records: list[tuple[float, str, bool, float]], emf: bool = False) -> None:
        from botocore.validate import ParamValidator

        from safedeploy.offline.metric_store import EmfPoint, MetricStore, Record

        self.store = MetricStore("live")
        self.model = boto3.client("cloudwatch", region_name=REGION).meta.service_model
        self.validator = ParamValidator()
        self.now_s = 0.0
        self.calls: list[dict[str, Any]] = []
        for t, version, error, duration in records:
            self.store.records.append(Record(t, "hello-fn", version, error, duration))
            if emf:
                dims = (("FunctionVersion", version), ("service", "hello"))
                self.store.emf.append(EmfPoint(t, "SafeDeploy", dims, "Requests", 1.0))
                self.store.emf.append(EmfPoint(t, "SafeDeploy", dims, "Errors", float(error)))
                self.store.emf.append(EmfPoint(t, "SafeDeploy", dims, "Latency", duration))

    def get_metric_data(self, **params: Any) -> dict[str, Any]:
        from safedeploy.offline.metric_store import metric_data

        shape = self.model.operation_model("GetMetricData").input_shape
        report = self.validator.validate(params, shape)
        assert not report.has_errors(), report.generate_report()
        self.calls.append(params)
        return metric_data(self.store, params, DEPLOYMENT_START, lambda _namespace: self.now_s)


def canary_records(
    seconds: int, new_rps: int, new_error: float, slow_factor: float = 1.0, seed: int = 1
) -> list[tuple[float, str, bool, float]]:
    """Requests of a 10 % canary from DEPLOYMENT_START: v1 at 9x `new_rps` with 1 % errors, v2 at
    `new_rps` with `new_error`; durations lognormal around 100 ms (v2's times `slow_factor`)."""
    import random

    rng = random.Random(seed)
    out = []
    for second in range(seconds):
        for version, rps, rate, factor in (
            ("1", 9 * new_rps, 0.01, 1.0),
            ("2", new_rps, new_error, slow_factor),
        ):
            for i in range(rps):
                duration = 100 * factor * rng.lognormvariate(0, 0.5)
                out.append((second + i / rps, version, rng.random() < rate, duration))
    return out


def record_calls(clients: dict[str, Any]) -> set[str]:
    """Every IAM action the clients call from now on (`lambda:DeleteFunction`), as a set to check
    against a role."""
    from safedeploy.live.aws import IAM_PREFIX

    called: set[str] = set()
    for client in clients.values():
        signing = client.meta.service_model.signing_name
        prefix = IAM_PREFIX.get(signing, signing)

        def remember(model: Any, prefix: str = prefix, **kwargs: Any) -> None:
            called.add(f"{prefix}:{model.name}")

        client.meta.events.register("before-call", remember)
    return called


def deploy_role_actions() -> set[str]:
    """The actions the pipeline's deploy role allows (pipeline/github-oidc-role.yaml)."""
    from safedeploy.template.loader import load_template

    role = load_template(ROOT / "pipeline" / "github-oidc-role.yaml")["Resources"]["DeployRole"]
    allowed: set[str] = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Effect") == "Allow":
                actions = statement["Action"]
                allowed.update([actions] if isinstance(actions, str) else actions)
    return allowed


class LoopbackListener:
    """A local TCP endpoint that counts the connections it gets and answers none: it closes each at
    once, or (`hold`) keeps it open and silent, like an API that never answers."""

    def __init__(self, hold: bool = False) -> None:
        import socket
        import threading

        self.hold = hold
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.seen = 0
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.seen += 1
            if self.hold:
                self.held.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.sock.close()


def stack_summaries(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """A ListStackResources answer: (logical ID, physical ID, type) per resource, all up to date."""
    from datetime import UTC, datetime

    return {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": kind,
                "ResourceStatus": "UPDATE_COMPLETE",
                "LastUpdatedTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
            }
            for logical, physical, kind in rows
        ]
    }
