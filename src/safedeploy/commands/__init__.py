"""One module per subcommand, each with `register(subparsers) -> parser` and
`run(args, out) -> ExitStatus`: parse arguments, call the domain code, hand its result to `out`."""

from __future__ import annotations

import argparse
from typing import Protocol

from safedeploy.cli.render import Output
from safedeploy.cli.status import ExitStatus
from safedeploy.commands import (
    check,
    drill,
    judge,
    plan,
    prune,
    rehearse,
    rollback,
    route,
    timing,
    versions,
    watch,
)


class Command(Protocol):
    def register(
        self, sub: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace, out: Output) -> ExitStatus: ...


COMMANDS: tuple[Command, ...] = (
    check,
    plan,
    timing,
    judge,
    watch,
    route,
    versions,
    prune,
    rollback,
    rehearse,
    drill,
)
