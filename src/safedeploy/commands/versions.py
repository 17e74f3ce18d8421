"""`safedeploy versions`: per function of a stack, what runs behind the alias and what changed."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, clients


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "versions", help="what runs behind the alias: versions, weights, configuration, changes"
    )
    p.add_argument("--stack", required=True)
    p.add_argument("--alias", default="live")
    p.add_argument("--region")
    p.add_argument("--show-values", action="store_true", help="print environment values (masked by default)")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.versions import stack_versions

    cfn, lam = clients(args.region, "cloudformation", "lambda")
    out.versions(stack_versions(cfn, lam, args.stack, args.alias, args.show_values))
    return ExitStatus.OK
