"""`python -m safedeploy`: the same as the `safedeploy` command."""

from safedeploy.cli.app import entry

entry()
