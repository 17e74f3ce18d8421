"""Template parameters: samconfig.toml environments (`--config-env`), `Key=Value` overrides, and the
check that every parameter given is one the template declares. All parameter parsing lives here."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from safedeploy.errors import UserError
from safedeploy.inputs import read_text

# The SAM CLI's samconfig.toml holds a few environments' settings: kilobytes.
MAX_SAMCONFIG_BYTES = 256 * 1024


def read_samconfig(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(read_text(path, MAX_SAMCONFIG_BYTES, "samconfig"))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a UTF-8 text file") from exc
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


def key_values(items: Iterable[Any], what: str) -> dict[str, str]:
    """`["A=1", "B=x=y"]` -> `{"A": "1", "B": "x=y"}`; anything without `=` is a user error."""
    out = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise UserError(f"{what} {item!r} is not Key=Value")
        out[key] = value
    return out


def parameter_overrides(settings: dict[str, Any]) -> dict[str, str]:
    raw = settings.get("parameter_overrides", "")
    items = raw if isinstance(raw, list) else shlex.split(raw)
    return key_values(items, "parameter_overrides entry")


def environments(config: dict[str, Any]) -> list[str]:
    return [k for k, v in config.items() if isinstance(v, dict)]


def parameters(template: Path, config_env: str | None, overrides: Iterable[str]) -> dict[str, str]:
    """The parameter values of `--config-env` (samconfig.toml next to the template) and `--parameter`."""
    params: dict[str, str] = {}
    if config_env:
        config = read_samconfig(template.parent / "samconfig.toml")
        if not config:
            raise UserError(f"no samconfig.toml next to {template}")
        params.update(parameter_overrides(environment_settings(config, config_env)))
    params.update(key_values(overrides, "--parameter"))
    return params


def check_declared(template_name: str, given: dict[str, Any], declared: set[str]) -> None:
    unknown = sorted(set(given) - declared)
    if unknown:
        raise UserError(f"{template_name} has no parameter(s) {', '.join(unknown)}")
