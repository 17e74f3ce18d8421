"""Print the rule table of docs/check.md from the rule registry: `python tools/rule_table.py`."""

from __future__ import annotations

from safedeploy.rules.registry import RULES


def table() -> str:
    lines = ["| rule | cfn-lint | severity | finding on | what it finds |", "|---|---|---|---|---|"]
    lines += [
        f"| {rule} | {r.cfnlint_id} | {r.severity} | {r.kind} | {r.title} |" for rule, r in RULES.items()
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
