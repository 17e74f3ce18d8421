"""Arguments and set-up that several commands share: the template with its parameters, AWS clients."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safedeploy_core.timing import Assumptions

    from safedeploy.template.scope import Scope

Subparsers = argparse._SubParsersAction  # the type argparse gives `add_subparsers()`


def number(low: float, high: float, *, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number from `low` (excluded when `above`) to `high`. `nan`, `inf`
    and out-of-range values are a usage error, not a poll every 0 s or a wait without end."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        too_low = value <= low if above else value < low
        if not math.isfinite(value) or too_low or value > high:
            bound = f"more than {low:g}" if above else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text!r}: must be {bound} and at most {high:g}")
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


PERCENT = number(0, 100)


def template_arguments(p: argparse.ArgumentParser, *, parameters: bool = True) -> None:
    p.add_argument("template", nargs="?", default="template.yaml")
    if not parameters:
        return
    p.add_argument("--config-env", help="environment in samconfig.toml next to the template")
    p.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter override (repeatable)",
    )


def scope_of(args: argparse.Namespace) -> Scope:
    """The template (and its nested applications) with the parameters of --config-env / --parameter."""
    from safedeploy.template import scope as template_scope
    from safedeploy.template.samconfig import parameters

    template = Path(args.template)
    values = parameters(template, getattr(args, "config_env", None), getattr(args, "parameter", []))
    return template_scope.build_scope(template, values)


def clients(region: str | None, *services: str) -> list[Any]:
    from safedeploy.live import aws

    return [aws.client(service, region) for service in services]


def _seconds(text: str) -> int:
    """A whole number of seconds within the bound the timing model accepts (argparse's one-line error)."""
    from safedeploy_core.timing import ASSUMPTION_MAX_S

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 0 <= value <= ASSUMPTION_MAX_S:
        raise argparse.ArgumentTypeError(f"{value} is not within 0..{ASSUMPTION_MAX_S} seconds")
    return value


def assumption_arguments(p: argparse.ArgumentParser, *, poll: bool = True) -> None:
    """The two figures detection times rest on that AWS does not guarantee (safedeploy_core.timing).
    `poll=False`: a command that does not use the poll (the rehearsal reads the alarms at each
    evaluation) does not offer it."""
    from safedeploy_core.timing import NOMINAL

    if poll:
        p.add_argument(
            "--alarm-poll",
            type=_seconds,
            default=NOMINAL.poll_s,
            metavar="SECONDS",
            help=f"how often CodeDeploy reads its alarms, undocumented (default {NOMINAL.poll_s}, assumed)",
        )
    p.add_argument(
        "--metric-delay",
        type=_seconds,
        default=NOMINAL.visibility_s,
        metavar="SECONDS",
        help="from a request to its datapoint in CloudWatch; Lambda sends metrics in 1-minute intervals, "
        f"a sending interval, not a guarantee (default {NOMINAL.visibility_s}, assumed)",
    )


def assumptions_of(args: argparse.Namespace) -> Assumptions:
    from safedeploy_core.timing import NOMINAL, Assumptions

    return Assumptions(poll_s=getattr(args, "alarm_poll", NOMINAL.poll_s), visibility_s=args.metric_delay)
