"""`safedeploy timing`: each gate alarm's worst-case detection against every deployment type."""

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


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "timing", help="gate alarm detection time (nominal worst case) against every deployment type"
    )
    template_arguments(p, parameters=False)
    assumption_arguments(p)
    p.add_argument("--svg", metavar="FILE", help="also save the table as an SVG picture")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.timing import assumed

    from safedeploy.planning.timing import timing_report

    with assumed(assumptions_of(args)):
        out.timing(timing_report(scope_of(args)), args.svg)
    return ExitStatus.OK
