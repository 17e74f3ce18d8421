"""What every rule of `safedeploy check` is: an id, a severity, what it names, a title, and whether an
error it cannot prove is reported under its *unverified twin*; and the finding it makes.

A rule whose problem is proven reports an error; when a value it rests on is not known here (a
parameter without a value, an open condition, a resource outside the template) the same problem is
reported under its twin, the id + 50 (SD201 -> SD251), as a warning that says what could not be
verified. Findings are made through their rule (`SD201.finding(...)`, `SD201.unverified(...)`), so
an id is written once, where the rule is declared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Kind = Literal["template", "function", "hook", "alarm"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
TWIN_OFFSET = 50
_LETTER = {"error": "E", "warning": "W", "info": "I"}
NOT_VERIFIED = "not verified here: "


def twin(rule_id: str) -> str:
    """The id under which a rule reports its problem when it could not verify it."""
    return f"SD{int(rule_id[2:]) + TWIN_OFFSET:03d}"


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str
    message: str
    # where to change it: the file that defines the resource (a nested app's own template), 1-based
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    # what the one-sentence message leaves out (a breakdown, the functions a finding covers): JSON only
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def severity(self) -> Severity:
        from safedeploy.rules.registry import RULES

        return RULES[self.rule].severity

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            **{k: v for k, v in asdict(self).items() if k != "rule"},
        }

    def located(self, file: str, line: int, column: int) -> Finding:
        return replace(self, file=file, line=line, column=column)


@dataclass(frozen=True)
class Rule:
    """One rule. cfn-lint sees it under `cfnlint_id`: the severity's letter, then 9 and the number
    (SD201 -> E9201, SD251 -> W9251), since cfn-lint takes a rule's severity from the first letter of
    its id and runs only E and W rules unless told otherwise."""

    id: str
    severity: Severity
    kind: Kind  # what the finding names
    title: str
    twinned: bool = False  # an error that can rest on a value not known here

    @property
    def cfnlint_id(self) -> str:
        return f"{_LETTER[self.severity]}9{self.id[2:]}"

    @property
    def twin(self) -> Rule:
        """The warning this rule reports when it cannot prove its problem."""
        if not self.twinned:
            raise ValueError(f"{self.id} has no unverified twin")
        return Rule(twin(self.id), "warning", self.kind, NOT_VERIFIED + self.title)

    def finding(self, resource: str, message: str, details: dict[str, Any] | None = None) -> Finding:
        return Finding(self.id, resource, message, details=details or {})

    def unverified(self, resource: str, message: str, details: dict[str, Any] | None = None) -> Finding:
        """The problem, not proven: reported under the twin."""
        return Finding(self.twin.id, resource, message, details=details or {})

    def proven_if(self, proven: bool, resource: str, message: str) -> Finding:
        return self.finding(resource, message) if proven else self.unverified(resource, message)
