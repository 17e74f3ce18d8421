"""The moto server extensions that the `sam local invoke` hooks rely on, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from safedeploy.offline.metric_store import percentile
from safedeploy.offline.moto_server import extended
from safedeploy.rehearsal.world import moto_server
from tests.helpers import appspec, lambda_role

REVISION = {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec("fn"), "sha256": "x"}}


@pytest.fixture
def server() -> Iterator[tuple[Any, Any]]:
    with extended() as records, moto_server() as endpoint:

        def client(service: str) -> Any:
            factory: Any = boto3.client
            return factory(service, endpoint_url=endpoint, region_name="us-east-1")

        yield client, records


def deployment(client: Any) -> str:
    cd = client("codedeploy")
    cd.create_application(applicationName="app", computePlatform="Lambda")
    role = lambda_role(client("iam"))
    cd.create_deployment_group(applicationName="app", deploymentGroupName="g", serviceRoleArn=role)
    return str(
        cd.create_deployment(applicationName="app", deploymentGroupName="g", revision=REVISION)[
            "deploymentId"
        ]
    )


def test_the_revision_comes_back_with_its_appspec(server: tuple[Any, Any]) -> None:
    client, _ = server
    deployment_id = deployment(client)
    cd = client("codedeploy")
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    out = cd.get_application_revision(applicationName="app", revision=info["revision"])
    assert out["revision"]["appSpecContent"]["content"] == appspec("fn")
    with pytest.raises(ClientError, match="RevisionDoesNotExist"):
        cd.get_application_revision(applicationName="other", revision=info["revision"])


def test_a_hook_report_is_recorded_once(server: tuple[Any, Any]) -> None:
    client, records = server
    deployment_id = deployment(client)
    cd = client("codedeploy")
    cd.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId="e1", status="Succeeded"
    )
    with pytest.raises(ClientError, match="LifecycleEventAlreadyCompleted"):
        cd.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="e1", status="Failed"
        )
    with pytest.raises(ClientError, match="DeploymentDoesNotExist"):
        cd.put_lifecycle_event_hook_execution_status(
            deploymentId="d-NOPE", lifecycleEventHookExecutionId="e2", status="Failed"
        )
    assert [(r.execution_id, r.status) for r in records.reports] == [("e1", "Succeeded")]


def test_percentiles_are_answered(server: tuple[Any, Any]) -> None:
    client, _ = server
    cw = client("cloudwatch")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dims = [{"Name": "FunctionName", "Value": "f"}]
    values = [float(v) for v in range(1, 101)]
    cw.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[{"MetricName": "Duration", "Dimensions": dims, "Values": values, "Timestamp": now}],
    )
    stat = {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": dims}, "Period": 60}
    out = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "p99", "MetricStat": {**stat, "Stat": "p99"}},
            {"Id": "p50", "MetricStat": {**stat, "Stat": "p50"}},
            {"Id": "avg", "MetricStat": {**stat, "Stat": "Average"}},
        ],
        StartTime=now - timedelta(minutes=1),
        EndTime=now + timedelta(minutes=1),
    )
    got = {r["Id"]: r["Values"] for r in out["MetricDataResults"]}
    assert got == {"p99": [99.0], "p50": [50.0], "avg": [50.5]}


def test_the_extensions_are_removed_afterwards() -> None:
    from moto.codedeploy.responses import CodeDeployResponse

    with extended():
        assert hasattr(CodeDeployResponse, "put_lifecycle_event_hook_execution_status")
    assert not hasattr(CodeDeployResponse, "put_lifecycle_event_hook_execution_status")


@pytest.mark.parametrize(("p", "expected"), [(99, 99.0), (50, 50.0), (100, 100.0), (0.1, 1.0), (99.9, 100.0)])
def test_percentile_is_the_nearest_rank(p: float, expected: float) -> None:
    assert percentile([float(v) for v in range(100, 0, -1)], p) == expected
