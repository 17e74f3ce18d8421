"""What the kit's machinery costs at scale: `plan`'s cost model on the sample, and on the sample grown to
N protected functions (copies of HelloWorldFunction with its alarm pack, or of EchoFunction), at list
prices. Prints figures; asserts nothing. Run: make bench-cost (or with `--ref COMMIT` to cost the
templates of another commit, e.g. the ones before a change).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "hooks")]

from safedeploy.planning.cost import CostReport, build_cost  # noqa: E402
from safedeploy.planning.prices import price_book  # noqa: E402
from safedeploy.template.loader import load_template  # noqa: E402
from safedeploy.template.scope import build_scope  # noqa: E402

TEMPLATE_FILES = ("template.yaml", "hooks/template.yaml", "alarms/template.yaml")


def grown(sample: dict[str, Any], root: Path, kind: str, count: int) -> dict[str, Any]:
    """The sample with `count` copies of one kind of protected function (and its alarm pack) in place of
    its two: each copy renamed throughout, with its own API paths."""
    doc = copy.deepcopy(sample)
    resources = doc["Resources"]
    group = {k: v for k, v in resources.items() if k.startswith(kind)}
    for name in [k for k in resources if k.startswith(("HelloWorld", "Echo"))]:
        del resources[name]
    dashboard = resources.pop("VersionsDashboard", None)
    text = json.dumps(group)
    for i in range(count):
        copy_text = text.replace(kind, f"{kind}{i}").replace('"/hello"', f'"/hello{i}"')
        resources.update(json.loads(copy_text.replace('"/greetings"', f'"/greetings{i}"')))
    if dashboard is not None:  # the stack's one dashboard, drawing the first copy
        resources["VersionsDashboard"] = json.loads(
            json.dumps(dashboard)
            .replace("HelloWorldFunction", f"{kind}0Function")
            .replace("EchoFunction", f"{kind}0Function")
        )
    hooks = resources["Hooks"]["Properties"]["Parameters"]
    hooks["TargetFunctionArns"] = {
        "Fn::Join": [",", [{"Fn::GetAtt": [f"{kind}{i}Function", "Arn"]} for i in range(count)]]
    }
    doc.pop("Outputs", None)
    return _absolute(doc, root)


def _absolute(doc: dict[str, Any], root: Path) -> dict[str, Any]:
    for res in doc["Resources"].values():
        props = res.get("Properties", {})
        for key in ("CodeUri", "Location"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = str((root / props[key]).resolve())
    return doc


def cost_of(path: Path) -> CostReport:
    return build_cost(build_scope(path), price_book("us-east-1"))


def line(label: str, report: CostReport) -> str:
    per_fn = report.standing_per_function_usd or 0.0
    deploy = max((f.per_deployment.usd for f in report.functions), default=0.0)
    traffic = sum(f.with_traffic.usd for f in report.functions)
    return (
        f"{label:<34} {len(report.functions):>3} fn  standing ${report.standing_usd:8.2f}/month"
        f"  ${per_fn:5.2f}/fn  (+${traffic:6.2f} once traffic flows)  deployment ${deploy:.3f}"
    )


def templates_at(ref: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, *TEMPLATE_FILES, "hello_world", "echo", "hooks"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref", help="cost the templates of this commit instead of the work tree's")
    parser.add_argument("--functions", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = ROOT
        if args.ref:
            (Path(tmp) / "src").mkdir()
            root = templates_at(args.ref, Path(tmp) / "src")
        sample = load_template(root / "template.yaml")
        print(f"list prices, us-east-1; templates: {args.ref or 'work tree'}")
        print(line("the sample (default settings)", cost_of(root / "template.yaml")))
        for kind in ("HelloWorld", "Echo"):
            path = Path(tmp) / f"{kind}.json"
            path.write_text(json.dumps(grown(sample, root, kind, args.functions)))
            print(line(f"{args.functions} functions like {kind}Function", cost_of(path)))


if __name__ == "__main__":
    main()
