"""`safedeploy check`: lint a SAM template for unsafe deployment settings."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, scope_of, template_arguments

FORMATS = ("text", "json", "sarif")


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="lint a SAM template for unsafe deployment settings")
    template_arguments(p)
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.rules import check

    found = check(scope_of(args))
    out.findings(found, args.template)
    return ExitStatus.FAILED if any(f.severity == "error" for f in found) else ExitStatus.OK
