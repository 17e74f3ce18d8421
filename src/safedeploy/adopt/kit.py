"""The hooks app and alarm pack that ship with the package, and their copies in a user's project.

An installed package carries them as package data under `safedeploy/_kit` (pyproject.toml maps
`hooks/` and `alarms/` there); a source checkout reads them from the repository. Each copy written
into a project is stamped with the kit's version (`.safedeploy-kit`), so a later `init` recognises
its own files and updates them, and never overwrites a folder it did not write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safedeploy import version
from safedeploy.errors import UserError

HOOKS_DIR = "hooks"
ALARMS_DIR = "alarms"
STAMP = ".safedeploy-kit"
SMOKE_DIR = "smoke_cases"  # the hooks' default SmokeCaseLocation, inside their package
# The kit's own example case sets (for the sample functions): never copied into a user's project.
EXAMPLE_CASES = frozenset({"hello_world.json", "echo.json"})
# SAR application ids of the published kit (`--source sar`), one per nested app.
SAR_APPLICATIONS = {
    HOOKS_DIR: "arn:aws:serverlessrepo:us-east-1:{account}:applications/safe-deploy-hooks",
    ALARMS_DIR: "arn:aws:serverlessrepo:us-east-1:{account}:applications/safe-deploy-alarm-pack",
}


def kit_root() -> Path:
    """The folder that holds `hooks/` and `alarms/`: the installed package data, else the checkout."""
    here = Path(__file__).resolve()
    installed = here.parents[1] / "_kit"
    if (installed / HOOKS_DIR / "template.yaml").is_file():
        return installed
    checkout = here.parents[3]
    if (checkout / HOOKS_DIR / "template.yaml").is_file() and (checkout / ALARMS_DIR).is_dir():
        return checkout
    raise UserError("the hooks and alarm pack are missing from this installation of safedeploy")


def _kit_files(folder: Path) -> dict[str, bytes]:
    """Every file of one kit folder, by its path inside the folder (caches and examples left out)."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        if rel.parts[0] == SMOKE_DIR and rel.name in EXAMPLE_CASES:
            continue
        if rel.name == STAMP:
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out


@dataclass(frozen=True)
class KitCopy:
    """What vendoring one kit folder into the project writes (path inside the project -> bytes)."""

    folder: str
    files: dict[str, bytes]
    previous_version: str | None  # the stamp found in the project, None for a first copy


def stamp_text(kit_version: str) -> str:
    return f"version = {kit_version}\n"


def read_stamp(folder: Path) -> str | None:
    stamp = folder / STAMP
    if not stamp.is_file():
        return None
    key, _, value = stamp.read_text(encoding="utf-8").strip().partition("=")
    return value.strip() if key.strip() == "version" else None


def vendor(project: Path, folder: str, root: Path | None = None) -> KitCopy:
    """The files that make `project/folder` the kit's current copy (only those that differ).

    A folder that exists without our stamp is the user's own: nothing is written and the user is told.
    """
    source = (root or kit_root()) / folder
    target = project / folder
    previous = read_stamp(target)
    if target.exists() and previous is None:
        raise UserError(
            f"{target} exists and was not written by safedeploy init: move it aside or use --source sar"
        )
    wanted = {f"{folder}/{rel}": data for rel, data in _kit_files(source).items()}
    wanted[f"{folder}/{STAMP}"] = stamp_text(version()).encode()
    changed = {
        rel: data
        for rel, data in wanted.items()
        if not (project / rel).is_file() or (project / rel).read_bytes() != data
    }
    return KitCopy(folder, changed, previous)
