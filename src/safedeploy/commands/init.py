"""`safedeploy init`: safe deployments for an existing SAM app, in place."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers
from safedeploy.errors import UserError

FORMATS = ("text",)
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_ACCOUNT = re.compile(r"^\d{12}$")


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "init",
        help="add safe deployments to a SAM app (alias, CodeDeploy, hooks, gate alarms, smoke cases)",
    )
    p.add_argument("template", nargs="?", default="template.yaml")
    p.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="ID",
        help="logical ID of a function to protect (repeatable; default: every function that serves traffic)",
    )
    p.add_argument(
        "--type", metavar="TYPE", help="deployment type in every environment (default: chosen with plan)"
    )
    p.add_argument(
        "--source",
        choices=("vendor", "sar"),
        default="vendor",
        help="hooks and alarm pack copied into the project (vendor) or nested from SAR",
    )
    p.add_argument("--sar-version", metavar="X.Y.Z", help="with --source sar: the applications' version")
    p.add_argument("--sar-account", metavar="ID", help="with --source sar: the publishing AWS account")
    p.add_argument("--dry-run", action="store_true", help="print the unified diff only")
    p.add_argument("--yes", action="store_true", help="write without asking")
    return p


def _source(args: argparse.Namespace) -> object:
    from safedeploy import version
    from safedeploy.adopt.edits import Source
    from safedeploy.adopt.kit import ALARMS_DIR, HOOKS_DIR, SAR_APPLICATIONS

    if args.source == "vendor":
        if args.sar_version or args.sar_account:
            raise UserError("--sar-version and --sar-account go with --source sar")
        return Source()
    semver = args.sar_version or version()
    if not _SEMVER.match(semver):
        raise UserError(f"--sar-version must be X.Y.Z, got {semver!r}")
    if not args.sar_account or not _ACCOUNT.match(args.sar_account):
        raise UserError("--source sar needs --sar-account: the 12-digit account that publishes the kit")
    return Source(
        "sar",
        SAR_APPLICATIONS[HOOKS_DIR].format(account=args.sar_account),
        SAR_APPLICATIONS[ALARMS_DIR].format(account=args.sar_account),
        semver,
    )


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.timing import PREDEFINED

    from safedeploy.adopt.changes import plan_init

    if args.type is not None and args.type not in PREDEFINED:
        raise UserError(f"--type must be one of {', '.join(PREDEFINED)}")
    template = Path(args.template)
    changes = plan_init(template, list(args.function), _source(args), args.type)  # type: ignore[arg-type]
    say = sys.stderr.write
    for line in changes.kept:
        say(f"kept: {line}\n")
    for line in changes.warnings:
        say(f"warning: {line}\n")
    for line in changes.notes:
        say(f"note: {line}\n")
    if changes.empty:
        say(f"{template}: nothing to change: safe deployments are already set up\n")
        return ExitStatus.OK
    diff = changes.diff()
    if args.dry_run:
        sys.stdout.write(diff)
        return ExitStatus.OK
    if not args.yes:
        sys.stdout.write(diff)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            say("not written: run with --yes to write these changes (or on a terminal to be asked)\n")
            return ExitStatus.FAILED
        answer = input(f"write {len(changes.files)} file(s)? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            say("not written\n")
            return ExitStatus.FAILED
    changes.write()
    for line in changes.added:
        say(f"added: {line}\n")
    if changes.types:
        types = ", ".join(f"{env} {kind}" for env, kind in changes.types.items())
        say(f"deployment types: {types}\n")
    say(f"next: safedeploy check {template} && safedeploy plan {template}\n")
    return ExitStatus.OK
