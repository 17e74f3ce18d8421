"""Output that carries template text, config values and AWS answers without acting on them.

What the CLI prints comes in part from files anyone can write (a pull request's template, its
`.safedeploy.toml`). Printed as it is, that text could be markup to the terminal renderer (rich:
`[bold]`, `[link=…]`, or `[/]`, which raises), control sequences to the terminal (ESC), or, once a
newline starts a new line, a workflow command to the CI runner: GitHub Actions acts on any output line
that starts with `::` ("Workflow commands for GitHub Actions"). So values are made one line and
markup-free (`value`, `one_line`), and every line the text output writes is guarded (`GuardedStream`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import IO, Any

from rich.markup import escape

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each one could end a line
# or start a terminal sequence. Shown as Python escapes (`\n`, `\x1b`), so the text stays readable.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A line that a CI runner would read as a command: `::` first, after any blanks (and the terminal
# sequences rich writes itself, in case a runner drops them).
_ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"
_COMMAND_LINE = re.compile(rf"(^|[\n\r])((?:[ \t]|{_ANSI})*)::", re.MULTILINE)
COMMAND_GUARD = "\\"  # `\::error` is printed for `::error`: visible, and no command


def one_line(value: Any) -> str:
    """`value` as text on one line: line breaks and other controls as visible escapes."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def value(item: Any) -> str:
    """`item` for a rich markup string: one line, its brackets printed, never read as markup."""
    return escape(one_line(item))


def guard_commands(text: str) -> str:
    """`text` with no line that starts a CI workflow command."""
    return _COMMAND_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{COMMAND_GUARD}::", text)


class GuardedStream:
    """A text stream (standard output by default, looked up at each write) that passes everything
    through `guard_commands`; the rest of the stream's interface (isatty, encoding, …) is the stream's."""

    def __init__(self, stream: Callable[[], IO[str]] = lambda: sys.stdout) -> None:
        self._stream = stream
        self._at_line_start = True

    def _target(self) -> IO[str]:
        stream = self._stream()
        # While rich shows a live display it replaces sys.stdout by a proxy that prints through the
        # console, which writes here: write to the stream behind the proxy, as rich itself does.
        return getattr(stream, "rich_proxied_file", stream)

    def write(self, text: str) -> int:
        guarded = guard_commands(text)
        if not self._at_line_start and guarded.startswith(COMMAND_GUARD):
            guarded = guarded[len(COMMAND_GUARD) :]  # `::` in the middle of a line is text
        visible = re.sub(_ANSI, "", text)
        if visible:
            self._at_line_start = visible.endswith("\n")
        return self._target().write(guarded)

    def __getattr__(self, name: str) -> Any:
        if name == "rich_proxied_file":  # not a proxy itself: rich must keep writing through it
            raise AttributeError(name)
        return getattr(self._target(), name)
