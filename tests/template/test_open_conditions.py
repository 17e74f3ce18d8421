"""Every structured property of this project's templates, chosen by a condition left open: `check`
must neither crash nor report an error (an unknown is at most a warning)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from safedeploy import cli
from safedeploy.template.loader import load_template
from tests.helpers import ROOT

pytestmark = pytest.mark.slow
OPEN = "FuzzOpen"


def variants(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource, property path, the template with that value behind Fn::If [open, value, other])."""
    for rid, res in doc.get("Resources", {}).items():
        for key, value in (res.get("Properties") or {}).items():
            paths = (
                [(key,)] + [(key, k2) for k2, v2 in value.items() if isinstance(v2, list | dict)]
                if isinstance(value, dict)
                else [(key,)]
            )
            for path in paths:
                out = copy.deepcopy(doc)
                out.setdefault("Parameters", {})["FuzzValue"] = {"Type": "String"}
                out.setdefault("Conditions", {})[OPEN] = {"Fn::Equals": [{"Ref": "FuzzValue"}, "x"]}
                holder = out["Resources"][rid]["Properties"]
                for part in path[:-1]:
                    holder = holder[part]
                original = holder[path[-1]]
                if not isinstance(original, list | dict) or (
                    isinstance(original, dict) and any(k.startswith("Fn::") or k == "Ref" for k in original)
                ):
                    continue
                other: Any = original[:1] if isinstance(original, list) else dict(list(original.items())[:1])
                holder[path[-1]] = {"Fn::If": [OPEN, original, other]}
                yield rid, ".".join(path), out


@pytest.mark.parametrize("template", ["template.yaml", "hooks/template.yaml", "alarms/template.yaml"])
def test_open_conditions_never_crash_check_nor_become_errors(
    template: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = ROOT / template
    folder = tmp_path / "copy"
    if template == "template.yaml":
        folder.mkdir()
        for name in ("hooks", "alarms", "hello_world", "echo"):
            (folder / name).symlink_to(ROOT / name)
    else:
        shutil.copytree(source.parent, folder)
    checked, problems = 0, []
    for rid, path, doc in variants(load_template(source)):
        target = folder / "fuzz.json"
        target.write_text(json.dumps(doc))
        code = cli.main(["check", str(target), "--format", "json"])
        out, err = capsys.readouterr()
        checked += 1
        if code not in (0, 1):
            problems.append(f"{rid}.{path}: exit {code}: {err.strip()[-200:]}")
            continue
        errors = [
            f["rule"]
            for f in json.loads(out)
            if f["severity"] == "error" and f["rule"] not in ("SD002", "SD003")
        ]
        if errors:
            problems.append(f"{rid}.{path}: errors {errors}")
    assert checked >= 20 and problems == []
