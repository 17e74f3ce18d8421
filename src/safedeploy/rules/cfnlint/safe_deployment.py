"""safedeploy's rules as cfn-lint rules: `cfn-lint --append-rules <this folder> template.yaml`.

One cfn-lint rule per safedeploy rule, under its cfn-lint id (SD201 -> E9201, its unverified twin
SD251 -> W9251; I rules need `--include-checks I`), so cfn-lint's own ignore settings (`--ignore-checks`,
`.cfnlintrc`, a resource's `Metadata: cfn-lint: config: ignore_checks`) and formatters (sarif, junit,
pretty, ...) work on each of them.

cfn-lint hands a rule one template, translated by its own transform without the nested applications
beside it or the parameter values a deployment uses; the checks need those, so the findings are
computed once per file from `cfn.filename` (as `safedeploy check` reads it) and each rule reports its own.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from safedeploy.rules.registry import RULES, Rule

SOURCE_URL = "https://github.com/safe-deploy/safe-deploy#safedeploy-check"


@lru_cache(maxsize=8)
def _findings(filename: str, mtime_ns: int) -> tuple[Any, ...]:
    from safedeploy.errors import UserError
    from safedeploy.rules.runner import check
    from safedeploy.template.scope import build_scope

    try:
        return tuple(check(build_scope(Path(filename))))
    except UserError:
        return ()  # cfn-lint reports templates it cannot read or translate itself


def _matches(rule_id: str, cfn: Any) -> list[RuleMatch]:
    filename = getattr(cfn, "filename", None)
    if not filename or not Path(filename).is_file():
        return []
    resources = cfn.template.get("Resources", {})
    parameters = cfn.template.get("Parameters", {})
    matches = []
    for f in _findings(str(filename), os.stat(filename).st_mtime_ns):
        if f.rule != rule_id:
            continue
        logical = f.resource.split("/")[0]
        if logical in resources:
            path = ["Resources", logical]
        elif logical in parameters:  # a Type parameter's AllowedValues (SD108)
            path = ["Parameters", logical]
        else:
            path = ["Resources"]
        matches.append(RuleMatch(path, f"{f.rule} {f.resource}: {f.message}"))
    return matches


def _cfnlint_rule(rule: Rule) -> type[CloudFormationLintRule]:
    def match(self: CloudFormationLintRule, cfn: Any) -> list[RuleMatch]:
        return _matches(rule.id, cfn)

    return type(
        f"SafeDeploy{rule.id}",
        (CloudFormationLintRule,),
        {
            "id": rule.cfnlint_id,
            "shortdesc": f"{rule.id}: {rule.title}"[:120],
            "description": rule.title,
            "source_url": SOURCE_URL,
            "tags": ["safedeploy", "codedeploy", "lambda"],
            "match": match,
            "__module__": __name__,
        },
    )


# cfn-lint instantiates every CloudFormationLintRule subclass among this module's members.
globals().update({f"SafeDeploy{r.id}": _cfnlint_rule(r) for r in RULES.values()})
