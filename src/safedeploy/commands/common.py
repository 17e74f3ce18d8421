"""Arguments and set-up that several commands share: the template with its parameters, AWS clients."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safedeploy.template.scope import Scope

Subparsers = argparse._SubParsersAction  # the type argparse gives `add_subparsers()`


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
