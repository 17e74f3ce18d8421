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
