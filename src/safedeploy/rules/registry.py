"""Every rule of `safedeploy check`: one problem per id, and each id one fixed severity.

A rule whose problem is proven reports an error; when a value it rests on is not known here (a
parameter without a value, an open condition, a resource outside the template) the same problem is
reported under its *unverified twin*, the id + 50 (SD201 -> SD251), as a warning that says what could
not be verified. cfn-lint sees each rule under `cfnlint_id`: the severity's letter, then 9 and the
number (SD201 -> E9201, SD251 -> W9251), since cfn-lint takes a rule's severity from the first
letter of its id and runs only E and W rules unless told otherwise.

`safedeploy check --list-rules` prints this registry, and the README's rule table is this list (a
test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
Kind = Literal["template", "function", "hook", "alarm"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
TWIN_OFFSET = 50
_LETTER = {"error": "E", "warning": "W", "info": "I"}
NOT_VERIFIED = "not verified here: "


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    kind: Kind  # what the finding names
    title: str

    @property
    def cfnlint_id(self) -> str:
        return f"{_LETTER[self.severity]}9{self.id[2:]}"


_PROVEN: list[tuple[str, Severity, Kind, str]] = [
    (
        "SD001",
        "error",
        "template",
        "AWS::Serverless resources without the SAM Transform: CloudFormation rejects the "
        "template, and nothing else is checked",
    ),
    (
        "SD002",
        "error",
        "template",
        "not a readable template (YAML/JSON, UTF-8, a Resources section)",
    ),
    (
        "SD003",
        "error",
        "template",
        "SAM cannot translate the template (the translator's own message)",
    ),
    (
        "SD101",
        "warning",
        "function",
        "deployment type neither predefined nor defined in the template: a custom config that "
        "must exist in the account (not verified)",
    ),
    (
        "SD102",
        "warning",
        "function",
        "AllAtOnce with alarms (they can only fire after every user saw the version)",
    ),
    (
        "SD103",
        "error",
        "function",
        "Canary/Linear with neither alarms nor hooks: it can never roll back",
    ),
    (
        "SD104",
        "error",
        "function",
        "more than 10 alarms on a deployment group",
    ),
    (
        "SD105",
        "info",
        "function",
        "note, once per template: the first create runs no hooks",
    ),
    (
        "SD106",
        "warning",
        "function",
        "environment variable from a parameter: changing only the parameter publishes no version, "
        "so no deployment runs",
    ),
    (
        "SD107",
        "warning",
        "function",
        "Canary/Linear with hooks but no alarm: nothing watches the shifted traffic before 100 %",
    ),
    (
        "SD201",
        "error",
        "hook",
        "CodeDeploy's role may not invoke the hook (CodeDeployHook_ naming vs DeploymentPreference.Role)",
    ),
    (
        "SD202",
        "error",
        "hook",
        "hook without DeploymentPreference: Enabled: false (e.g. inherited from Globals)",
    ),
    (
        "SD203",
        "error",
        "hook",
        "hook role lacks codedeploy:PutLifecycleEventHookExecutionStatus (one-hour hang)",
    ),
    (
        "SD204",
        "error",
        "hook",
        "pre-traffic hook may not invoke the target's versions",
    ),
    (
        "SD205",
        "error",
        "hook",
        "LambdaInvokePolicy given a version/alias (builds a wrong ARN)",
    ),
    (
        "SD206",
        "error",
        "hook",
        "circular dependency through the alias or the implicit API (translated template)",
    ),
    (
        "SD207",
        "error",
        "function",
        "DeploymentPreference.Role that CodeDeploy may not assume, or that may not make its calls for the "
        "deployment (GetAlias/UpdateAlias on the function, provisioned concurrency, the gate alarms, "
        "trigger topics), as IAM evaluates it",
    ),
    (
        "SD301",
        "error",
        "alarm",
        "dimensions that do not exist behind an alias (Resource=fn:N, a version ARN, "
        "ExecutedVersion without Resource)",
    ),
    (
        "SD302",
        "warning",
        "alarm",
        "Errors/Invocations/Duration on the whole function or alias (blends old and new)",
    ),
    (
        "SD303",
        "error",
        "alarm",
        "a gate that cannot fire before the deployment ends, even at best",
    ),
    (
        "SD304",
        "info",
        "alarm",
        "TreatMissingData left at missing or ignore: INSUFFICIENT_DATA, which CodeDeploy does not act on",
    ),
    (
        "SD305",
        "warning",
        "alarm",
        "an 'Errors > 0' count gate (or its twin 'Errors >= 1')",
    ),
    (
        "SD306",
        "warning",
        "function",
        "gate alarm not defined in the template, or composite (not verifiable)",
    ),
    (
        "SD307",
        "error",
        "alarm",
        "a metric Lambda does not publish (a near-miss name such as Error)",
    ),
    (
        "SD308",
        "error",
        "alarm",
        "a dimension Lambda does not publish (e.g. Alias): the alarm never gets data",
    ),
    (
        "SD309",
        "error",
        "alarm",
        "a dimension value Lambda never uses: an ARN for FunctionName or ExecutedVersion, "
        "Resource on another alias",
    ),
    (
        "SD310",
        "warning",
        "alarm",
        "TreatMissingData breaching: a healthy version with no traffic yet rolls back",
    ),
    (
        "SD311",
        "warning",
        "alarm",
        "a gate whose worst case is longer than the shift or its first step",
    ),
]
# Errors that can rest on a value not known here; the others are proven from the file alone.
_TWINNED = (
    "SD003", "SD103", "SD104", "SD201", "SD202", "SD203", "SD204", "SD205", "SD207",
    "SD301", "SD303", "SD307", "SD308", "SD309",
)  # fmt: skip


def twin(rule_id: str) -> str:
    """The id under which a rule reports its problem when it could not verify it."""
    return f"SD{int(rule_id[2:]) + TWIN_OFFSET:03d}"


def _registry() -> dict[str, Rule]:
    rules = {rid: Rule(rid, severity, kind, title) for rid, severity, kind, title in _PROVEN}
    for rid in _TWINNED:
        proven = rules[rid]
        rules[twin(rid)] = Rule(twin(rid), "warning", proven.kind, NOT_VERIFIED + proven.title)
    return dict(sorted(rules.items()))


RULES = _registry()


def unverified(rule_id: str) -> str:
    """`rule_id`'s twin if it has one (an error that could not be proven), else the id itself."""
    return twin(rule_id) if rule_id in _TWINNED else rule_id


_BY_CFNLINT_ID = {rule.cfnlint_id: rid for rid, rule in RULES.items()}


def canonical(name: str) -> str:
    """A rule named either way (SD201, or cfn-lint's E9201) as its SD id; unknown names unchanged."""
    return _BY_CFNLINT_ID.get(name.strip().upper(), name.strip())
