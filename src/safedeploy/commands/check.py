"""`safedeploy check`: lint a SAM template for unsafe deployment settings."""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import (
    Subparsers,
    assumption_arguments,
    assumptions_of,
    scope_of,
    template_arguments,
)
from safedeploy.errors import TemplateError, UserError
from safedeploy.inputs import read_text
from safedeploy.template.loader import resource_position

FORMATS = ("text", "json", "sarif")
# What a rule may raise on a value it did not expect (after the structure check, a bug to report).
UNFORESEEN = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)
CONFIG = ".safedeploy.toml"  # next to the template: ignore = ["SD105", ...]
MAX_CONFIG_BYTES = 64 * 1024  # a list of rule ids
# The template is not one CloudFormation accepts: nothing else about it means anything.
NEVER_IGNORED = frozenset({"SD001", "SD002", "SD003"})


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="lint a SAM template for unsafe deployment settings")
    template_arguments(p)
    assumption_arguments(p)
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="SDxxx[,SDxxx]",
        help="rule ids to leave out, SD201 or cfn-lint's E9201 (repeatable); also `ignore` in "
        ".safedeploy.toml next to the template (or --config) and a resource's Metadata: "
        "{safedeploy: {ignore: [...]}} or cfn-lint's {cfn-lint: {config: {ignore_checks: [...]}}}",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help=f"the config to read instead of the {CONFIG} next to the template",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="for CI on pull requests: ignores come only from --ignore and --config (never from the "
        f"template's Metadata or a {CONFIG} beside it), and template errors "
        f"({', '.join(sorted(NEVER_IGNORED))}) cannot be ignored",
    )
    p.add_argument("--list-rules", action="store_true", help="print every rule and exit")
    return p


def ignored(args: argparse.Namespace) -> frozenset[str]:
    """The rule ids to leave out: --ignore, and the config's `ignore` (--config, else the file next to
    the template unless --strict: that one comes with the change being checked)."""
    from safedeploy.rules.registry import RULES, canonical

    ids = {canonical(x) for item in args.ignore for x in str(item).split(",") if x.strip()}
    if args.config:
        config: Path | None = Path(args.config)
    else:
        beside = Path(args.template).parent / CONFIG
        config = beside if beside.exists() and not args.strict else None
    if config is not None:
        ids |= {canonical(x) for x in _config_ignores(config)}
    unknown = sorted(ids - set(RULES))
    if unknown:
        raise UserError(f"no such rule: {', '.join(unknown)} (safedeploy check --list-rules)")
    if args.strict and ids & NEVER_IGNORED:
        raise UserError(
            f"--strict: {', '.join(sorted(ids & NEVER_IGNORED))} cannot be ignored (the template must "
            "be one CloudFormation accepts)"
        )
    return frozenset(ids - NEVER_IGNORED)


def _config_ignores(path: Path) -> list[str]:
    try:
        text = read_text(path, MAX_CONFIG_BYTES, "config")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a UTF-8 text file") from exc
    try:
        listed = tomllib.loads(text).get("ignore", [])
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        raise UserError(f"{path}: ignore must be a list of rule ids")
    return [str(x) for x in listed]


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.rules import Finding, check
    from safedeploy.rules.registry import RULES

    if args.list_rules:
        out.rules(RULES)
        return ExitStatus.OK
    from safedeploy_core.timing import assumed

    ignore = ignored(args)
    try:
        with assumed(assumptions_of(args)):
            found = check(scope_of(args), ignore, template_ignores=not args.strict)
    except TemplateError as exc:  # the template itself is the finding, in every output format
        line, column = exc.at or resource_position(args.template, exc.resource) or (1, 1)
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
