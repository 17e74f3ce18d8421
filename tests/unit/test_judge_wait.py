"""The post-traffic judge waits, within its budget and the hook's deadline, for metrics it cannot see yet."""

from __future__ import annotations

from typing import Any

import pytest
from safedeploy_core import judge_check
from safedeploy_core.appspec import Target
from safedeploy_core.codedeploy import Deployment
from safedeploy_core.deadline import Deadline
from safedeploy_core.judge import Policy, Verdict

DEPLOYMENT = Deployment("d-1", "app", "group", "InProgress", None, Target("fn", "live", "1", "2"))


def answers(monkeypatch: pytest.MonkeyPatch, *verdicts: str) -> list[float]:
    """The judge answers `verdicts` in turn; returns the list the waits are recorded in."""
    queue = [Verdict(v, (), v.lower()) for v in verdicts]
    monkeypatch.setattr(
        judge_check, "judge_deployment", lambda *a, **k: queue.pop(0) if len(queue) > 1 else queue[0]
    )
    return []


def run(waits: list[float], wait_s: float, deadline_s: float = 600.0) -> Verdict:
    return judge_check.judge_when_visible(
        object(), DEPLOYMENT, Policy(), Deadline.in_seconds(deadline_s), wait_s, sleep=waits.append
    )


def test_nodata_then_pass_waits_until_the_metrics_are_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = answers(monkeypatch, "NODATA", "NODATA", "INCONCLUSIVE", "PASS")
    assert run(waits, wait_s=120).verdict == "PASS"
    assert waits == [judge_check.POLL_S] * 3


@pytest.mark.parametrize("verdict", ["PASS", "FAIL"])
def test_a_decided_verdict_is_taken_at_once(monkeypatch: pytest.MonkeyPatch, verdict: str) -> None:
    waits = answers(monkeypatch, verdict)
    assert run(waits, wait_s=120).verdict == verdict and waits == []


def test_the_wait_ends_at_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = answers(monkeypatch, "NODATA")
    assert run(waits, wait_s=50).verdict == "NODATA"
    assert sum(waits) <= 50 and len(waits) == 2


def test_the_wait_ends_before_the_hook_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = answers(monkeypatch, "NODATA")
    assert run(waits, wait_s=600, deadline_s=judge_check.POLL_S / 2).verdict == "NODATA"
    assert waits == []


def test_no_wait_configured_judges_once(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[Any] = answers(monkeypatch, "NODATA", "PASS")
    assert run(waits, wait_s=0).verdict == "NODATA" and waits == []
