"""`safedeploy plan`: what a deployment will do, step by step."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, number, scope_of, template_arguments


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="print what a deployment will do, step by step")
    template_arguments(p)
    p.add_argument(
        "--rps",
        type=number(0, 1e6, above=True),
        metavar="N",
        help="the function's traffic in requests/s: warn about gates whose invocation guard it cannot meet",
    )
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.planning.plan import build_plan

    out.plan(build_plan(scope_of(args), args.rps), str(args.template), args.config_env)
    return ExitStatus.OK
