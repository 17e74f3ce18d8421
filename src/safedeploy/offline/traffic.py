"""The rehearsal's synthetic users: when requests arrive, the clock a function sleeps on, and the one
place a call is recorded (its metrics, its count, the first faulty answer) and published as Lambda
publishes per-version metrics. The engine (lifecycle) asks it to serve a stretch of time."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from safedeploy.offline.metric_store import EmfPoint, MetricStore, Record


@dataclass
class VirtualTime:
    """Stand-in for the `time` module inside the function under test while it serves synthetic
    traffic: `sleep` costs simulated time, not wall time."""

    slept_ms: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept_ms += seconds * 1000

    def perf_counter(self) -> float:
        """The function's own stopwatch runs on the same clock: real time plus the simulated sleeps."""
        return time.perf_counter() + self.slept_ms / 1000

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class Arrivals:
    """Request k arrives at a random point of its slot [k, k + 1) / rps. The schedule is drawn in
    order, so it does not depend on how the clock is cut into stretches: a rehearsal with and without
    the step judge serves the same requests at the same times until one of them rolls back."""

    rng: random.Random
    rps: float
    drawn: int = 0
    _next: tuple[int, float] | None = None

    def between(self, start: float, end: float) -> Iterator[tuple[int, float]]:
        """(index, time) of the requests in [start, end). Requests due while the clock jumped (a
        hook's own run time) are not served, as before any stretch covered them. Drawn lazily: a
        caller that stops early leaves the rest undrawn, for the next stretch."""
        while True:
            if self._next is None:
                self._next = (self.drawn, (self.drawn + self.rng.random()) / self.rps)
            k, t = self._next
            if t >= end:
                return
            self.drawn += 1
            self._next = None
            if t >= start:
                yield k, t


@dataclass
class CallLog:
    """Every call the synthetic users made, recorded once: the metric store's record (what CloudWatch
    will have), the counts the report gives, and the first faulty answer of the new version."""

    store: MetricStore
    function: str
    alias: str
    new_version: str
    total: int = 0
    on_new_version: int = 0
    faulty: int = 0
    first_bad_s: float | None = None
    published: int = field(default=0, repr=False)

    def record(self, t: float, version: str, error: bool, duration_ms: float, bad: bool) -> bool:
        """One call; True when it is the new version's first faulty answer."""
        self.store.records.append(Record(t, self.function, version, error, duration_ms))
        self.total += 1
        if version != self.new_version:
            return False
        self.on_new_version += 1
        if not bad:
            return False
        self.faulty += 1
        first = self.first_bad_s is None
        if first:
            self.first_bad_s = t
        return first

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "new_version": self.on_new_version, "faulty": self.faulty}

    def collect_emf(self, log: str, t: float) -> None:
        """The call's EMF lines (its log), each metric at the call's own second."""
        for line in log.splitlines():
            if '"_aws"' not in line:
                continue
            doc = json.loads(line)
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                dims = tuple(sorted((d, str(doc[d])) for d in directive["Dimensions"][0]))
                for metric in directive["Metrics"]:
                    value = doc[metric["Name"]]
                    total = float(sum(value)) if isinstance(value, list) else float(value)
                    self.store.emf.append(EmfPoint(t, directive["Namespace"], dims, metric["Name"], total))

    def unpublished(self, until_s: float) -> list[dict[str, Any]]:
        """The per-version Lambda metrics of the calls recorded since the last time, as Lambda
        publishes them ({FunctionName, Resource=fn:alias, ExecutedVersion}); every call before
        `until_s` has been recorded then."""
        records = self.store.records[self.published :]
        self.published = len(self.store.records)
        self.store.records_until_s = until_s
        by_version: dict[str, list[Record]] = {}
        for record in records:
            by_version.setdefault(record.version, []).append(record)
        data = []
        for version, rows in by_version.items():
            dims = [
                {"Name": "FunctionName", "Value": self.function},
                {"Name": "Resource", "Value": f"{self.function}:{self.alias}"},
                {"Name": "ExecutedVersion", "Value": version},
            ]
            durations = [r.duration_ms for r in rows]
            errors = float(sum(r.error for r in rows))
            for metric, stats, unit in (
                ("Invocations", (len(rows), float(len(rows)), 1.0, 1.0), "Count"),
                ("Errors", (len(rows), errors, 0.0, 1.0 if errors else 0.0), "Count"),
                ("Duration", (len(rows), sum(durations), min(durations), max(durations)), "Milliseconds"),
            ):
                count, total, low, high = stats
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": dims,
                        "Unit": unit,
                        "StatisticValues": {
                            "SampleCount": count,
                            "Sum": total,
                            "Minimum": low,
                            "Maximum": high,
                        },
                    }
                )
        return data
