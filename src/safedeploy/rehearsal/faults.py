"""Faults injected by the rehearsal at the invocation boundary, around the user's handler (any runtime):
the new version answers some calls wrongly without a line of its code changed. (The sample's own
FAULT_MODE switch is for drills on a real stack.)"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

FAULT_SLOW_S = 2.0  # above the sample smoke cases' 1500 ms budget and the 1000 ms p99 gate
BAD_BODY = {"msg": "oops"}  # a success whose body breaks the contract (fields renamed or missing)


class InjectedFault(Exception):
    pass


class Sleeper(Protocol):
    def sleep(self, seconds: float) -> None: ...


@dataclass
class FaultPlan:
    fault: str  # none | error | slow | bad-response
    rate_pct: float
    version: str  # only this version gets faults (the release being rehearsed)
    seed: int
    _streams: dict[str, random.Random] = field(default_factory=dict)

    def draw(self, version: str, stream: str = "users") -> str:
        """The fault this call gets ("none" for most). Each stream of calls draws from its own
        generator: the synthetic users' calls get the same faults whatever the hooks' parallel calls
        (in whichever order their threads run) drew before them."""
        if self.fault == "none" or version != self.version:
            return "none"
        rng = self._streams.setdefault(stream, random.Random(f"{self.seed}/{stream}"))
        return self.fault if rng.random() * 100 < self.rate_pct else "none"

    @staticmethod
    def before(fault: str, clock: Sleeper) -> None:
        if fault == "error":
            raise InjectedFault("injected fault: error (safedeploy rehearse --fault error)")
        if fault == "slow":
            clock.sleep(FAULT_SLOW_S)

    @staticmethod
    def after(fault: str, result: Any) -> Any:
        if fault != "bad-response":
            return result
        if isinstance(result, dict) and "statusCode" in result:
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(BAD_BODY),
            }
        return dict(BAD_BODY)
