"""After `safedeploy init`, `sam build` succeeds where the runtime's toolchain exists: a public Node.js
20 app (this machine's Node.js) with the kit's hooks app (python3.13) nested beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from safedeploy import cli
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

APP = ROOT.parent / "shared" / "apps" / "apigw-observability-cjs"
PY313 = sorted((Path.home() / ".pyenv" / "versions").glob("3.13*/bin"))


def _path() -> str:
    return os.pathsep.join([*(str(p) for p in PY313), os.environ.get("PATH", "")])


@pytest.mark.skipif(not APP.is_dir(), reason="no ../shared/apps")
@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("python3.13", path=_path()) is None,
    reason="needs node and python3.13 on PATH (the runtimes' toolchains)",
)
def test_sam_build_succeeds_on_an_app_init_protected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a public Node.js app given safe deployments by init
    project = tmp_path / "app"
    shutil.copytree(APP, project)
    monkeypatch.chdir(project)
    assert cli.main(["init", "--yes"]) == 0
    # WHEN sam builds it
    sam = Path(sys.executable).parent / "sam"
    built = subprocess.run(
        [str(sam), "build"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": _path(), "SAM_CLI_TELEMETRY": "0"},
        timeout=600,
    )
    # THEN the function and the nested hooks app are built
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (project / ".aws-sam" / "build" / "template.yaml").is_file()
    assert (project / ".aws-sam" / "build" / "Hooks" / "template.yaml").is_file()
