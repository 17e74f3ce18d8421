"""`check`'s findings as lines for tools: `path:line:column: severity rule resource: message`.

The convention of cfn-lint's parseable output, ruff and flake8 (a location first, then what is
wrong), so editors jump to the line and `grep`/`cut` work. Used when stdout is not a terminal; a
terminal gets the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from safedeploy.cli.inert import one_line

if TYPE_CHECKING:
    from safedeploy.rules import Finding


def display_path(path: str) -> str:
    """The path relative to the working directory when it lies under it, as the user would type it."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path


def finding_line(finding: Finding, template: str) -> str:
    """One finding on one line (a message's own line breaks become spaces)."""
    message = one_line(" ".join(finding.message.split()))  # other controls (ESC) shown as escapes
    return (
        f"{one_line(display_path(finding.file or template))}:{max(finding.line, 1)}:"
        f"{max(finding.column, 1)}: {finding.severity} {finding.rule} {one_line(finding.resource)}: {message}"
    )


def finding_lines(findings: list[Finding], template: str) -> list[str]:
    return [finding_line(f, template) for f in findings]
