"""safedeploy's checks as cfn-lint rules: `cfn-lint --append-rules <this folder> template.yaml`.

cfn-lint hands a rule one (transformed) template; our checks need the SAM source and the nested
applications beside it, so the rule re-reads the template from `cfn.filename`. Findings keep their
SDxxx id in the message; errors are E9101, warnings W9101, notes I9101.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _findings(cfn: Any, severity: str) -> list[RuleMatch]:
    from safedeploy.errors import UserError
    from safedeploy.rules.checks import check
    from safedeploy.template.scope import build_scope

    filename = getattr(cfn, "filename", None)
    if not filename or not Path(filename).is_file():
        return []
    try:
        found = check(build_scope(Path(filename)))
    except UserError:
        return []  # cfn-lint reports unreadable templates itself
    resources = cfn.template.get("Resources", {})
    matches = []
    for f in found:
        if f.severity != severity or f.rule == "SD105":
            continue
        logical = f.resource.split("/")[0]
        path = ["Resources", logical] if logical in resources else ["Resources"]
        matches.append(RuleMatch(path, f"{f.rule} {f.resource}: {f.message}"))
    return matches


class SafeDeploymentErrors(CloudFormationLintRule):  # type: ignore[misc]
    id = "E9101"
    shortdesc = "Safe Lambda deployment (safedeploy check): errors"
    description = "Hook naming, permissions and cycles; alarm dimensions and timing; deployment preferences"
    source_url = (
        "https://github.com/safe-deploy/safe-deploy#safedeploy-check-template---config-env-env---format-json"
    )
    tags = ("safedeploy", "codedeploy", "lambda")

    def match(self, cfn: Any) -> list[RuleMatch]:
        return _findings(cfn, "error")


class SafeDeploymentWarnings(CloudFormationLintRule):  # type: ignore[misc]
    id = "W9101"
    shortdesc = "Safe Lambda deployment (safedeploy check): warnings"
    description = SafeDeploymentErrors.description
    source_url = SafeDeploymentErrors.source_url
    tags = SafeDeploymentErrors.tags

    def match(self, cfn: Any) -> list[RuleMatch]:
        return _findings(cfn, "warning")


class SafeDeploymentNotes(CloudFormationLintRule):  # type: ignore[misc]
    id = "I9101"
    shortdesc = "Safe Lambda deployment (safedeploy check): notes"
    description = SafeDeploymentErrors.description
    source_url = SafeDeploymentErrors.source_url
    tags = SafeDeploymentErrors.tags

    def match(self, cfn: Any) -> list[RuleMatch]:
        return _findings(cfn, "info")
