"""The contract on malformed templates: an SD002/SD003 finding with its location, in the format asked
for (text, JSON, SARIF), and a one-line error from every other command; never a Python message."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from safedeploy import cli

MALFORMED = Path(__file__).parent / "hostile" / "malformed"
TEMPLATES = sorted(MALFORMED.iterdir())
PYTHON_ERROR = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|unpack|object has no attribute")
# Where each finding must point: the resource whose value is wrong, else the start of the file.
AT_RESOURCE = {
    "getatt_without_attribute": "Fn",
    "ref_of_a_list": "Fn",
    "sub_of_one_item": "Fn",
    "canary_interval_infinite": "Cfg",
    "resource_a_number": "Fn",
    "properties_a_list": "Fn",
}
# Where the parser stopped, for files that do not parse
AT_LINE = {"unclosed_flow": (3, 1), "json_trailing_comma": (1, 102)}


def _check(template: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["check", str(template), "--format", fmt])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_fixture_set_is_the_size_promised() -> None:
    assert len(TEMPLATES) >= 25


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_json_names_the_template_error_and_where(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check(template, "json", capsys)
    assert code == 1 and err == ""
    (finding,) = json.loads(out)
    assert finding["rule"] in ("SD002", "SD003") and finding["severity"] == "error"
    assert not PYTHON_ERROR.search(finding["message"]), finding["message"]
    assert finding["file"] == str(template) and finding["line"] >= 1 and finding["column"] >= 1
    if template.stem in AT_LINE:
        assert (finding["line"], finding["column"]) == AT_LINE[template.stem]
    if template.stem in AT_RESOURCE:
        assert finding["resource"] == AT_RESOURCE[template.stem]
        assert finding["line"] > 1


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_sarif_and_text_carry_the_same_finding(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check(template, "sarif", capsys)
    assert code == 1 and err == ""
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] in ("SD002", "SD003") and result["level"] == "error"
    code, out, err = _check(template, "text", capsys)
    assert code == 1 and err == "" and re.search(r"SD00[23]", out)
    assert not PYTHON_ERROR.search(out)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["plan", "timing"])
def test_other_commands_say_it_in_one_line(
    template: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main([command, str(template)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("safedeploy: error: ") and err.count("\n") == 1
    assert not PYTHON_ERROR.search(err), err


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink loop"])
def test_a_template_that_is_no_regular_file_is_sd002_at_once(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "template.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    else:
        path.symlink_to(path)
    code, out, _ = _check(path, "json", capsys)
    (finding,) = json.loads(out)
    assert code == 1 and finding["rule"] == "SD002"
    assert ("loop of symbolic links" if kind == "symlink loop" else "not a regular file") in finding[
        "message"
    ]
    code = cli.main(["plan", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and not PYTHON_ERROR.search(err)


def test_an_unreadable_template_is_sd002(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources: {}\n")
    real_open = os.open

    def refuse(target: object, *args: object, **kwargs: object) -> int:
        if Path(str(target)) == path.resolve():
            raise PermissionError(13, "Permission denied")
        return real_open(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)  # the tests may run as root, who reads anything
    code, out, _ = _check(path, "json", capsys)
    (finding,) = json.loads(out)
    assert code == 1 and finding["rule"] == "SD002" and "Permission denied" in finding["message"]


def test_an_unforeseen_shape_is_still_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import safedeploy.rules as rules

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise ValueError("not enough values to unpack (expected 2, got 1)")

    monkeypatch.setattr(rules, "check", broken)
    monkeypatch.delenv("SAFEDEPLOY_DEBUG", raising=False)
    code, out, _ = _check(MALFORMED.parent / "network" / "sar_nested.yaml", "json", capsys)
    (finding,) = json.loads(out)
    assert code == 1 and finding["rule"] == "SD003" and "unpack" not in finding["message"]


def test_a_surrogate_pair_escape_is_not_proven_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a pattern with a surrogate-pair escape, which libyaml refuses and a UTF-16 parser reads
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n"
        "  Name:\n"
        "    Type: String\n"
        '    AllowedPattern: "[\\uD800\\uDC00-\\uDBFF\\uDFFF]*"\n'
        "Resources:\n"
        "  Topic:\n"
        "    Type: AWS::SNS::Topic\n"
    )
    code, out, _ = _check(template, "json", capsys)
    # THEN a warning that says what was not read, never the SD002 error
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in json.loads(out)] == [("SD052", "warning")]
