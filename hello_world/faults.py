"""The fault switch used by rollback drills and the offline rehearsal.

Read at call time (never at import), so a test or a drill can flip it per invocation.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

FaultMode = Literal["none", "error", "slow", "bad-response"]
FAULT_MODES: tuple[FaultMode, ...] = ("none", "error", "slow", "bad-response")


class FaultConfigError(ValueError):
    pass


@dataclass(frozen=True)
class FaultConfig:
    mode: FaultMode = "none"
    rate_percent: float = 100.0  # share of requests that get the fault
    slow_ms: int = 3000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FaultConfig:
        env = os.environ if env is None else env
        mode = env.get("FAULT_MODE", "none") or "none"
        if mode not in FAULT_MODES:
            raise FaultConfigError(f"FAULT_MODE must be one of {', '.join(FAULT_MODES)}, got {mode!r}")
        try:
            rate = float(env.get("FAULT_RATE", "100") or "100")
            slow_ms = int(env.get("FAULT_SLOW_MS", "3000") or "3000")
        except ValueError as exc:
            raise FaultConfigError(f"FAULT_RATE/FAULT_SLOW_MS must be numbers: {exc}") from exc
        if not 0 <= rate <= 100:
            raise FaultConfigError(f"FAULT_RATE must be within 0..100, got {rate}")
        return cls(mode=mode, rate_percent=rate, slow_ms=slow_ms)

    def fires(self, rng: random.Random | None = None) -> bool:
        if self.mode == "none":
            return False
        draw = (rng or random).random() * 100
        return draw < self.rate_percent


class InjectedFault(RuntimeError):
    """Raised by the `error` fault: Lambda reports it as FunctionError: Unhandled."""
