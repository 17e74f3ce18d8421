"""Pre-traffic hook wall time (10 smoke cases, target answers in 200 ms) and each hook's cold import.

Prints figures; asserts nothing. Run: make bench (or .venv/bin/python benchmarks/hooks_bench.py).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "hooks")]

from safedeploy_core.deadline import Deadline  # noqa: E402
from safedeploy_core.invoke_checks import run_invoke_cases  # noqa: E402
from safedeploy_core.smoke import load_cases  # noqa: E402

TARGET_MS = 200
CASES = 10


class SlowTarget:
    """A Lambda client whose version answers every invoke after 200 ms (what the real API would do)."""

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(TARGET_MS / 1000)
        body = json.dumps({"statusCode": 200, "body": json.dumps({"message": "hello world"})}).encode()
        return {"StatusCode": 200, "ExecutedVersion": kwargs["Qualifier"], "Payload": io.BytesIO(body)}


def wall_time(workers: int) -> float:
    cases = load_cases(
        {
            "cases": [
                {
                    "name": f"case {i}",
                    "request": {"path": "/hello"},
                    "expect": {"status": 200, "json": {"message": "hello world"}},
                }
                for i in range(CASES)
            ]
        }
    )
    started = time.perf_counter()
    results = run_invoke_cases(SlowTarget(), "fn", "2", cases, Deadline.in_seconds(60), max_workers=workers)
    elapsed = time.perf_counter() - started
    assert all(r.passed for r in results)
    return elapsed


def cold_import(module: str, runs: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "hooks"),
        "POWERTOOLS_SERVICE_NAME": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples)


def main() -> None:
    concurrent = min(wall_time(10) for _ in range(3))
    sequential = wall_time(1)
    print(f"pre-traffic smoke run: {CASES} cases x {TARGET_MS} ms target")
    print(f"  concurrent (10 workers): {concurrent:.3f} s   (goal < 1 s)")
    print(f"  one after another      : {sequential:.3f} s")
    print("cold import, median of 5 fresh interpreters (goal <= 0.45 s):")
    for module in ("pre_traffic", "post_traffic", "step_judge"):
        print(f"  {module:<13} {cold_import(module):.3f} s")
    clients = cold_import(
        "boto3; from safedeploy_core.clients import Clients; c = Clients(); "
        "c.codedeploy; c.lambda_control; c.lambda_invoke"
    )
    print(f"  + first call builds boto3 and 3 clients lazily: {clients:.3f} s (paid once per container)")


if __name__ == "__main__":
    main()
