"""`safedeploy rehearse`: a whole gradual deployment of the template, offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from safedeploy_core.timing import PREDEFINED

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, assumption_arguments, assumptions_of, template_arguments
from safedeploy.errors import UserError
from safedeploy.rehearsal.options import FAULTS, RehearsalOptions


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "rehearse",
        help="run a whole gradual deployment offline: RUNS THE TEMPLATE'S FUNCTION CODE on this machine",
        description=(
            "Rehearse a gradual deployment offline. This RUNS THE TEMPLATE'S CODE (the function and "
            "the hooks) on this machine, and installs the function's dependencies: do not rehearse "
            "code you do not trust. The function runs in its own process with only its template's "
            "environment, fake credentials and the fake account's endpoint; a call it makes to a real "
            "AWS endpoint is refused and reported."
        ),
    )
    template_arguments(p, parameters=False)
    assumption_arguments(p, poll=False)  # CodeDeploy's poll is taken to coincide with each evaluation
    p.add_argument("--fault", choices=FAULTS, default="none")
    p.add_argument("--fault-rate", type=float, default=100.0, help="percent of requests that get the fault")
    p.add_argument("--type", choices=PREDEFINED, help="deployment type (default: the template's)")
    p.add_argument(
        "--function",
        metavar="ID",
        help="logical ID of the function to rehearse (default: the only one with a DeploymentPreference)",
    )
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    p.add_argument("--rps", type=float, default=20.0, help="simulated requests per second")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--without-step-judge",
        action="store_true",
        help="rehearse as if the template did not create the step judge (gate alarms and hooks only)",
    )
    p.add_argument(
        "--svg", metavar="FILE", help="also draw the timeline (.svg or .png; needs safedeploy[svg])"
    )
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.timing import assumed

    from safedeploy.rehearsal.run import rehearse

    picture = Path(args.svg) if args.svg else None
    if picture is not None and picture.suffix.lower() not in (".svg", ".png"):
        raise UserError(f"--svg {args.svg}: the file must end in .svg or .png")
    options = RehearsalOptions(
        template=Path(args.template),
        function=args.function,
        fault=args.fault,
        fault_rate=args.fault_rate,
        type_name=args.type,
        speed=args.speed,
        rps=args.rps,
        seed=args.seed,
        step_judge=not args.without_step_judge,
    )
    out.rehearsal_start(options)
    with assumed(assumptions_of(args)):
        report = rehearse(options, out.rehearsal_event)
    if picture is not None:
        from safedeploy.cli.picture import draw

        draw(report, picture)
    out.rehearsal(report)
    return ExitStatus.OK if report["as_expected"] else ExitStatus.FAILED
