"""What to rehearse, as one value validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from safedeploy.errors import UserError

Fault = Literal["none", "error", "slow", "bad-response"]
FAULTS: tuple[Fault, ...] = ("none", "error", "slow", "bad-response")
MIN_SPEED, MAX_SPEED = 1.0, 1e6
MAX_RPS = 1000.0


@dataclass(frozen=True)
class RehearsalOptions:
    template: Path
    function: str | None = None  # None: the template's only function with a DeploymentPreference
    fault: Fault = "none"
    fault_rate: float = 100.0  # percent of requests that get the fault
    type_name: str | None = None  # deployment type; None: the template's
    speed: float = 60.0  # simulated seconds per wall second
    rps: float = 20.0  # simulated requests per second
    seed: int = 7
    # False: rehearse as if the template did not create the step judge (the hooks' EnableStepJudge)
    step_judge: bool = True

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise UserError(f"--fault must be one of {', '.join(FAULTS)}")
        finite = all(math.isfinite(x) for x in (self.speed, self.rps, self.fault_rate))
        if not finite or self.speed <= 0 or self.rps <= 0 or not 0 <= self.fault_rate <= 100:
            raise UserError("--speed and --rps must be positive and --fault-rate within 0..100")
        # Every simulated request runs the function in-process, and the clock never outruns the wall
        # by less than 1x: beyond these bounds a rehearsal would not end in any useful time.
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise UserError(
                f"--speed must be within {MIN_SPEED:g}..{MAX_SPEED:g} simulated seconds per second"
            )
        if self.rps > MAX_RPS:
            raise UserError(f"--rps must be at most {MAX_RPS:g} (each request runs the function in-process)")
