"""Lifecycle events whose hook never reported: what the dead-letter queue's consumer does with them.

CodeDeploy invokes hooks asynchronously. A hook that raised (its status report failed) is retried by
Lambda twice, one and then two minutes later; after that Lambda sends the event, unchanged, to the
hook's dead-letter queue with the attributes RequestID, ErrorCode and ErrorMessage (Lambda developer
guide, "Dead-letter queues" and "Error handling and automatic retries"). Without this consumer the
deployment would wait for CodeDeploy's one-hour limit. For each event it reports Failed; if that
still cannot be sent, it stops the deployment with rollback; if neither works the message is kept
for SQS to deliver again, until the deployment has ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from safedeploy_core.codedeploy import (
    ENDED_CODES,
    HookEvent,
    describe_client_error,
    parse_hook_event,
    report_status,
)
from safedeploy_core.errors import MalformedEvent
from safedeploy_core.notify import Notice

Recovery = Literal["reported-failed", "already-completed", "stopped", "ended", "not-a-hook-event", "held"]


@dataclass(frozen=True)
class LostReport:
    message_id: str
    recovery: Recovery
    detail: str
    deployment_id: str | None = None
    hook_error: str = ""  # why the hook failed, as Lambda recorded it

    @property
    def retry(self) -> bool:
        """Keep the message: nothing freed the deployment yet."""
        return self.recovery == "held"

    def notice(self) -> Notice | None:
        if self.deployment_id is None:
            return None
        subject = f"Deployment {self.deployment_id}: a hook never reported its status"
        lines = [
            f"A lifecycle hook of deployment {self.deployment_id} failed on every try and its status never "
            f"reached CodeDeploy ({self.hook_error or 'no error recorded'}).",
            f"Recovery: {self.recovery} — {self.detail}",
        ]
        if self.retry:
            lines.append(
                "Still held. Stop it yourself: aws deploy stop-deployment --deployment-id "
                f"{self.deployment_id} --auto-rollback-enabled"
            )
        return Notice(subject, "\n".join(lines))


def _attribute(record: dict[str, Any], name: str) -> str:
    value = (record.get("messageAttributes") or {}).get(name) or {}
    return str(value.get("stringValue") or "")


def recover(codedeploy: Any, record: dict[str, Any]) -> LostReport:
    """One SQS record of the hooks' dead-letter queue -> what was done to free its deployment."""
    message_id = str(record.get("messageId", "?"))
    try:
        body = json.loads(record.get("body") or "")
        hook: HookEvent = parse_hook_event(body)
    except (ValueError, MalformedEvent, RecursionError) as exc:  # a body nested too deep: RecursionError
        return LostReport(message_id, "not-a-hook-event", f"dropped: {type(exc).__name__}: {exc}"[:300])
    error = _attribute(record, "ErrorMessage")
    code = _attribute(record, "ErrorCode")
    hook_error = f"{code} {error}".strip()
    try:
        outcome = report_status(codedeploy, hook, "Failed")
    except (ClientError, BotoCoreError) as exc:
        report_error = describe_client_error(exc) if isinstance(exc, ClientError) else str(exc)
    else:
        recovery: Recovery = "reported-failed" if outcome == "reported" else "already-completed"
        detail = (
            "reported Failed: CodeDeploy rolls the deployment back"
            if recovery == "reported-failed"
            else "the lifecycle event already had a status"
        )
        return LostReport(message_id, recovery, detail, hook.deployment_id, hook_error)
    try:
        codedeploy.stop_deployment(deploymentId=hook.deployment_id, autoRollbackEnabled=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ENDED_CODES:
            return LostReport(
                message_id, "ended", "the deployment had already ended", hook.deployment_id, hook_error
            )
        stop_error = describe_client_error(exc)
    except BotoCoreError as exc:
        stop_error = str(exc)
    else:
        detail = f"the report failed ({report_error}); stopped the deployment with rollback"
        return LostReport(message_id, "stopped", detail, hook.deployment_id, hook_error)
    detail = f"report failed ({report_error}) and stop failed ({stop_error}); SQS delivers it again"
    return LostReport(message_id, "held", detail, hook.deployment_id, hook_error)
