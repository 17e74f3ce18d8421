"""`safedeploy drill`: prove rollback on a real non-production stack."""

from __future__ import annotations

import argparse

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, clients, number
from safedeploy.commands.watch import TIMEOUT

FAULT_RATE = number(0, 100, above=True)  # a drill without a fault proves nothing

SERVICES = ("cloudformation", "lambda", "codedeploy", "cloudwatch")


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("drill", help="prove rollback on a real non-production stack")
    p.add_argument("--stack", required=True)
    p.add_argument("--function", default="HelloWorldFunction")
    p.add_argument("--fault", choices=("error", "slow", "bad-response"), default="error")
    p.add_argument(
        "--fault-rate", type=FAULT_RATE, default=100.0, help="percent of requests (more than 0, to 100)"
    )
    p.add_argument("--region")
    p.add_argument("--i-know", action="store_true", help="allow a stack whose environment is prod")
    p.add_argument("--timeout", type=TIMEOUT, default=3600.0, help="seconds (at most a day)")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live.drill import drill

    result = drill(
        dict(zip(SERVICES, clients(args.region, *SERVICES), strict=True)),
        args.stack,
        args.function,
        args.fault,
        args.fault_rate,
        i_know=args.i_know,
        timeout=args.timeout,
        on_update=out.drill_update,
    )
    out.drill(result)
    return ExitStatus.OK if result.rolled_back else ExitStatus.FAILED
