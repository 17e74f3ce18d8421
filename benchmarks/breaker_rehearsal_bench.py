"""The in-band breaker end to end: `safedeploy rehearse --fault error --fault-rate 5 --rps 200` (20
requests/s on the canary, two execution environments) over seeds 1-12; per seed who caught the bad
version, when the StopDeployment came (from the first faulty answer) and when the rollback had landed
(the rehearsal's detection, with its assumed 10-s rollback deployment). Prints figures; asserts
nothing. Run: .venv/bin/python benchmarks/breaker_rehearsal_bench.py

The function runs in its own process, where the breaker's 2-s budget and its retry delays are wall
time, not the rehearsal's simulated time: on a loaded machine a stop can miss its budget and the next
try comes much later in simulated time, and the step judge or a gate catches the version instead.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    rows = []
    print("| seed | caught by | stop (s after the first faulty answer) | rolled back (detection, s) |")
    print("|---|---|---|---|")
    for seed in range(1, 13):
        out = subprocess.run(
            [sys.executable, "-m", "safedeploy", "rehearse", "--function", "HelloWorldFunction",
             "--fault", "error", "--fault-rate", "5", "--rps", "200", "--seed", str(seed),
             "--format", "json"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        report = json.loads(out.stdout)
        starts = [e["t_s"] for e in report["events"] if e["kind"] == "rollback" and "started" in e["message"]]
        stop = round(starts[0] - (report["first_bad_request_s"] or 0), 1) if starts else None
        rows.append((report["caught_by"], stop, report["detection_s"]))
        print(f"| {seed} | {report['caught_by']} | {stop} | {report['detection_s']} |")
    by_breaker = [r for r in rows if r[0] == "in-band breaker" and r[1] is not None]
    if by_breaker:
        print(
            f"in-band breaker first in {len(by_breaker)} of {len(rows)}: median stop "
            f"{statistics.median(r[1] for r in by_breaker):.1f} s, median detection "
            f"{statistics.median(r[2] for r in by_breaker):.1f} s"
        )
    detected = [r[2] for r in rows if r[2] is not None]
    print(f"every catcher: median detection {statistics.median(detected):.1f} s over {len(detected)} seeds")


if __name__ == "__main__":
    main()
