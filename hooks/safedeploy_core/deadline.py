"""A wall-clock budget derived from the Lambda context, so the hook reports before Lambda kills it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, Protocol


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Deadline:
    at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def from_context(cls, context: HasRemainingTime, margin_s: float) -> Deadline:
        remaining = context.get_remaining_time_in_millis() / 1000 - margin_s
        return cls.in_seconds(max(remaining, 0.0))

    @classmethod
    def in_seconds(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(at=clock() + seconds, clock=clock)

    def remaining(self) -> float:
        return max(self.at - self.clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0


# What a hook keeps back from its Lambda budget for its status report: a grace for checks that end at
# the deadline, then the report with a retry. A quarter of the budget, at least MIN_RESERVE_S (a
# 10-s hook still tests for 4 s, then has one report and one retry of short timeouts) and at most
# MAX_RESERVE_S (three tries of about 2 s connect + 4 s read, with botocore's standard backoff).
MIN_RESERVE_S = 6.0
MAX_RESERVE_S = 25.0
RESERVE_SHARE = 0.25
MAX_GRACE_S = 2.0


@dataclass(frozen=True)
class Reserve:
    """The end of a hook's budget kept for reporting, and the report client's settings that fit it."""

    total_s: float
    grace_s: float
    tries: int
    connect_timeout_s: float
    read_timeout_s: float

    @classmethod
    def for_budget(cls, budget_s: float, fixed_s: float | None = None) -> Reserve:
        """The reserve of a hook with `budget_s` seconds (its timeout); `fixed_s` overrides its size."""
        if fixed_s is not None:
            total = fixed_s
        else:
            total = min(max(budget_s * RESERVE_SHARE, MIN_RESERVE_S), MAX_RESERVE_S)
        grace = min(MAX_GRACE_S, total / 6)
        report = total - grace
        tries = 3 if report >= 20 else 2
        # botocore's standard retry mode sleeps at most 1 s, then 2 s, between tries
        backoff = 2 ** (tries - 1) - 1
        per_try = max(report - backoff, 0.2 * tries) / tries
        return cls(total, grace, tries, round(per_try / 3, 2), round(2 * per_try / 3, 2))


class AbandonedWork:
    """Work the hook stopped waiting for at its deadline (a hung invocation, a slow API call).

    Python cannot stop a thread, and Lambda freezes an execution environment between invocations, so a
    worker left running would resume inside the next one. After its report the handler drains them
    (waits for them to end, within its remaining time); each is bounded by its client's timeouts.
    """

    def __init__(self) -> None:
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def add(self, *futures: Future[Any]) -> None:
        with self._lock:
            self._futures.extend(f for f in futures if not f.done())

    def drain(self, timeout_s: float) -> int:
        """Wait up to `timeout_s` for the abandoned work; return how many are still running."""
        with self._lock:
            futures, self._futures = self._futures, []
        if not futures:
            return 0
        _, running = wait(futures, timeout=max(timeout_s, 0.0))
        with self._lock:
            self._futures.extend(running)
        return len(running)


ABANDONED = AbandonedWork()
