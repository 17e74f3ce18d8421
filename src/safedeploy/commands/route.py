"""`safedeploy route`: alias weights by hand for A/B tests."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import PERCENT, Subparsers, clients


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("route", help="set alias weights by hand for A/B tests")
    p.add_argument("--stack", required=True)
    p.add_argument("--function", required=True, help="logical ID of the function in the stack")
    p.add_argument("--region")
    p.add_argument("--alias", default="live")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--weight", type=PERCENT, help="percent of traffic for --version (0-100)")
    action.add_argument("--reset", action="store_true", help="all traffic to one version")
    action.add_argument("--show", action="store_true")
    p.add_argument(
        "--version",
        help="version that gets --weight (default: the newest); with --reset the one that "
        "gets all traffic (default: the alias's primary version)",
    )
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.aws import stack_deployment
    from safedeploy.live.route import route

    cfn, lam, cd = clients(args.region, "cloudformation", "lambda", "codedeploy")
    result = route(
        lam,
        cd,
        stack_deployment(cfn, args.stack),
        args.function,
        args.alias,
        weight=args.weight,
        version=args.version,
        reset=args.reset,
    )
    out.route(result)
    return ExitStatus.OK
