"""`safedeploy prune`: delete the published versions nothing uses; keep the rest, each with its reason."""

from __future__ import annotations

import argparse
import sys

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers
from safedeploy.errors import UserError

SERVICES = ("cloudformation", "lambda", "codedeploy", "cloudwatch")


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "prune", help="delete published versions that nothing uses (aliases, mappings, traffic)"
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="every function of this stack")
    which.add_argument("--function", help="one function, by name or ARN")
    p.add_argument("--keep", type=int, default=3, help="always keep the newest N versions (default: 3)")
    p.add_argument(
        "--older-than",
        default="24h",
        metavar="DURATION",
        help="keep versions invoked within this window (default: 24h; 0 ignores invocations; at most 14d)",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")
    p.add_argument("--yes", action="store_true", help="delete without asking")
    p.add_argument("--region")
    return p


def confirm(question: str) -> bool:
    """Asks on a terminal; in a pipe (CI) there is nobody to ask: refuse."""
    if not sys.stdin.isatty():
        raise UserError("refusing to delete without --yes when standard input is not a terminal")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy.live import aws
    from safedeploy.live import prune as pruning
    from safedeploy.live.retention import parse_duration

    window = parse_duration(args.older_than)
    clients = {
        service: aws.client(service, args.region, "adaptive" if service == "lambda" else "standard")
        for service in SERVICES
    }
    if args.stack:
        with aws.aws_errors(clients["cloudformation"]):
            targets = pruning.stack_targets(clients["cloudformation"], args.stack)
    else:
        with aws.aws_errors(clients["lambda"]):
            targets = [pruning.function_target(clients["lambda"], clients["cloudformation"], args.function)]
    report, targets = pruning.plan(clients, targets, args.keep, window or None, args.dry_run)
    out.prune_plan(report)
    if args.dry_run or not any(d.delete for d in report.decisions):
        out.prune(report)
        return ExitStatus.OK
    count = sum(len(d.delete) for d in report.decisions)
    if not args.yes and not confirm(f"delete {count} version(s), {report.bytes_to_free:,} bytes?"):
        raise UserError("nothing deleted")
    pruning.execute(clients, report, targets)
    out.prune(report)
    if report.interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.OK if report.complete else ExitStatus.FAILED
