"""Each environment's deployment type, chosen with `plan`'s own fit: the first type of the
environment's preference list under which every gate of the protected functions can fire within the
first traffic step (then `check` has nothing to say about their timing either)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from safedeploy.adopt.kit import ALARMS_DIR, HOOKS_DIR, kit_root
from safedeploy.errors import UserError

# Shortest first; prod bakes longer than dev. (A linear type's first step is one interval: with
# 1-minute gates only the 10-minute interval lets every gate fire in it.)
PREFERENCES = {
    "dev": (
        "Canary10Percent5Minutes",
        "Canary10Percent10Minutes",
        "Canary10Percent15Minutes",
        "Canary10Percent30Minutes",
    ),
    "staging": (
        "Canary10Percent10Minutes",
        "Canary10Percent15Minutes",
        "Canary10Percent30Minutes",
        "Linear10PercentEvery10Minutes",
    ),
    "prod": ("Canary10Percent15Minutes", "Canary10Percent30Minutes", "Linear10PercentEvery10Minutes"),
}


def gates_fit_first_step(template: Path, functions: list[str], parameters: dict[str, str]) -> bool:
    """Whether, under these parameters, each function has gates and every timed one fits the first step."""
    from safedeploy.planning.plan import build_plan
    from safedeploy.template.scope import build_scope

    plans = {p.function: p for p in build_plan(build_scope(template, parameters))}
    for function in functions:
        plan = plans.get(function)
        if plan is None:
            return False
        timed = [g for g in plan.alarms if g.fits is not None]
        if not timed or any(g.fits != "first-step" for g in timed):
            return False
    return True


def stand_ins(template: Path) -> dict[str, str]:
    """A value for each parameter without a default, so the template translates for planning: gate
    timing does not depend on them (their first allowed value, else a value of their type)."""
    from safedeploy.template.loader import load_template

    out = {}
    for name, decl in (load_template(template).get("Parameters") or {}).items():
        if not isinstance(decl, dict) or "Default" in decl:
            continue
        allowed = decl.get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            out[name] = str(allowed[0])
        elif str(decl.get("Type", "String")) == "Number":
            out[name] = str(decl.get("MinValue", 1))
        elif "List" in str(decl.get("Type", "")):
            out[name] = "stand-in"
        else:
            out[name] = "stand-in"
    return out


@contextlib.contextmanager
def staged(template_text: str, suffix: str) -> Iterator[Path]:
    """The edited template in a staging folder beside the kit's own hooks and alarm pack, whatever
    `--source` is (their gates and resources are the same), so it can be planned and checked."""
    root = kit_root()
    with tempfile.TemporaryDirectory(prefix="safedeploy-init-") as tmp:
        path = Path(tmp) / f"template{suffix}"
        path.write_text(template_text, encoding="utf-8")
        for folder in (HOOKS_DIR, ALARMS_DIR):
            shutil.copytree(root / folder, Path(tmp) / folder, ignore=shutil.ignore_patterns("__pycache__"))
        yield path


def cycles(template: Path, type_parameter: str, deployment_type: str) -> list[str]:
    """The dependency cycles of the edited template (`check`'s own rule), one line each."""
    from safedeploy.rules.hook import rule_cycles
    from safedeploy.template.loader import load_template
    from safedeploy.template.scope import build_scope

    values = stand_ins(template)
    if type_parameter in (load_template(template).get("Parameters") or {}):
        values[type_parameter] = deployment_type
    scope = build_scope(template, values)
    return [f"{f.resource}: {f.message}" for f in rule_cycles(scope)]


def choose(
    template: Path,
    functions: list[str],
    type_parameter: str,
    fits: Callable[[Path, list[str], dict[str, str]], bool] = gates_fit_first_step,
) -> dict[str, str]:
    """{environment: type}: the first of each environment's preferences that `fits`."""
    given = stand_ins(template)
    verdicts: dict[str, bool] = {}
    chosen = {}
    for env, candidates in PREFERENCES.items():
        for candidate in candidates:
            if candidate not in verdicts:
                verdicts[candidate] = fits(template, functions, {**given, type_parameter: candidate})
            if verdicts[candidate]:
                chosen[env] = candidate
                break
        else:
            raise UserError(
                f"no deployment type lets the gates of {', '.join(functions)} fire within the first "
                f"step in {env} (tried {', '.join(candidates)})"
            )
    return chosen
