"""What moto's server lacks for clients outside this process (a hook running in a Lambda container).

The rehearsal answers these operations inside its own botocore clients (service_overlay); a hook in a
container sends real HTTP, so here they are added to moto's server itself (pinned: MOTO_VERSION):
- CodeDeploy `GetApplicationRevision`: the revision a deployment was created with, AppSpec content
  included, as the API returns it for `AppSpecContent` revisions;
- CodeDeploy `PutLifecycleEventHookExecutionStatus`: recorded once per execution id in `reports`
  (a second report raises `LifecycleEventAlreadyCompletedException`, as CodeDeploy does);
- CloudWatch percentile statistics (`p99`, `p50.5`) in GetMetricData, nearest rank over the raw
  values, which moto does not compute (it fails with a server error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from safedeploy.offline.inprocess_lambda import MOTO_VERSION
from safedeploy.offline.metric_store import percentile


@dataclass
class HookReport:
    deployment_id: str
    execution_id: str
    status: str


@dataclass
class Records:
    """What hooks told the server, in order."""

    reports: list[HookReport] = field(default_factory=list)

    def status_of(self, execution_id: str) -> str | None:
        return next((r.status for r in self.reports if r.execution_id == execution_id), None)


@contextmanager
def extended() -> Iterator[Records]:
    import moto
    from moto.cloudwatch.models import Statistics
    from moto.codedeploy.exceptions import CodeDeployException, DeploymentDoesNotExistException
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"the server extensions are written for moto {MOTO_VERSION}, found {moto.__version__}"
        )
    records = Records()

    def get_application_revision(response: Any) -> Any:
        params = json.loads(response.body or "{}")
        application, wanted = params.get("applicationName"), params.get("revision")
        backend = response.codedeploy_backend
        for deployment in backend.deployments.values():
            if deployment.application_name == application and deployment.revision == wanted:
                return ActionResult({"applicationName": application, "revision": deployment.revision})
        raise CodeDeployException(
            "RevisionDoesNotExistException", "no deployment of this application has that revision"
        )

    def put_lifecycle_event_hook_execution_status(response: Any) -> Any:
        params = json.loads(response.body or "{}")
        deployment_id = params.get("deploymentId", "")
        execution_id = params.get("lifecycleEventHookExecutionId", "")
        if deployment_id not in response.codedeploy_backend.deployments:
            raise DeploymentDoesNotExistException(f"The deployment {deployment_id} could not be found.")
        if records.status_of(execution_id) is not None:
            raise CodeDeployException(
                "LifecycleEventAlreadyCompletedException", "The lifecycle event is already completed."
            )
        records.reports.append(HookReport(deployment_id, execution_id, str(params.get("status"))))
        return ActionResult({"lifecycleEventHookExecutionId": execution_id})

    original_statistic = Statistics.get_statistics_for_type

    def get_statistics_for_type(stats: Any, stat: str) -> Any:
        if stat.startswith("p") and stats.metric_single_values_list:
            return percentile(stats.metric_single_values_list, float(stat[1:]))
        return original_statistic(stats, stat)

    added = {
        "get_application_revision": get_application_revision,
        "put_lifecycle_event_hook_execution_status": put_lifecycle_event_hook_execution_status,
    }
    for name, method in added.items():
        setattr(CodeDeployResponse, name, method)
    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign,assignment]
    try:
        yield records
    finally:
        for name in added:
            delattr(CodeDeployResponse, name)
        Statistics.get_statistics_for_type = original_statistic  # type: ignore[method-assign]
