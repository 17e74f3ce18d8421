"""Bounded work for every input: nested applications read once each, within a depth and a count, a
cycle refused; every file the CLI reads is a regular file of bounded size. (How long the worst inputs
take: benchmarks/hostile_inputs.py.)"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import safedeploy.template.scope as template_scope
from safedeploy import cli

NESTING = Path(__file__).parent / "hostile" / "nesting"


@pytest.fixture
def translations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The templates translated, in order (each call of the translator)."""
    seen: list[Path] = []
    real = template_scope.translate

    def counting(template: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(Path(next(iter(template["Resources"]))))
        return real(template, *args, **kwargs)

    monkeypatch.setattr(template_scope, "translate", counting)
    return seen


def test_twenty_applications_nesting_their_own_template_are_one_finding(
    translations: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 20 nested applications whose Location is the template itself (8 400 translations before)
    code = cli.main(["check", str(NESTING / "self.yaml"), "--format", "json"])
    (finding,) = json.loads(capsys.readouterr().out)
    # THEN one translation, and the cycle is the finding
    assert len(translations) == 1
    assert code == 1 and finding["rule"] == "SD002" and "self.yaml -> self.yaml" in finding["message"]
    assert finding["resource"] == "App0" and finding["line"] == 3


def test_a_cycle_through_another_template_is_found(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", str(NESTING / "loop_a.yaml"), "--format", "json"])
    (finding,) = json.loads(capsys.readouterr().out)
    assert code == 1 and "loop_a.yaml -> loop_b.yaml -> loop_a.yaml" in finding["message"]


def test_the_same_application_nested_again_is_translated_once(translations: list[Path]) -> None:
    # GIVEN three levels of 20 applications each, all the same template per level (8 000 leaves)
    scope = template_scope.build_scope(NESTING / "fan_a.yaml")
    # THEN each template is translated once, and every nested application still has its own name
    assert len(translations) == 4
    assert sorted(scope.children) == sorted(f"App{i}" for i in range(20))
    assert scope.children["App7"].name == "App7"
    leaf = scope.children["App1"].children["App2"].children["App3"]
    assert leaf.name == "App3" and "Topic" in leaf.resources


def test_more_templates_than_the_limit_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(template_scope, "MAX_TEMPLATES", 2)
    code = cli.main(["plan", str(NESTING / "fan_a.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "more than 2 nested applications" in err and err.count("\n") == 1


# ---------------------------------------------------------------- the files the CLI reads
def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _in_time(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI in a thread: a read that blocks fails the test instead of hanging it."""
    result: dict[str, int] = {}
    worker = threading.Thread(target=lambda: result.setdefault("code", cli.main(args)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), f"safedeploy {' '.join(args)} still reading"
    return result["code"], capsys.readouterr().err


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_judge_input_is_a_regular_file(
    special: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if special == "fifo":
        path = _fifo(tmp_path, "input.json")
    elif special == "directory":
        path = tmp_path
    else:
        path = Path(special)
    code, err = _in_time(["judge", "--input", str(path)], capsys)
    assert code == 2 and "not a regular file" in err and err.count("\n") == 1


def test_judge_input_of_more_than_a_mebibyte_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "input.json"
    big.write_text(" " * (2**20 + 1))
    code, err = _in_time(["judge", "--input", str(big)], capsys)
    assert code == 2 and "more than 1 MiB" in err
    # standard input: read to the limit, not to the end
    stream = io.TextIOWrapper(io.BytesIO(b" " * (2**20 + 10)))
    monkeypatch.setattr("sys.stdin", stream)
    code, err = _in_time(["judge", "--input", "-"], capsys)
    assert code == 2 and "more than 1 MiB" in err


@pytest.mark.parametrize("name", ["samconfig.toml", ".safedeploy.toml"])
@pytest.mark.parametrize("problem", ["fifo", "huge"])
def test_configs_are_bounded_regular_files(
    name: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    if problem == "fifo":
        _fifo(tmp_path, name)
    else:
        (tmp_path / name).write_text("# " + "x" * (2**20) + "\n")
    args = ["check", str(template)] + (["--config-env", "default"] if name == "samconfig.toml" else [])
    code, err = _in_time(args, capsys)
    expected = "not a regular file" if problem == "fifo" else "more than"
    assert code == 2 and expected in err and err.count("\n") == 1


def test_a_template_fifo_does_not_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _in_time(["check", str(_fifo(tmp_path, "template.yaml")), "--format", "json"], capsys)
    assert code == 1


def test_judge_input_nested_without_end_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "input.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, err = _in_time(["judge", "--input", str(deep)], capsys)
    assert code == 2 and "nested too deeply" in err and err.count("\n") == 1


def test_plan_prices_file_is_a_bounded_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    code, err = _in_time(["plan", str(template), "--prices", str(_fifo(tmp_path, "prices.toml"))], capsys)
    assert code == 2 and "not a regular file" in err and err.count("\n") == 1
