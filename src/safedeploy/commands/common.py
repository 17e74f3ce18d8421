"""Arguments and set-up that several commands share: the template with its parameters, AWS clients."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
