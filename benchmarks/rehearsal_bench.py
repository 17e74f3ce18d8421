"""Wall time of a Canary10Percent5Minutes rehearsal at 20 requests/s (the defaults: 60 simulated seconds
per wall second), for a Python function (this repository's sample) and a Node.js one (the public
CommonJS app in ../shared/apps, given safe deployments as the integration tests do). Prints figures;
asserts nothing. Run: .venv/bin/python benchmarks/rehearsal_bench.py [--speed S] [--rps R]

Dependencies are installed (and cached) before the clock starts; the first run of a function with a
cold cache is slower by its pip/npm install.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "hooks")]

from tests.integration.test_rehearsal_apps import APPS, PLAIN, add_safe_deployment  # noqa: E402

NODE_APP = "apigw-observability-cjs"


def command(template: Path, function: str, speed: float, rps: float) -> dict[str, object]:
    """One `safedeploy rehearse` (a process of its own, as a user runs it); its JSON report."""
    args = ["rehearse", str(template), "--function", function, "--type", "Canary10Percent5Minutes"]
    args += ["--speed", f"{speed:g}", "--rps", f"{rps:g}", "--format", "json"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "hooks")])}
    done = subprocess.run(
        [sys.executable, "-m", "safedeploy", *args], capture_output=True, text=True, check=False, env=env
    )
    if not done.stdout.strip():
        raise SystemExit(done.stderr.strip())
    report: dict[str, object] = json.loads(done.stdout)
    return report


def timed(label: str, template: Path, function: str, speed: float, rps: float) -> None:
    command(template, function, speed, 1.0)  # warm: its packages installed into the cache
    started = time.monotonic()
    report: dict[str, Any] = command(template, function, speed, rps)
    total = time.monotonic() - started
    print(
        f"{label:<28} {report['status']:<10} {report['requests']['total']:>6} requests "
        f"{report['simulated_s']:>5.0f} simulated s  deployment {report['wall_s']:>6.1f} s wall  "
        f"whole command {total:>6.1f} s wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--rps", type=float, default=20.0)
    args = parser.parse_args()
    print(f"Canary10Percent5Minutes, {args.rps:g} requests/s, speed {args.speed:g}x")
    timed("python (hello_world)", ROOT / "template.yaml", "HelloWorldFunction", args.speed, args.rps)
    if not (APPS / NODE_APP).is_dir():
        print(f"node.js: skipped ({APPS / NODE_APP} is absent)")
        return
    app = next(a for a in PLAIN if a.folder == NODE_APP)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / NODE_APP
        shutil.copytree(APPS / NODE_APP, project)
        template = add_safe_deployment(project, app.template, app.function, app.cases)
        timed(f"node.js ({NODE_APP})", template, app.function, args.speed, args.rps)


if __name__ == "__main__":
    main()
