"""Inert output: template text and config values are printed, never interpreted: no rich markup, no
terminal control sequence, no line a CI runner would read as a workflow command, every error one line."""

from __future__ import annotations

import io
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
