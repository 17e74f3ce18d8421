"""The `safedeploy` command line: check, plan, timing, judge, watch, route, versions, prune, rollback,
rehearse, drill."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from safedeploy import version
from safedeploy.cli.inert import one_line
from safedeploy.cli.status import ExitStatus
from safedeploy.errors import UserError, describe_aws_error


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (`safedeploy watch: error: argument --interval: …`),
    like every other error; `--help` still shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(int(ExitStatus.USAGE), f"{self.prog}: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    from safedeploy.commands import COMMANDS

    parser: argparse.ArgumentParser = _Parser(prog="safedeploy", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = command.register(sub)
        p.add_argument("--format", choices=getattr(command, "FORMATS", ("text", "json")), default="text")
        p.set_defaults(run=command.run)
    return parser


def _fail(message: str, status: ExitStatus = ExitStatus.USAGE) -> int:
    """One line on stderr, whatever the message carries (a value with a newline could otherwise start
    a line of its own, and a CI runner reads a line that starts with `::` as a command)."""
    print(f"safedeploy: error: {one_line(message)}", file=sys.stderr)
    return int(status)


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from safedeploy.cli.render import output

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, output(args.format)))
    except UserError as exc:
        return _fail(str(exc), ExitStatus(exc.exit_code))
    except NoRegionError:
        return _fail("no AWS region: pass --region or set AWS_REGION")
    except NoCredentialsError:
        return _fail("no AWS credentials (aws configure, or AWS_PROFILE)")
    except ClientError as exc:
        return _fail(describe_aws_error(exc))
    except BotoCoreError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("safedeploy: interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    except Exception as exc:  # malformed input we did not foresee: still one line, never a traceback
        if os.environ.get("SAFEDEPLOY_DEBUG"):
            raise
        return _fail(f"{type(exc).__name__}: {exc} (SAFEDEPLOY_DEBUG=1 shows where)")


def entry(argv: list[str] | None = None) -> Any:  # pragma: no cover - console script
    sys.exit(main(argv))
