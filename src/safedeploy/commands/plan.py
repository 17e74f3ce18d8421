"""`safedeploy plan`: what a deployment will do, step by step."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import (
    Subparsers,
    assumption_arguments,
    assumptions_of,
    scope_of,
    template_arguments,
)
from safedeploy.errors import UserError


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="print what a deployment will do, step by step")
    template_arguments(p)
    assumption_arguments(p)
    p.add_argument(
        "--rps",
        type=float,
        metavar="N",
        help="the function's traffic in requests/s: warn about gates whose invocation guard it cannot meet",
    )
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.timing import assumed

    from safedeploy.planning.plan import build_plan

    if args.rps is not None and not args.rps > 0:
        raise UserError(f"--rps must be a positive number of requests per second, got {args.rps:g}")
    with assumed(assumptions_of(args)):
        out.plan(build_plan(scope_of(args), args.rps), str(args.template), args.config_env)
    return ExitStatus.OK
