"""Consumer of the hooks' dead-letter queue: free every deployment whose hook never reported."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from hook_support import clients, load_config, logger
from safedeploy_core.config import HookConfig
from safedeploy_core.lost_reports import recover
from safedeploy_core.notify import publish


@logger.inject_lambda_context
@event_source(data_class=SQSEvent)
def lambda_handler(event: SQSEvent, context: LambdaContext) -> dict[str, Any]:
    config = load_config()
    topic = config.notification_topic_arn if isinstance(config, HookConfig) else None
    cl = clients()
    failures = []
    for record in event.records:
        try:
            lost = recover(cl.codedeploy, record.raw_event)
            log = logger.warning if lost.recovery == "not-a-hook-event" else logger.error
            log(f"lost report {lost.message_id}: {lost.recovery}", extra={"lost_report": lost.__dict__})
            notice = lost.notice()
            if notice and record.attributes.approximate_receive_count == "1":  # tell a person once
                publish(cl.sns, topic, notice.subject, notice.message)
            held = lost.retry
        except Exception:  # one record's trouble never blocks the others: it alone comes back
            logger.exception("lost report could not be handled", extra={"message_id": record.message_id})
            held = True
        if held:
            failures.append({"itemIdentifier": record.message_id})
    # ReportBatchItemFailures: only the held messages come back (after the visibility timeout)
    return {"batchItemFailures": failures}
