"""Best-effort notifications: a failed publish is logged by the caller, never changes a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class Notice:
    """A message for people, sent only after the hook's status has been reported."""

    subject: str
    message: str


def publish(sns: Any, topic_arn: str | None, subject: str, message: str) -> str:
    if not topic_arn:
        return "no topic"
    try:
        sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)
    except (ClientError, BotoCoreError) as exc:
        return f"publish failed: {exc}"
    return "published"
