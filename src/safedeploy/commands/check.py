"""`safedeploy check`: lint a SAM template for unsafe deployment settings."""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers, scope_of, template_arguments
from safedeploy.errors import TemplateError, UserError
from safedeploy.template.loader import resource_position

FORMATS = ("text", "json", "sarif")
# What a rule may raise on a value it did not expect (after the structure check, a bug to report).
UNFORESEEN = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)
CONFIG = ".safedeploy.toml"  # next to the template: ignore = ["SD105", ...]


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="lint a SAM template for unsafe deployment settings")
    template_arguments(p)
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="SDxxx[,SDxxx]",
        help="rule ids to leave out, SD201 or cfn-lint's E9201 (repeatable); also `ignore` in "
        ".safedeploy.toml next to the template and a resource's Metadata: {safedeploy: {ignore: [...]}} "
        "or cfn-lint's {cfn-lint: {config: {ignore_checks: [...]}}}",
    )
    p.add_argument("--list-rules", action="store_true", help="print every rule and exit")
    return p


def ignored(args: argparse.Namespace) -> frozenset[str]:
    from safedeploy.rules.registry import RULES, canonical

    ids = {canonical(x) for item in args.ignore for x in str(item).split(",") if x.strip()}
    config = Path(args.template).parent / CONFIG
    if config.is_file():
        try:
            listed = tomllib.loads(config.read_text(encoding="utf-8")).get("ignore", [])
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"{config}: not valid TOML: {exc}") from exc
        if not isinstance(listed, list):
            raise UserError(f"{config}: ignore must be a list of rule ids")
        ids |= {canonical(str(x)) for x in listed}
    unknown = sorted(ids - set(RULES))
    if unknown:
        raise UserError(f"no such rule: {', '.join(unknown)} (safedeploy check --list-rules)")
    return frozenset(ids)


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.rules.checks import Finding, check
    from safedeploy.rules.registry import RULES

    if args.list_rules:
        out.rules(RULES)
        return ExitStatus.OK
    ignore = ignored(args)
    try:
        found = check(scope_of(args), ignore)
    except TemplateError as exc:  # the template itself is the finding, in every output format
        line, column = resource_position(args.template, exc.resource) or (1, 1)
        found = [Finding(exc.rule, exc.resource, str(exc), str(args.template), line, column)]
    except UNFORESEEN as exc:  # a shape no check foresaw: still a finding, and the gate stays shut
        if os.environ.get("SAFEDEPLOY_DEBUG"):
            raise
        message = (
            f"the template has a shape this check does not handle ({type(exc).__name__}; "
            "SAFEDEPLOY_DEBUG=1 shows where): not checked"
        )
        found = [Finding("SD003", "template", message, str(args.template), 1, 1)]
    out.findings(found, args.template)
    return ExitStatus.FAILED if any(f.severity == "error" for f in found) else ExitStatus.OK
