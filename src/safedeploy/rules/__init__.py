"""`safedeploy check`'s rules: one module per family (general, function, hook, iam, alarm), each rule
declared once with its id, severity and title (base.Rule); registry.py collects them, runner.py runs
them; cfnlint/ is their cfn-lint plugin."""

from safedeploy.rules.base import Finding
from safedeploy.rules.runner import check

__all__ = ["Finding", "check"]
