"""What a rehearsal concludes: the outcome, the outcome its fault predicts, and whether they agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["Succeeded", "rolled back"]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    expected: Outcome

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected

    def as_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome, "expected": self.expected, "as_expected": self.as_expected}


def verdict(status: str, fault: str) -> Verdict:
    """A healthy release must succeed; a faulty one must not reach 100 % (stopped, failed, rolled back)."""
    outcome: Outcome = "Succeeded" if status == "Succeeded" else "rolled back"
    return Verdict(outcome, "Succeeded" if fault == "none" else "rolled back")
