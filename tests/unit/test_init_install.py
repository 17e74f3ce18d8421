"""A new user's path works as the README says: a fresh venv, `pip install`, `safedeploy init` on a public
app, `safedeploy check` clean. Its time is printed by benchmarks/new_user_bench.py (never asserted)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location("new_user_bench", ROOT / "benchmarks" / "new_user_bench.py")
assert spec and spec.loader
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.skipif(not (bench.SHARED / "apps").is_dir(), reason="no ../shared/apps")
def test_fresh_install_init_and_check(tmp_path: Path) -> None:
    times = bench.new_user_path(tmp_path)
    assert set(times) == {"venv", "pip install", "init", "check", "total"}
    project = tmp_path / "hello-powertools-py"
    # the installed package brought its own kit: the hooks and alarm pack are in the project, stamped
    assert (project / "hooks" / ".safedeploy-kit").read_text().startswith("version = ")
    assert (project / "alarms" / "template.yaml").is_file()
    check = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "safedeploy"), "check", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert not [f for f in json.loads(check.stdout) if f["severity"] in ("error", "warning")]


def test_the_readme_pre_commit_snippet_works_as_written(tmp_path: Path) -> None:
    import os
    import re
    import sys

    from safedeploy.cli.app import main

    readme = (ROOT / "README.md").read_text()
    (snippet,) = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml.*?)```", readme, re.S)
    project = tmp_path / "app"
    project.mkdir()
    from tests.unit.test_init import APP

    (project / "template.yaml").write_text(APP)
    assert main(["init", str(project / "template.yaml"), "--yes"]) == 0
    (project / ".pre-commit-config.yaml").write_text(snippet)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'hooks'}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=project, check=True, env=env)
    run = subprocess.run(
        [str(Path(sys.executable).with_name("pre-commit")), "run", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "safedeploy check" in run.stdout and "Passed" in run.stdout
