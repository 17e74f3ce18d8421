"""`safedeploy check` on public SAM templates that nobody here wrote: no crash, and exactly the error
findings verified by reading each template against AWS's documentation.

`manifest.json` here is the record: per template its source (repository, path, commit, licence), the
parameter values it is checked with, and the verified error findings with the reason per rule:
{"templates": [{"file": "aws-samples__x/template.yaml",
                "source": {"repository": "...", "path": "...", "commit": "...", "license": "..."},
                "parameters": {"Env": "prod"},
                "errors": ["SD103 OrdersFunction"],
                "verified": {"SD103": "why"},
                "harness": "sam-integration"}]}
The templates themselves are third-party files and are not committed: they are read from the corpus
folder, ../shared/corpus/ next to this checkout (SAFEDEPLOY_CORPUS names another), each at `file` as
fetched from its repository at its commit. Without the folder the test is skipped.

SAM's own test templates are inputs to its test harness, not deployable as stored: its translator tests
add the Transform, and its integration tests (integration/helpers/base_test.py, file_resources.py) also
put S3 URIs in for `${codeuri}`-style keys. `harness` says which of those the template needs, and
`as_deployed` does the same before checking, keeping the lines where they were.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from safedeploy.errors import TemplateError
from safedeploy.rules import check
from safedeploy.rules.registry import RULES
from safedeploy.template.scope import build_scope
from tests.helpers import ROOT

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
# integration/helpers/file_resources.py: CODE_KEY_TO_FILE_MAP, each file uploaded to the test bucket
SAM_INTEGRATION_KEYS = {
    "codeuri": "code.zip",
    "contenturi": "layer1.zip",
    "definitionuri": "swagger1.json",
    "templateurl": "template.yaml",
    "binaryMediaCodeUri": "binary-media.zip",
    "mtlsuri": "MTLSCert.pem",
}

CORPUS = Path(os.environ.get("SAFEDEPLOY_CORPUS") or ROOT.parent / "shared" / "corpus")
# the first corpus, and the second (more/: templates from other repositories, with its own SOURCES.md)
MANIFESTS = (Path(__file__).with_name("manifest.json"), Path(__file__).with_name("manifest_more.json"))


def listed(manifest: Path) -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = json.loads(manifest.read_text())["templates"]
    return templates


def entries() -> list[dict[str, Any]]:
    """The manifests' templates whose file is in the corpus folder."""
    return [e for m in MANIFESTS for e in listed(m) if (CORPUS / e["file"]).is_file()]


def as_deployed(path: Path, harness: str | None, workdir: Path) -> Path:
    """The template as SAM's own test harness deploys it (see the module's docstring)."""
    if harness is None:
        return path
    if harness not in ("sam-translator", "sam-integration"):
        raise ValueError(f"unknown harness {harness!r}")
    text = path.read_text()
    if harness == "sam-integration":
        for key, name in SAM_INTEGRATION_KEYS.items():
            uri = (
                f"https://sam-integ-bucket.s3.amazonaws.com/{name}"
                if key == "templateurl"
                else (f"s3://sam-integ-bucket/{name}")
            )
            text = text.replace("${" + key + "}", uri)
    if "\nTransform:" not in "\n" + text:
        text = text.rstrip("\n") + f"\nTransform: {SAM_TRANSFORM}\n"  # last, so every line keeps its number
    out = workdir / path.name
    out.write_text(text)
    return out


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda m: m.name)
def test_the_manifest_records_where_each_template_came_from_and_why_each_error_is_right(
    manifest: Path,
) -> None:
    templates = listed(manifest)
    assert len(templates) >= 30
    for entry in templates:
        assert {"repository", "path", "commit", "license"} <= set(entry["source"]), entry["file"]
        assert {e.split()[0] for e in entry["errors"]} == set(entry.get("verified", {})), entry["file"]
        assert all(RULES[e.split()[0]].severity == "error" for e in entry["errors"]), entry["file"]


@pytest.mark.skipif(not entries(), reason=f"no public template corpus at {CORPUS}")
@pytest.mark.parametrize("entry", entries(), ids=lambda e: str(e.get("file")))
def test_a_public_template_gets_exactly_its_verified_errors(entry: dict[str, Any], tmp_path: Path) -> None:
    path = as_deployed(CORPUS / entry["file"], entry.get("harness"), tmp_path)
    try:
        found = check(build_scope(path, entry.get("parameters") or {}))
    except TemplateError as exc:  # as `check` reports it: a finding, never a crash
        found = []
        errors = {f"{exc.rule} template"} if RULES[exc.rule].severity == "error" else set()
    except Exception as exc:
        if entry.get("pending"):
            pytest.xfail(f"{entry['pending']} ({type(exc).__name__})")
        raise
    else:
        errors = {f"{f.rule} {f.resource}" for f in found if f.severity == "error"}
    if entry.get("pending"):  # known not to be read as CloudFormation would yet: must still not crash
        assert errors != set(entry["errors"]), (
            f"now right: drop 'pending' from the manifest ({entry['pending']})"
        )
        pytest.xfail(entry["pending"])
    assert errors == set(entry.get("errors", []))
