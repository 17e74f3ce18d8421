"""`safedeploy check`'s rules (checks.py) and their cfn-lint plugin (cfnlint/)."""

from safedeploy.rules.checks import Finding, check

__all__ = ["Finding", "check"]
