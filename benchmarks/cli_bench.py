"""`safedeploy check` on the project template (goal < 2 s) and a default-speed Canary10Percent5Minutes
rehearsal (goal <= 30 s wall). Prints figures; asserts nothing. Run: make bench.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
