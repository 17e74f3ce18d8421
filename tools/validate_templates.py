"""Offline validation of the project's templates: `sam validate --lint`, then cfn-lint and checkov on
the TRANSLATED CloudFormation (cfn-lint on the SAM file misses cycles the transform creates, E3004).

Repository-only checks (not shipped in the package). Run with `python tools/validate_templates.py
[--checkov PATH]`; `make validate` does, and so do the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from safedeploy.template.loader import load_and_translate

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("template.yaml", "hooks/template.yaml", "alarms/template.yaml")
TRANSLATED = ROOT / "build" / "translated"
# W2001 (unused parameter): parameters consumed by the SAM transform itself (DeploymentType) are gone
# from the translated template, exactly as after CloudFormation's own transform.
CFN_LINT_IGNORE = "W2001"
CHECKOV_SKIPS = ROOT / "tools" / "checkov_skips.yaml"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "SAM_CLI_TELEMETRY": "0",
    }


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def run(cmd: list[str]) -> tuple[int, str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def sam_validate(template: str) -> tuple[int, str]:
    return run([_tool("sam"), "validate", "--lint", "-t", template])


def translate_to_file(template: str) -> Path:
    TRANSLATED.mkdir(parents=True, exist_ok=True)
    out = TRANSLATED / (template.replace("/", "_").removesuffix(".yaml") + ".json")
    out.write_text(json.dumps(load_and_translate(ROOT / template).cfn, indent=1))
    return out


def cfn_lint(path: Path) -> tuple[int, str]:
    return run([_tool("cfn-lint"), "--ignore-checks", CFN_LINT_IGNORE, "--", str(path)])


def apply_checkov_skips(directory: Path = TRANSLATED, skips_file: Path = CHECKOV_SKIPS) -> list[str]:
    """Write the accepted findings of `skips_file` into the translated resources' Metadata (checkov's
    per-resource suppression); return the entries whose resource does not exist in a translated file
    that is there (a file not translated this run is not checked)."""
    import yaml

    entries: dict[str, Any] = yaml.safe_load(skips_file.read_text(encoding="utf-8")) or {}
    documents: dict[str, dict[str, Any]] = {}
    missing = []
    for check, entry in entries.items():
        for target in entry["resources"]:
            name, _, logical = str(target).partition(":")
            path = directory / name
            if name not in documents:
                if not path.is_file():
                    continue
                documents[name] = json.loads(path.read_text(encoding="utf-8"))
            resource = documents.get(name, {}).get("Resources", {}).get(logical)
            if resource is None:
                missing.append(f"{check} {target}")
                continue
            skips = resource.setdefault("Metadata", {}).setdefault("checkov", {}).setdefault("skip", [])
            if all(s.get("id") != check for s in skips):
                skips.append({"id": check, "comment": " ".join(str(entry["why"]).split())})
    for name, document in documents.items():
        (directory / name).write_text(json.dumps(document, indent=1), encoding="utf-8")
    return missing


def checkov(checkov_bin: str, directory: Path = TRANSLATED) -> tuple[int, str]:
    missing = apply_checkov_skips(directory)
    if missing:
        return 1, "tools/checkov_skips.yaml names resources that do not exist: " + ", ".join(missing)
    # Run from the directory itself: checkov also reads a .checkov.yaml from its working directory.
    proc = subprocess.run(
        [checkov_bin, "--config-file", str(ROOT / ".checkov.yaml"), "-d", "."],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=directory,
        check=False,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkov", default=str(ROOT / ".venv-checkov" / "bin" / "checkov"))
    args = parser.parse_args(argv)
    failures = 0
    for template in TEMPLATES:
        for label, (code, out) in (
            ("sam validate --lint", sam_validate(template)),
            ("cfn-lint (translated)", cfn_lint(translate_to_file(template))),
        ):
            print(f"{'ok ' if code == 0 else 'FAIL'} {label:<22} {template}")
            if code:
                failures += 1
                print(out)
    if Path(args.checkov).exists():
        code, out = checkov(args.checkov)
        print(f"{'ok ' if code == 0 else 'FAIL'} {'checkov (translated)':<22} build/translated")
        if code:
            failures += 1
            print(out)
    else:
        print(f"FAIL checkov not found at {args.checkov} (make venv)")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
