"""`safedeploy init` on public SAM apps and templates nobody here wrote.

`tests/corpus/init_manifest.json` is the record: per template its source (repository, path, commit,
licence), its runtimes and what `init` does with it. For one it protects: the result translates,
`check` finds no error and no warning that was not there before except those the entry explains
(`after_init`: rule -> why, each about a value of the user's that init keeps), cfn-lint reports nothing
new, and a second run changes nothing. For one it refuses: exit 2, the entry's reason on stderr, and
not a byte written. Three entries have golden diffs (`golden`): the template diff init prints, which is
this project's output. The third-party files are read from ../shared (SAFEDEPLOY_SHARED names another
folder) and never committed; without it the test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from safedeploy.adopt.deployment_type import stand_ins
from safedeploy.cli.app import main
from safedeploy.rules import check
from safedeploy.template.loader import load_template, translate
from safedeploy.template.scope import build_scope
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

SHARED = Path(os.environ.get("SAFEDEPLOY_SHARED") or ROOT.parent / "shared")
MANIFEST = ROOT / "tests" / "corpus" / "init_manifest.json"
GOLDEN = ROOT / "tests" / "corpus" / "init_golden"


def entries() -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(MANIFEST.read_text())["templates"]
    return [e for e in listed if (SHARED / e["file"]).is_file()]


def _project(entry: dict[str, Any], tmp_path: Path) -> Path:
    """A writable copy: the whole app folder for an app, the template alone for a corpus file."""
    source = SHARED / entry["file"]
    project = tmp_path / "project"
    if entry.get("app"):
        shutil.copytree(source.parent, project)
    else:
        project.mkdir()
        shutil.copy(source, project / source.name)
    for path in [project, *project.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    return project / source.name


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _findings(template: Path) -> Counter[tuple[str, str]]:
    values = stand_ins(template)
    found = check(build_scope(template, values))
    return Counter((f.rule, f.resource) for f in found if f.severity in ("error", "warning"))


def _cfn_lint(template: Path) -> Counter[tuple[str, str]]:
    """cfn-lint's findings by rule and message (line numbers move when init adds lines)."""
    run = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    out: Counter[tuple[str, str]] = Counter()
    for line in run.stdout.splitlines():
        parts = line.split(":", 6)
        if len(parts) == 7:
            out[(parts[5], parts[6])] += 1
    return out


def _init(template: Path, *args: str) -> int:
    return main(["init", str(template), *args])


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared folder of public templates")
def test_the_manifest_covers_enough_repositories_and_runtimes() -> None:
    protected = [e for e in entries() if e["outcome"] == "protected"]
    assert len(protected) >= 20
    assert len({e["source"]["repository"] for e in protected}) >= 10
    runtimes = {r.rstrip("0123456789.x") for e in protected for r in e["runtimes"]}
    assert {"python", "nodejs", "java"} <= runtimes
    assert sum(1 for e in entries() if e.get("golden")) >= 3


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared folder of public templates")
@pytest.mark.parametrize("entry", entries(), ids=lambda e: e["file"])
def test_init_on_a_public_template(entry: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    # GIVEN a copy of the app (or template) as published
    template = _project(entry, tmp_path)
    project = template.parent
    before = _snapshot(project)
    if entry["outcome"] == "refused":
        # WHEN init cannot do what it must THEN one clear reason, exit 2, nothing written
        assert _init(template, "--yes") == 2
        assert entry["refusal"] in capsys.readouterr().err
        assert _snapshot(project) == before
        return
    findings_before = _findings(template)
    lint_before = _cfn_lint(template)

    # WHEN init runs
    assert _init(template, "--dry-run") == 0
    diff = capsys.readouterr().out
    assert _snapshot(project) == before  # a dry run writes nothing
    assert _init(template, "--yes") == 0, capsys.readouterr().err
    capsys.readouterr()

    # THEN the result translates, check and cfn-lint find nothing new but what the entry explains
    after = load_template(template)
    translate(after, stand_ins(template))
    new = _findings(template) - findings_before
    unexplained = sorted(f"{rule} {resource}" for rule, resource in new if rule not in entry["after_init"])
    assert not unexplained, unexplained
    assert not (_cfn_lint(template) - lint_before)

    # AND a second run changes nothing, and says so
    written = _snapshot(project)
    assert _init(template, "--yes") == 0
    assert "nothing to change" in capsys.readouterr().err
    assert _snapshot(project) == written

    if entry.get("golden"):
        golden = GOLDEN / entry["golden"]
        template_diff = _template_part(diff, template.name)
        if os.environ.get("SAFEDEPLOY_UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(template_diff)
        assert template_diff == golden.read_text()


def _template_part(diff: str, name: str) -> str:
    """The template's own part of init's diff (the kit's files are the same for every app)."""
    parts, keep, previous = [], False, ""
    for line in diff.splitlines(keepends=True):
        if line.startswith("--- "):
            keep = False
        if (
            line.startswith(f"+++ b/{name}")
            or line.startswith("+++ b/samconfig.toml")
            or (line.startswith("+++ b/hooks/smoke_cases/"))
        ):
            keep = True
            parts.append(previous)
        if keep:
            parts.append(line)
        previous = line
    return "".join(parts)
