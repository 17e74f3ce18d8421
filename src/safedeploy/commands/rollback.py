"""`safedeploy rollback`: `live` back to an earlier version through CodeDeploy (hooks, alarms, gates)."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, clients
from safedeploy.commands.watch import INTERVAL, TIMEOUT

SERVICES = ("cloudformation", "lambda", "codedeploy", "cloudwatch")


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "rollback", help="move the alias back to an earlier version through CodeDeploy's gates"
    )
    p.add_argument("--stack", required=True)
    p.add_argument("--function", required=True, help="logical ID of the function in the stack")
    p.add_argument("--to", required=True, metavar="VERSION", help="the published version to go back to")
    p.add_argument("--alias", default="live")
    p.add_argument("--region")
    p.add_argument("--interval", type=INTERVAL, default=10.0, help="seconds between polls (1 to 300)")
    p.add_argument(
        "--timeout",
        type=TIMEOUT,
        default=3600.0,
        help="stop watching after this many seconds (at most a day)",
    )
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.rollback import rollback

    result = rollback(
        dict(zip(SERVICES, clients(args.region, *SERVICES), strict=True)),
        args.stack,
        args.function,
        args.to,
        alias=args.alias,
        on_update=out.rollback_update,
        interval=args.interval,
        timeout=args.timeout,
    )
    out.rollback(result)
    return ExitStatus.OK if result.succeeded else ExitStatus.FAILED
