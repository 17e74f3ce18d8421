"""`safedeploy check` on public SAM templates that nobody here wrote: no crash, and exactly the error
findings verified by reading each template against AWS's documentation.

The templates are third-party files, so they are not committed here: they live in the steering
repository's shared/corpus/ (next to this checkout, as CI lays it out), with a manifest.json:
{"templates": [{"file": "aws-samples-x/template.yaml",
                "source": {"repository": "...", "path": "...", "commit": "...", "license": "..."},
                "parameters": {"Env": "prod"},
                "errors": ["SD103 OrdersFunction"]}]}
Without that folder the tests are skipped; SAFEDEPLOY_CORPUS names another folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from safedeploy.errors import TemplateError
from safedeploy.rules import check
from safedeploy.template.scope import build_scope
from tests.helpers import ROOT

CORPUS = Path(os.environ.get("SAFEDEPLOY_CORPUS") or ROOT.parent / "shared" / "corpus")
MANIFEST = CORPUS / "manifest.json"


def _entries() -> list[dict[str, Any]]:
    if not MANIFEST.is_file():
        return []
    entries: list[dict[str, Any]] = json.loads(MANIFEST.read_text())["templates"]
    return entries


@pytest.mark.skipif(not MANIFEST.is_file(), reason="no public template corpus next to this checkout")
@pytest.mark.parametrize("entry", _entries(), ids=lambda e: str(e.get("file")))
def test_a_public_template_gets_exactly_its_verified_errors(entry: dict[str, Any]) -> None:
    source = entry["source"]
    assert {"repository", "path", "commit", "license"} <= set(source), "record where it came from"
    path = CORPUS / entry["file"]
    try:
        found = check(build_scope(path, entry.get("parameters") or {}))
    except TemplateError as exc:  # as `check` reports it: a finding, never a crash
        found = []
        errors = {f"{exc.rule} template"}
    else:
        errors = {f"{f.rule} {f.resource}" for f in found if f.severity == "error"}
    assert errors == set(entry.get("errors", []))
