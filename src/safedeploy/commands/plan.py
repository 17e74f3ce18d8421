"""`safedeploy plan`: what a deployment will do, step by step."""

from __future__ import annotations

import argparse
from pathlib import Path

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import (
    Subparsers,
    assumption_arguments,
    assumptions_of,
    number,
    scope_of,
    template_arguments,
)


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="print what a deployment will do, step by step")
    template_arguments(p)
    assumption_arguments(p)
    p.add_argument(
        "--rps",
        type=number(0, 1e6, above=True),
        metavar="N",
        help="the function's traffic in requests/s: warn about gates whose invocation guard it cannot meet",
    )
    p.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="TOML with [prices] and [assumptions] over the list prices `plan` costs the kit at",
    )
    p.add_argument("--region", help="the region to price (default: the environment's, else us-east-1)")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.timing import assumed

    from safedeploy.planning.cost import build_cost
    from safedeploy.planning.plan import build_plan
    from safedeploy.planning.prices import price_book

    book = price_book(args.region or _region(args), args.prices)
    scope = scope_of(args)
    cost = build_cost(scope, book)
    with assumed(assumptions_of(args)):
        out.plan(build_plan(scope, args.rps), str(args.template), args.config_env, cost=cost)
    return ExitStatus.OK


def _region(args: argparse.Namespace) -> str | None:
    """The region of the samconfig environment (`region` of its deploy parameters), if it names one."""
    from safedeploy.template.samconfig import environment_settings, read_samconfig

    config = read_samconfig(Path(args.template).parent / "samconfig.toml")
    region = environment_settings(config, args.config_env or "default").get("region") if config else None
    return region if isinstance(region, str) else None
