"""Every fault under every deployment type and traffic level, rehearsed: what caught it, how fast, and
how many answers the bad version gave. Prints a Markdown table (docs/scenario-matrix.md's); asserts nothing.

Run: make bench-matrix (several minutes: 200 requests/s are real in-process invocations).
Faults are the sample function's fault switch; a throttling fault is not in it, so it is not here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from safedeploy.rehearsal.options import RehearsalOptions
from safedeploy.rehearsal.run import rehearse

ROOT = Path(__file__).resolve().parents[1]
FAULTS = (("none", 100.0), ("error", 100.0), ("error", 5.0), ("slow", 100.0), ("bad-response", 100.0))
TYPES = ("Canary10Percent5Minutes", "Linear10PercentEvery1Minute", "AllAtOnce")
TRAFFIC = (1.0, 20.0, 200.0)


def label(fault: str, rate: float) -> str:
    return fault if rate == 100 else f"{fault} {rate:g} %"


def main() -> None:
    started = time.perf_counter()
    columns = ("fault", "deployment type", "requests/s", "outcome", "caught by", "detection")
    print("| " + " | ".join((*columns, "bad answers / requests on v2")) + " |")
    print("|---|---|---|---|---|---|---|")
    for (fault, rate), type_name, rps in ((f, t, r) for f in FAULTS for t in TYPES for r in TRAFFIC):
        report = rehearse(
            RehearsalOptions(
                ROOT / "template.yaml", "HelloWorldFunction", fault, rate, type_name, 1e6, rps, 7
            )
        )
        detection = report["detection_s"]
        requests = report["requests"]
        # `alarm rehearsal-HelloWorldFunction-live-gate-error-rate` -> `alarm gate-error-rate`
        caught = (
            (report["caught_by"] or "—").replace(f"{report['function']}-live-", "").replace("rehearsal-", "")
        )
        print(
            f"| {label(fault, rate)} | {type_name} | {rps:g} | {report['status']} | "
            f"{caught} | {'—' if detection is None else f'{detection:.0f} s'} | "
            f"{requests['faulty']} / {requests['new_version']} |",
            flush=True,
        )
    runs = len(FAULTS) * len(TYPES) * len(TRAFFIC)
    print(f"\n{runs} rehearsals in {time.perf_counter() - started:.0f} s wall", file=sys.stderr)


if __name__ == "__main__":
    main()
