"""The `safedeploy` command line: parser and error handling (app), every rendering (render)."""

from __future__ import annotations

from typing import Any


def main(argv: list[str] | None = None) -> int:
    from safedeploy.cli.app import main as run

    return run(argv)


def entry(argv: list[str] | None = None) -> Any:  # pragma: no cover - console script
    from safedeploy.cli.app import entry as run

    return run(argv)
