"""What authorization costs: check's SD207 rule on the project template (first run, with the
reference's data and the managed policies loaded, then warm), and one IAM decision with concrete
values (the rehearsal's) and with placeholders (check's). Prints figures; asserts nothing.
Run: make bench (or python benchmarks/authorization_bench.py).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from safedeploy.iam.match import GENERATED_NAME, matches
from safedeploy.iam.policy import Request, evaluate, statements_of
from safedeploy.iam.rule import service_role_problems
from safedeploy.template.deployments import deployments
from safedeploy.template.scope import build_scope

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    scope = build_scope(ROOT / "template.yaml")
    found = deployments(scope)
    started = time.perf_counter()
    for dep in found:
        service_role_problems(scope, dep)
    first = time.perf_counter() - started
    warm = []
    for _ in range(20):
        started = time.perf_counter()
        for dep in found:
            service_role_problems(scope, dep)
        warm.append(time.perf_counter() - started)
    print(
        f"SD207 on template.yaml ({len(found)} deployments): first {first * 1000:.0f} ms, "
        f"warm median {statistics.median(warm) * 1000:.1f} ms"
    )
    fn = "arn:aws:lambda:us-east-1:123456789012:function:app-Fn-1"
    doc = {"Statement": [{"Effect": "Allow", "Action": "lambda:*Alias", "Resource": fn}]}
    statements = statements_of(doc, "bench")
    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        evaluate(statements, Request("lambda:UpdateAlias", fn))
    print(f"one decision, concrete values: {(time.perf_counter() - started) / n * 1e6:.1f} µs")
    shapes = {"<Fn>": GENERATED_NAME}
    cases = [(f"function:x{i}-*", "function:<Fn>") for i in range(200)]
    started = time.perf_counter()
    for pattern, value in cases:
        matches(pattern, value, shapes)
    each_ms = (time.perf_counter() - started) / len(cases) * 1000
    print(f"one match with a placeholder (uncached): {each_ms:.2f} ms")


if __name__ == "__main__":
    main()
