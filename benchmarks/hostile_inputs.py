"""How long `safedeploy check` takes on the worst inputs of the untrusted-input tests (tests/unit/hostile):
nested applications that nest themselves or fan out, and the largest files it reads. Prints figures;
asserts nothing. Run: PYTHONPATH=src:hooks .venv/bin/python benchmarks/hostile_inputs.py
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "unit" / "hostile"


def timed(label: str, args: list[str]) -> None:
    from safedeploy import cli

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(args)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<58} exit {code}  {seconds * 1000:7.0f} ms  peak RSS so far {peak_mib:6.0f} MiB")


def main() -> None:
    timed("warm-up: check template.yaml (imports, first translation)", ["check", str(ROOT / "template.yaml")])
    timed("20 applications nesting their own template", ["check", str(HOSTILE / "nesting" / "self.yaml")])
    timed("A->B->A nesting cycle", ["check", str(HOSTILE / "nesting" / "loop_a.yaml")])
    timed("3 levels x 20 applications (8 000 leaves)", ["check", str(HOSTILE / "nesting" / "fan_a.yaml")])
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "input.json"
        big.touch()
        os.truncate(big, 64 * 2**20)  # sparse: the benchmark's own memory stays small
        timed("judge --input of 64 MiB (read to the 1 MiB limit)", ["judge", "--input", str(big)])
        timed("judge --input /dev/zero", ["judge", "--input", "/dev/zero"])
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
