"""`safedeploy judge`: canary against baseline from a JSON file (the hooks' own judge)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers
from safedeploy.errors import UserError

EXIT_VERDICT = {
    "PASS": ExitStatus.OK,
    "FAIL": ExitStatus.FAILED,
    "INCONCLUSIVE": ExitStatus.UNDECIDED,
    "NODATA": ExitStatus.UNDECIDED,
}


def register(sub: Subparsers[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("judge", help="judge canary against baseline from a JSON file")
    p.add_argument("--input", required=True, help="JSON file ('-' for stdin)")
    return p


def run(args: argparse.Namespace, out: Output) -> ExitStatus:
    from safedeploy_core.judge import JudgeInputError, judge, parse_judge_input

    try:
        raw = sys.stdin.read() if args.input == "-" else Path(args.input).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {args.input}: {exc.strerror}") from exc
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UserError(f"{args.input} is not JSON: {exc}") from exc
    try:
        baseline, canary, policy = parse_judge_input(document)
    except (JudgeInputError, TypeError) as exc:
        raise UserError(f"bad judge input: {exc}") from exc
    result = judge(baseline, canary, policy)
    out.verdict(result)
    return EXIT_VERDICT[result.verdict]
