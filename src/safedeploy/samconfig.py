"""Reading samconfig.toml: the stack and parameter overrides of one environment (`--config-env`)."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

from safedeploy.errors import UserError


def read_samconfig(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc


def environment_settings(config: dict[str, Any], env: str, command: str = "deploy") -> dict[str, Any]:
    """Merged `global` and `<command>` parameters of `env`, as the SAM CLI merges them."""
    if env not in config:
        if env == "default":
            return {}
        raise UserError(f"samconfig has no environment {env!r} (have: {', '.join(environments(config))})")
    section = config[env]
    merged = dict(section.get("global", {}).get("parameters", {}))
    merged.update(section.get(command, {}).get("parameters", {}))
    return merged


def parameter_overrides(settings: dict[str, Any]) -> dict[str, str]:
    raw = settings.get("parameter_overrides", "")
    items = raw if isinstance(raw, list) else shlex.split(raw)
    out = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise UserError(f"parameter_overrides entry {item!r} is not Key=Value")
        out[key] = value
    return out


def environments(config: dict[str, Any]) -> list[str]:
    return [k for k, v in config.items() if isinstance(v, dict)]
