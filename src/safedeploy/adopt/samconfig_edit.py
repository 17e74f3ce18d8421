"""samconfig.toml as `init` leaves it: the capabilities the nested apps need in every environment's
deploy settings, each environment's deployment parameters, and, where none exist, dev (`default`),
staging and prod environments as separate stacks. Round-trip TOML (tomlkit): comments and order stay."""

from __future__ import annotations

import shlex
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from safedeploy.errors import UserError

# Nested applications need CAPABILITY_AUTO_EXPAND, the roles CAPABILITY_IAM, and the hooks app's
# schedule creates a Lambda permission, which a nested SAR app may only do with
# CAPABILITY_RESOURCE_POLICY (SAR developer guide, "Deploying applications": capabilities).
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "CAPABILITY_RESOURCE_POLICY")
CONFIG_ENV = {"dev": "default", "staging": "staging", "prod": "prod"}


def _capabilities(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value or "").split()


def _table(parent: Any, key: str) -> Any:
    if key not in parent:
        parent[key] = tomlkit.table()
    return parent[key]


def edit(
    text: str,
    stack_prefix: str,
    types: dict[str, str],
    env_parameter: str,
    type_parameter: str,
    uses_type: bool,
) -> tuple[str, list[str]]:
    """(new text, what was added)."""
    try:
        doc = tomlkit.parse(text) if text else tomlkit.document()
    except TOMLKitError as exc:
        raise UserError(f"samconfig.toml: not valid TOML: {exc}") from exc
    added: list[str] = []
    if not text:
        doc.add(
            tomlkit.comment(
                "One stack per environment: `sam deploy` (dev), `--config-env staging`, `--config-env prod`."
            )
        )
        doc["version"] = 0.1
    existing = {k for k, v in doc.items() if isinstance(v, dict)}
    for env, config_env in CONFIG_ENV.items():
        fresh = config_env not in existing
        section = _table(doc, config_env)
        if fresh:
            stack = f"{stack_prefix}-{env}"
            _table(_table(section, "global"), "parameters")["stack_name"] = stack
            added.append(f"samconfig.toml: [{config_env}] environment, stack {stack}")
        deploy = _table(_table(section, "deploy"), "parameters")
        if fresh:
            deploy["resolve_s3"] = True
            deploy["confirm_changeset"] = env == "prod"
        have = _capabilities(deploy.get("capabilities"))
        missing = [c for c in CAPABILITIES if c not in have]
        if missing:
            merged = have + missing
            deploy["capabilities"] = (
                merged if isinstance(deploy.get("capabilities"), list) else " ".join(merged)
            )
            added.append(f"samconfig.toml: [{config_env}] capabilities {' '.join(missing)}")
        raw = deploy.get("parameter_overrides", "")
        is_list = isinstance(raw, list)
        items = [str(v) for v in raw] if is_list else shlex.split(str(raw))
        keys = {item.partition("=")[0] for item in items}
        wanted = [f"{env_parameter}={env}"]
        if uses_type:
            wanted.append(f"{type_parameter}={types[env]}")
        new = [w for w in wanted if w.partition("=")[0] not in keys]
        if new:
            if is_list:
                deploy["parameter_overrides"] = [*items, *new]
            else:
                deploy["parameter_overrides"] = " ".join([str(raw), *new]).strip() if raw else " ".join(new)
            added.append(f"samconfig.toml: [{config_env}] parameter_overrides {' '.join(new)}")
    return tomlkit.dumps(doc), added
