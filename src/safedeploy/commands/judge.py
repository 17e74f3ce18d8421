"""`safedeploy judge`: canary against baseline from a JSON file (the hooks' own judge)."""

from __future__ import annotations

import argparse
import json

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands.common import Subparsers
from safedeploy.errors import UserError
from safedeploy.inputs import read_stdin, read_text

# Two samples of counts and a policy: a few kilobytes. A file (or stream) beyond this is not judge input.
MAX_INPUT_BYTES = 1024 * 1024

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
        raw = (
            read_stdin(MAX_INPUT_BYTES, "judge input")
            if args.input == "-"
            else read_text(args.input, MAX_INPUT_BYTES, "judge input")
        )
    except UnicodeDecodeError as exc:
        raise UserError(f"{args.input} is not UTF-8 text") from exc
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise UserError(f"{args.input} is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise UserError(f"{args.input}: nested too deeply to be judge input") from exc
    try:
        baseline, canary, policy = parse_judge_input(document)
    except (JudgeInputError, TypeError) as exc:
        raise UserError(f"bad judge input: {exc}") from exc
    result = judge(baseline, canary, policy)
    out.verdict(result)
    return EXIT_VERDICT[result.verdict]
