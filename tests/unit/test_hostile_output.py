"""Inert output: template text and config values are printed, never interpreted: no rich markup, no
terminal control sequence, no line a CI runner would read as a workflow command, every error one line."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from safedeploy import cli
from safedeploy.cli.inert import GuardedStream, guard_commands, one_line, value

HOSTILE = Path(__file__).parent / "hostile" / "output" / "markup_and_commands.yaml"


def _lines_that_command(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("::")]


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no folding: the values appear whole


@pytest.mark.parametrize("command", ["check", "plan", "timing"])
def test_template_text_is_printed_as_it_is(
    command: str, wide: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN values with rich markup, a newline and a workflow command, and an ESC sequence
    # WHEN the text output shows them
    code = cli.main([command, str(HOSTILE)])
    out, err = capsys.readouterr()
    # THEN nothing crashed (`[/]` alone raises in rich), nothing is interpreted, nothing commands CI
    assert code in (0, 1), err
    assert _lines_that_command(out) == [] and _lines_that_command(err) == []
    assert "\x1b" not in out
    if command != "timing":  # timing shows no hook or alarm names
        assert "[bold]CodeDeployHook_[/]\\n::warning::x" in out


def test_a_config_value_with_a_newline_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(HOSTILE, tmp_path / "template.yaml")
    (tmp_path / ".safedeploy.toml").write_text(
        'ignore = ["SD105\\n::error file=template.yaml,line=1::forged"]\n'
    )
    code = cli.main(["check", str(tmp_path / "template.yaml")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("safedeploy: error: ")
    assert _lines_that_command(err) == []


def test_a_parameter_with_a_newline_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", str(HOSTILE), "--parameter", "Nope\n::error::x=1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and _lines_that_command(err) == []


def test_one_line_shows_controls_as_escapes() -> None:
    assert one_line("a\nb\r\x1b[31m\u2028c") == "a\\nb\\r\\x1b[31m\\u2028c"
    assert value("[/] [bold]x") == "\\[/] \\[bold]x"


def test_no_line_of_the_guarded_stream_starts_a_command() -> None:
    sink = io.StringIO()
    stream = GuardedStream(lambda: sink)
    stream.write("::error::at the start\n")
    stream.write("a line with :: inside, then\n  ::warning::indented\n")
    stream.write("half a line ")
    stream.write("::notice:: continued on the same line\n")
    assert _lines_that_command(sink.getvalue()) == []
    assert "half a line ::notice:: continued" in sink.getvalue()
    assert guard_commands("x\n::y") == "x\n\\::y"


def test_a_live_display_on_a_terminal_is_guarded_too(capsys: pytest.CaptureFixture[str]) -> None:
    """watch's progress bar: rich redirects standard output through the console while it is shown."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(file=GuardedStream(), force_terminal=True, highlight=False)
    with Progress(console=console) as progress:
        task = progress.add_task("d-1", total=1)
        print("::error::printed while the bar is shown")
        console.print("::warning::from the console")
        progress.update(task, advance=1)
    console.print("::notice::after it")
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", capsys.readouterr().out)
    assert [line for line in re.split(r"[\r\n]", out) if line.lstrip().startswith("::")] == []
    assert "printed while the bar is shown" in out
