"""`safedeploy check` on the project template (goal < 2 s), on the public template corpus when it is
next to this checkout (tests/corpus), and a default-speed Canary10Percent5Minutes rehearsal (goal <= 30 s
wall). Prints figures; asserts nothing. Run: make bench.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    check = [timed([str(BIN / "safedeploy"), "check", "template.yaml", "--format", "json"]) for _ in range(5)]
    print(
        f"safedeploy check template.yaml (whole process, 5 runs): median {statistics.median(check):.2f} s, "
        f"min {min(check):.2f} s   (goal < 2 s)"
    )
    corpus()
    for fault in ("none", "error --fault-rate 5"):
        wall = timed(
            [
                str(BIN / "safedeploy"),
                "rehearse",
                "--type",
                "Canary10Percent5Minutes",
                *f"--fault {fault}".split(),
            ]
        )
        print(
            f"safedeploy rehearse --type Canary10Percent5Minutes --fault {fault} (default speed 60x): "
            f"{wall:.1f} s wall   (goal <= 30 s)"
        )


def corpus() -> None:
    """Every corpus template checked in one process, as its test does (translation included)."""
    import tempfile

    sys.path.insert(0, str(ROOT))
    from safedeploy.errors import TemplateError
    from safedeploy.rules import check
    from safedeploy.template.scope import build_scope
    from tests.corpus.test_public_templates import CORPUS, as_deployed, entries

    templates = entries()
    if not templates:
        print(f"public template corpus: none at {CORPUS}")
        return
    started = time.perf_counter()
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as work:
        for entry in templates:
            one = time.perf_counter()
            path = as_deployed(CORPUS / entry["file"], entry.get("harness"), Path(work))
            # a template marked pending in the manifest may still fail outside the check's own errors
            with contextlib.suppress(Exception if entry.get("pending") else TemplateError):
                check(build_scope(path, entry.get("parameters") or {}))
            slowest = max(slowest, (time.perf_counter() - one, entry["file"]))
    total = time.perf_counter() - started
    print(
        f"safedeploy check on the public corpus ({len(templates)} templates, one process): {total:.1f} s, "
        f"slowest {slowest[0]:.2f} s ({slowest[1]})"
    )


if __name__ == "__main__":
    main()
