"""`init` put together: the set of file changes that make a SAM app safely deployed, computed without
writing anything; shown as a unified diff; written atomically (a temporary file, then os.replace)."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safedeploy.adopt import edits, samconfig_edit, smoke_cases
from safedeploy.adopt.deployment_type import PREFERENCES, choose, cycles, staged
from safedeploy.adopt.document import parse
from safedeploy.adopt.functions import Target, select
from safedeploy.adopt.kit import ALARMS_DIR, HOOKS_DIR, SMOKE_DIR, vendor
from safedeploy.errors import UserError
from safedeploy.inputs import read_text
from safedeploy.template.loader import MAX_TEMPLATE_BYTES, load_template
from safedeploy.template.samconfig import MAX_SAMCONFIG_BYTES


@dataclass
class ChangeSet:
    root: Path
    files: dict[str, tuple[bytes | None, bytes]] = field(default_factory=dict)  # rel -> (old, new)
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)

    def put(self, rel: str, new: bytes) -> None:
        path = self.root / rel
        old = path.read_bytes() if path.is_file() else None
        if old != new:
            self.files[rel] = (old, new)

    @property
    def empty(self) -> bool:
        return not self.files

    def diff(self) -> str:
        out = []
        for rel, (old, new) in sorted(self.files.items()):
            try:
                before = old.decode() if old is not None else ""
                after = new.decode()
            except UnicodeDecodeError:
                out.append(f"Binary file {rel} {'changed' if old is not None else 'added'}\n")
                continue
            out.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"a/{rel}" if old is not None else "/dev/null",
                    tofile=f"b/{rel}",
                )
            )
            if out and not out[-1].endswith("\n"):
                out[-1] += "\n\\ No newline at end of file\n"
        return "".join(out)

    def write(self) -> None:
        for rel, (_, new) in sorted(self.files.items()):
            write_atomically(self.root / rel, new)


def write_atomically(path: Path, data: bytes) -> None:
    """Never half-written: the bytes go to a temporary file in the same folder, then replace the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stack_prefix(project: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9-]+", "-", project.resolve().name).strip("-") or "app"
    return name if name[0].isalpha() else f"app-{name}"


def plan_init(
    template: Path,
    functions: list[str],
    source: edits.Source,
    deployment_type: str | None = None,
) -> ChangeSet:
    """Every change `init` would make, or a UserError listing everything that cannot be done."""
    plain = load_template(template)
    selection = select(plain, functions)
    if selection.problems:
        raise UserError("cannot add safe deployments:\n  " + "\n  ".join(selection.problems))
    project = template.parent
    changes = ChangeSet(project)
    changes.notes.extend(selection.notes)
    text = read_text(template, MAX_TEMPLATE_BYTES, "template")  # as written: its line endings too

    def edited(dev_type: str, nested: edits.Source = source) -> tuple[str, edits.EditReport]:
        doc = parse(text, template.name)
        report = edits.apply(doc, plain, selection.targets, nested, dev_type)
        if report.problems:
            raise UserError("cannot add safe deployments:\n  " + "\n  ".join(report.problems))
        return doc.dump(), report

    new_text, report = edited(deployment_type or PREFERENCES["dev"][0])
    declared = plain.get("Parameters") or {}
    if report.uses_type and edits.TYPE_PARAMETER in declared:
        default = declared[edits.TYPE_PARAMETER].get("Default")
        changes.types = {env: str(default) for env in edits.ENVIRONMENTS}
    if report.added:
        # planned with the kit's own copies nested locally: the same gates, and no SAR call
        local_text = new_text if source.kind == "vendor" else edited(PREFERENCES["dev"][0], edits.Source())[0]
        with staged(local_text, template.suffix) as path:
            if report.uses_type and not changes.types:
                if deployment_type:
                    changes.types = dict.fromkeys(edits.ENVIRONMENTS, deployment_type)
                else:
                    changes.types = choose(path, report.typed, edits.TYPE_PARAMETER)
            found = cycles(path, edits.TYPE_PARAMETER, changes.types.get("dev", PREFERENCES["dev"][0]))
        if found:
            raise UserError(
                "cannot add safe deployments: the hooks app would close a dependency cycle:\n  "
                + "\n  ".join(found)
            )
        if report.uses_type:
            new_text, report = edited(changes.types["dev"])
    if report.added:
        changes.put(template.name, new_text.encode())
    changes.added.extend(report.added)
    changes.kept.extend(report.kept)
    changes.warnings.extend(report.warnings)

    _smoke_and_kit(changes, plain, selection.targets, source)
    _samconfig(changes)
    return changes


def _smoke_and_kit(
    changes: ChangeSet, plain: dict[str, Any], targets: list[Target], source: edits.Source
) -> None:
    project = changes.root
    case_dir = f"{HOOKS_DIR}/{SMOKE_DIR}" if source.kind == "vendor" else SMOKE_DIR
    for target in targets:
        rel = f"{case_dir}/{target.logical_id}.json"
        if (project / rel).exists():
            continue  # the user's own file
        code_uri = (plain["Resources"][target.logical_id].get("Properties") or {}).get("CodeUri")
        document = smoke_cases.case_document(project, target, code_uri if isinstance(code_uri, str) else None)
        changes.put(rel, smoke_cases.case_text(document).encode())
        changes.added.append(f"{rel}: {len(document['cases'])} smoke case(s) to tighten")
    if source.kind == "vendor":
        for folder in (HOOKS_DIR, ALARMS_DIR):
            copy = vendor(project, folder)
            for rel, data in copy.files.items():
                changes.put(rel, data)
            if copy.files:
                verb = f"updated from {copy.previous_version}" if copy.previous_version else "copied"
                changes.added.append(f"{folder}/: the kit's {folder} {verb}")
    else:
        changes.notes.append(
            f"upload {case_dir}/*.json to S3 and set the Hooks parameters SmokeCaseLocation/SmokeCaseBucket"
        )


def _samconfig(changes: ChangeSet) -> None:
    project = changes.root
    samconfig = project / "samconfig.toml"
    old = read_text(samconfig, MAX_SAMCONFIG_BYTES, "samconfig") if samconfig.exists() else ""
    types = changes.types or dict.fromkeys(edits.ENVIRONMENTS, "")
    new, added = samconfig_edit.edit(
        old, _stack_prefix(project), types, edits.ENV_PARAMETER, edits.TYPE_PARAMETER, bool(changes.types)
    )
    if new != old:
        changes.put("samconfig.toml", new.encode())
        changes.added.extend(added)
