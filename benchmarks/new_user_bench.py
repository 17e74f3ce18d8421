"""A new user's path, timed: a fresh venv, `pip install` of this checkout, `safedeploy init` on a
public SAM app, then `safedeploy check`. Prints the time of each step and the total; asserts nothing
(tests/unit/test_init_install.py runs the same path and checks that it works). Needs the package index
for the dependencies and ../shared/apps (SAFEDEPLOY_SHARED) for the app.

Run: PIP_NO_CACHE_DIR=1 .venv/bin/python benchmarks/new_user_bench.py [APP]   (default: hello-powertools-py;
without PIP_NO_CACHE_DIR pip may take the dependencies from its cache)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SAFEDEPLOY_SHARED") or ROOT.parent / "shared")


def new_user_path(workdir: Path, app: str = "hello-powertools-py") -> dict[str, float]:
    """Seconds per step; raises CalledProcessError when a step fails."""
    times: dict[str, float] = {}
    project = workdir / app
    shutil.copytree(SHARED / "apps" / app, project)
    for path in [project, *project.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    start = time.perf_counter()
    venv.create(workdir / "venv", with_pip=True)
    times["venv"] = time.perf_counter() - start
    bin_dir = workdir / "venv" / "bin"
    steps = {
        "pip install": [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
        "init": [str(bin_dir / "safedeploy"), "init", "--yes"],
        "check": [str(bin_dir / "safedeploy"), "check"],
    }
    for name, command in steps.items():
        began = time.perf_counter()
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True, text=True)
        times[name] = time.perf_counter() - began
    times["total"] = time.perf_counter() - start
    return times


def main() -> None:
    app = sys.argv[1] if len(sys.argv) > 1 else "hello-powertools-py"
    with tempfile.TemporaryDirectory(prefix="safedeploy-new-user-") as tmp:
        times = new_user_path(Path(tmp), app)
    for name, seconds in times.items():
        print(f"{name:12s} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
