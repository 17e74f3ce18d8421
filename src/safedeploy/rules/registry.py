"""Every rule of `safedeploy check`, collected from the family modules that declare them (general,
function, traffic, hook, IAM, alarm), with the unverified twin (id + 50, a warning) of each error that
can rest on a value not known here.

`safedeploy check --list-rules` prints this registry, and the rule table of docs/check.md is this list (a
test keeps them equal).
"""

from __future__ import annotations

from types import ModuleType

from safedeploy.rules import alarm, function, general, hook, iam, traffic
from safedeploy.rules.base import NOT_VERIFIED, SEVERITY_ORDER, TWIN_OFFSET, Kind, Rule, Severity, twin

__all__ = [
    "NOT_VERIFIED",
    "RULES",
    "SEVERITY_ORDER",
    "TWIN_OFFSET",
    "Kind",
    "Rule",
    "Severity",
    "canonical",
    "twin",
    "unverified",
]
FAMILIES: tuple[ModuleType, ...] = (general, function, traffic, hook, iam, alarm)


def _registry() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for family in FAMILIES:
        for value in vars(family).values():
            if isinstance(value, Rule) and value.id not in rules:
                rules[value.id] = value
                if value.twinned:
                    rules[value.twin.id] = value.twin
    return dict(sorted(rules.items()))


RULES = _registry()


def unverified(rule_id: str) -> str:
    """`rule_id`'s twin if it has one (an error that could not be proven), else the id itself."""
    rule = RULES[rule_id]
    return rule.twin.id if rule.twinned else rule_id


_BY_CFNLINT_ID = {rule.cfnlint_id: rid for rid, rule in RULES.items()}


def canonical(name: str) -> str:
    """A rule named either way (SD201, or cfn-lint's E9201) as its SD id; unknown names unchanged."""
    return _BY_CFNLINT_ID.get(name.strip().upper(), name.strip())
