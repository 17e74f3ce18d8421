"""Each function runs with its own dependencies, never the CLI's.

The code is `sam build`'s output (.aws-sam/build/<LogicalId>) when it exists and is newer than the
sources; otherwise the CodeUri folder, with its requirements.txt (pip --target) or package.json (npm)
installed into a cache keyed by the file's hash. What Lambda's runtime itself provides comes from the
same place as on Lambda's side of the line: boto3 for Python (the CLI's own copy, linked read-only and
placed after the function's packages, so a pinned boto3 of the function wins), and for Node.js the
`@aws-sdk/*` clients the code imports but does not list (Node.js 18+ runtimes include SDK v3).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from safedeploy.errors import UserError

SKIP = {"node_modules", ".aws-sam", ".git", "__pycache__", ".venv"}
INSTALL_LIMIT_S = 600.0
_SDK_IMPORT = re.compile(r"""["'](@aws-sdk/[a-z0-9-]+)["'/]""")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "safedeploy" / "rehearsal"


def _sources(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIP]
        for name in files:
            yield Path(root) / name


def built_code(template_dir: Path, logical: str, code_dir: Path) -> Path | None:
    """`sam build`'s folder of the function when it is newer than every source file."""
    built = template_dir / ".aws-sam" / "build" / logical
    if not built.is_dir():
        return None
    marker = template_dir / ".aws-sam" / "build" / "template.yaml"
    built_at = (marker if marker.is_file() else built).stat().st_mtime
    newest = max((p.stat().st_mtime for p in _sources(code_dir)), default=0.0)
    return built if built_at >= newest else None


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run_install(logical: str, manifest: Path, command: list[str], cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_LIMIT_S, check=False, cwd=cwd
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"{logical}: installing {manifest} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [x for x in (done.stderr or done.stdout).strip().splitlines() if x.strip()]
        last = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise UserError(f"{logical}: installing {manifest} failed: {last}")


def python_packages(logical: str, code_dir: Path) -> list[Path]:
    """Folders to put after the code on sys.path: the function's installed requirements, then the
    runtime's boto3."""
    paths: list[Path] = []
    requirements = code_dir / "requirements.txt"
    if requirements.is_file():
        key = _digest(requirements.read_bytes(), sys.version.encode(), sys.platform.encode())
        target = cache_root() / "python" / key
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".installing-"))
            try:
                _run_install(
                    logical,
                    requirements,
                    [
                        *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                        *("--no-input", "--target", str(staging), "-r", str(requirements)),
                    ],
                )
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        paths.append(target)
    paths.append(python_runtime_sdk())
    return paths


def _closure(name: str) -> set[str]:
    """`name` and the distributions it requires (without extras), as installed here."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        key = current.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            todo.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return seen


def python_runtime_sdk() -> Path:
    """boto3 and what it needs, as Lambda's Python runtime provides them: links to the CLI's copies."""
    version = metadata.version("boto3")
    folder = cache_root() / "python-sdk" / f"boto3-{version}-{_digest(sys.prefix.encode())}"
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".sdk-"))
    for name in sorted(_closure("boto3")):
        dist = metadata.distribution(name)
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".egg-info")) or top in ("..", "__pycache__"):
                continue
            source = Path(str(dist.locate_file(top)))
            link = staging / top
            if source.exists() and not link.exists():
                link.symlink_to(source)
    try:
        staging.rename(folder)
    except OSError:  # another rehearsal made it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _sdk_clients(code_dir: Path, listed: set[str]) -> list[str]:
    found: set[str] = set()
    for path in _sources(code_dir):
        if path.suffix in (".js", ".mjs", ".cjs"):
            found.update(_SDK_IMPORT.findall(path.read_text(errors="replace")))
    return sorted(found - listed)


def _listed(manifest: Path) -> set[str]:
    import json

    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{manifest} is not JSON: {exc}") from exc
    return set((data.get("dependencies") or {}) if isinstance(data, dict) else {})


@dataclass(frozen=True)
class NodeCode:
    task_root: Path
    temporary: bool  # a copy made for this rehearsal (removed after it)


def node_task_root(logical: str, code_dir: Path) -> NodeCode:
    """The folder the Node.js runner loads from: the code itself when it needs nothing installed;
    otherwise a copy of it beside a cached node_modules (ES modules resolve packages only from
    node_modules folders above the importing file, so a search path would not do)."""
    manifest = code_dir / "package.json"
    listed = _listed(manifest) if manifest.is_file() else set()
    sdk = [c for c in _sdk_clients(code_dir, listed) if not (code_dir / "node_modules" / c).is_dir()]
    if not sdk and not listed:
        return NodeCode(code_dir, False)
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(f"{logical} needs npm to install its packages (Node.js: apt-get install nodejs npm)")
    lock = code_dir / "package-lock.json"
    key = _digest(
        manifest.read_bytes() if manifest.is_file() else b"",
        lock.read_bytes() if lock.is_file() else b"",
        " ".join(sdk).encode(),
    )
    modules = cache_root() / "node" / key / "node_modules"
    if not modules.is_dir():
        target = modules.parent
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".installing-"))
        try:
            for name in ("package.json", "package-lock.json"):
                if (code_dir / name).is_file():
                    shutil.copy2(code_dir / name, staging / name)
            if not (staging / "package.json").is_file():
                (staging / "package.json").write_text('{"private": true}\n')
            quiet = ["--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
            _run_install(logical, manifest, [npm, "install", *quiet, *sdk], cwd=staging)
            (staging / "node_modules").mkdir(exist_ok=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    copy = Path(tempfile.mkdtemp(prefix=f"rehearsal-{logical}-"))
    shutil.copytree(code_dir, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIP), symlinks=True)
    (copy / "node_modules").symlink_to(modules, target_is_directory=True)
    return NodeCode(copy, True)
