"""The template's functions as the rehearsal runs them: handler code loaded from its CodeUri, the
environment the template gives it, and its smoke cases (what synthetic users send)."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from safedeploy_core.case_source import SMOKE_TAG, read_case_document
from safedeploy_core.errors import SmokeCaseError
from safedeploy_core.smoke import SmokeCase, load_cases

from safedeploy.errors import UserError
from safedeploy.offline.engine import HookRun
from safedeploy.offline.inprocess_lambda import environment
from safedeploy.rehearsal.placeholders import concretize
from safedeploy.rehearsal.runtimes import FunctionSpec
from safedeploy.template.deployments import FunctionDeployment, HookRef, function_properties
from safedeploy.template.scope import Scope

STACK = "rehearsal"


@dataclass(frozen=True)
class FunctionCode:
    code_dir: Path
    handler: str  # module.function
    properties: dict[str, Any]  # SAM Properties with Globals merged in


def function_code(scope: Scope, logical: str) -> FunctionCode:
    props = function_properties(scope, logical)
    code_uri, handler = props.get("CodeUri"), props.get("Handler")
    if code_uri is None and "InlineCode" not in props and "ImageUri" not in props:
        code_uri = "."  # as `sam build` takes a function without CodeUri: the template's folder
    if not isinstance(code_uri, str) or not isinstance(handler, str):
        raise UserError(f"{logical} needs a local CodeUri and a Handler to be rehearsed")
    return FunctionCode((scope.path.parent / code_uri).resolve(), handler, props)


@contextlib.contextmanager
def _on_path(code_dir: Path) -> Iterator[None]:
    """`code_dir` first on sys.path while its modules import (they import their siblings by name, as
    in Lambda), and off it afterwards."""
    entry = str(code_dir)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)


def load_module(code_dir: Path, module_name: str, env: dict[str, str] | None = None) -> ModuleType:
    """Import `module_name` from `code_dir` with the function's Lambda environment (Powertools reads it
    at import time); refuses a module of the same name loaded from elsewhere."""
    with _on_path(code_dir), environment(env or {}), contextlib.redirect_stdout(io.StringIO()):
        module = importlib.import_module(module_name)
    if Path(getattr(module, "__file__", "") or "").resolve().parent != code_dir.resolve():
        raise UserError(f"module {module_name!r} of {code_dir} clashes with another module of that name")
    return module


def load_handler(code: FunctionCode, env: dict[str, str]) -> tuple[ModuleType, Any]:
    module_name, _, function = code.handler.rpartition(".")
    module = load_module(code.code_dir, module_name, env)
    return module, getattr(module, function)


def function_env(scope: Scope, logical: str, mapping: dict[str, str]) -> dict[str, str]:
    """The function's environment variables as the translated template sets them, placeholders filled."""
    variables = scope.resources[logical].get("Properties", {}).get("Environment", {}).get("Variables", {})
    return {k: str(v) for k, v in concretize(scope.resolve(variables), mapping).items()}


def function_spec(scope: Scope, logical: str, physical: str, mapping: dict[str, str]) -> FunctionSpec:
    """What the rehearsal needs of a function of the template to run it in its own process."""
    code = function_code(scope, logical)
    props = code.properties
    memory = scope.resolve(props.get("MemorySize", 128))
    layers = scope.resolve(props.get("Layers") or [])
    metadata = scope.sam_resources.get(logical, {}).get("Metadata") or {}
    return FunctionSpec(
        logical=logical,
        physical=physical,
        runtime=str(scope.resolve(props.get("Runtime") or "")),
        handler=code.handler,
        code_dir=code.code_dir,
        template_dir=scope.path.parent,
        env=function_env(scope, logical, mapping),
        timeout_s=float(function_timeout(scope, logical)),
        memory_mb=int(memory) if str(memory).isdigit() else 128,
        layers=tuple(str(x) for x in layers) if isinstance(layers, list) else (),
        build_method=metadata.get("BuildMethod"),
    )


def function_timeout(scope: Scope, logical: str) -> int:
    value = scope.resolve(scope.resources[logical]["Properties"].get("Timeout", 3))
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise UserError(f"the Timeout of {logical} ({value}) is not known for these parameters") from exc


def hook_run(scope: Scope, logical: str, mapping: dict[str, str], cases: Path | None = None) -> HookRun:
    """The real handler of a hook (or the step judge) with the environment the template gives it; a
    relative case location is made absolute (the hooks' modules run from the CLI's installation, not
    from the user's copy of the hooks, which is what a relative location means on AWS)."""
    env = function_env(scope, logical, mapping)
    code = function_code(scope, logical)
    location = env.get("SMOKE_CASE_LOCATION")
    if cases is not None and location and not location.startswith("s3://"):
        env["SMOKE_CASE_LOCATION"] = str(cases)
    _, fn = load_handler(code, env)
    # the dead-letter queue's consumer is taken to be this project's (hooks/lost_reports.py)
    dead_letter = bool(code.properties.get("DeadLetterQueue"))
    return HookRun(f"{STACK}-{logical}", fn, env, float(function_timeout(scope, logical)), dead_letter)


def hook_support(ref: HookRef) -> ModuleType:
    """The hooks' Lambda-side plumbing module, loaded from the hooks' own code directory."""
    assert ref.scope is not None and ref.logical_id is not None
    return load_module(function_code(ref.scope, ref.logical_id).code_dir, "hook_support")


def case_folder(dep: FunctionDeployment, code: FunctionCode) -> tuple[str, Path]:
    """The function's case-set name (its tag) and the folder of its smoke cases: the case location
    the hooks' template configures, in the hooks' code folder (where the hook on AWS reads it) or,
    for a relative location not there, beside the user's template."""
    key = (code.properties.get("Tags") or {}).get(SMOKE_TAG)
    hook = dep.pre_hook
    if not key or hook is None or hook.scope is None or hook.logical_id is None:
        raise UserError(f"{dep.logical_id} needs a pre-traffic hook and a {SMOKE_TAG!r} tag to be rehearsed")
    hook_dir = function_code(hook.scope, hook.logical_id).code_dir
    location = function_env(hook.scope, hook.logical_id, {}).get("SMOKE_CASE_LOCATION", "smoke_cases")
    if location.startswith("s3://"):
        raise UserError("smoke cases in S3 cannot be read offline: point SmokeCaseLocation at a folder")
    folders = [hook_dir / location, dep.scope.path.parent / location]
    found = next((f for f in folders if (f / f"{key}.json").is_file()), None)
    if found is None:
        searched = " and ".join(map(str, folders))
        raise UserError(f"no smoke case file {key}.json for {dep.logical_id} (looked in {searched})")
    return str(key), found


def traffic_cases(dep: FunctionDeployment, code: FunctionCode) -> list[SmokeCase]:
    """Synthetic users replay the function's smoke cases, so a faulty answer is judged by the same
    expectations the hooks use."""
    key, folder = case_folder(dep, code)
    try:
        return load_cases(read_case_document(str(folder), key), source=f"smoke cases {key!r}")
    except SmokeCaseError as exc:
        raise UserError(str(exc)) from exc
