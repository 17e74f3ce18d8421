"""`safedeploy versions`: what actually runs — per function of a stack, the alias's versions and
weights, each version's configuration and code size, what changed between the version on the alias
and the newest one, every published version's code size, and the account's code storage (Lambda's
regional quota, 75 GB by default, that published versions fill until deployments fail)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from safedeploy.errors import UserError, describe_aws_error
from safedeploy.live.aws import stack_functions
from safedeploy.live.prune import published
from safedeploy.live.route import weights

MASK = "****"
COMPARED = ("runtime", "memory_mb", "timeout_s", "code_sha256", "role", "layers", "architectures", "handler")


@dataclass(frozen=True)
class VersionConfig:
    version: str
    runtime: str | None
    handler: str | None
    memory_mb: int | None
    timeout_s: int | None
    code_sha256: str | None
    role: str | None
    layers: list[str]
    architectures: list[str]
    environment: dict[str, str]  # values masked unless asked for
    description: str = ""
    code_size: int | None = None  # bytes of the deployment package (CodeSize)


@dataclass(frozen=True)
class Change:
    field: str
    live: Any
    newest: Any


@dataclass(frozen=True)
class FunctionVersions:
    function: str  # logical ID in the stack
    name: str
    alias: str
    weights: dict[str, float]  # version -> percent on the alias
    primary: str  # the alias's FunctionVersion (the rest of the traffic)
    newest: str | None
    versions: list[VersionConfig]
    changes: list[Change] = field(default_factory=list)  # live primary -> newest
    published: dict[str, int] = field(default_factory=dict)  # every published version -> CodeSize

    @property
    def published_bytes(self) -> int:
        return sum(self.published.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def version_config(lambda_client: Any, name: str, version: str) -> VersionConfig:
    conf = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    env = (conf.get("Environment") or {}).get("Variables") or {}
    return VersionConfig(
        version=str(conf.get("Version", version)),
        runtime=conf.get("Runtime"),
        handler=conf.get("Handler"),
        memory_mb=conf.get("MemorySize"),
        timeout_s=conf.get("Timeout"),
        code_sha256=conf.get("CodeSha256"),
        role=conf.get("Role"),
        layers=[str(layer.get("Arn")) for layer in conf.get("Layers") or []],
        architectures=list(conf.get("Architectures") or []),
        environment={k: str(v) for k, v in sorted(env.items())},
        description=str(conf.get("Description") or ""),
        code_size=conf.get("CodeSize"),
    )


def changes(live: VersionConfig, newest: VersionConfig) -> list[Change]:
    out = [
        Change(name, getattr(live, name), getattr(newest, name))
        for name in COMPARED
        if getattr(live, name) != getattr(newest, name)
    ]
    for key in sorted(set(live.environment) | set(newest.environment)):
        before, after = live.environment.get(key), newest.environment.get(key)
        if before != after:
            out.append(Change(f"environment.{key}", before, after))
    return out


def function_versions(
    lambda_client: Any, logical_id: str, name: str, alias: str, show_values: bool = False
) -> FunctionVersions:
    try:
        current = lambda_client.get_alias(FunctionName=name, Name=alias)
    except lambda_client.exceptions.ResourceNotFoundException as exc:
        raise UserError(f"{name} has no alias {alias!r}") from exc
    split = weights(current)
    sizes = {
        v.version: v.code_size for v in sorted(published(lambda_client, name), key=lambda v: int(v.version))
    }
    newest = list(sizes)[-1] if sizes else None
    wanted = sorted({*split, *([newest] if newest else [])}, key=int)
    # Read unmasked once, mask for the output: a changed secret shows as changed, not as its value.
    raw = {v: version_config(lambda_client, name, v) for v in wanted}
    primary = str(current["FunctionVersion"])
    diff = changes(raw[primary], raw[newest]) if newest and newest != primary else []
    if not show_values:
        diff = [
            Change(c.field, _mask(c.live), _mask(c.newest)) if c.field.startswith("environment.") else c
            for c in diff
        ]
        shown = [_masked(config) for config in raw.values()]
    else:
        shown = list(raw.values())
    return FunctionVersions(logical_id, name, alias, split, primary, newest, shown, diff, sizes)


def _mask(value: Any) -> Any:
    return None if value is None else MASK


def _masked(config: VersionConfig) -> VersionConfig:
    return VersionConfig(**{**asdict(config), "environment": {k: MASK for k in config.environment}})


@dataclass(frozen=True)
class StackVersions:
    functions: list[FunctionVersions]
    # the account's code storage in this region: {"used", "limit"} bytes, or {"unavailable": why}
    code_storage: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"functions": [f.as_dict() for f in self.functions], "code_storage": self.code_storage}


def account_storage(lambda_client: Any) -> dict[str, Any]:
    """GetAccountSettings' code storage; a diagnostic, so a refusal is reported, not fatal."""
    try:
        settings = lambda_client.get_account_settings()
    except ClientError as exc:
        return {"unavailable": describe_aws_error(exc)}
    return {
        "used": int(settings["AccountUsage"]["TotalCodeSize"]),
        "limit": int(settings["AccountLimit"]["TotalCodeSize"]),
    }


def stack_versions(
    cloudformation: Any, lambda_client: Any, stack: str, alias: str = "live", show_values: bool = False
) -> StackVersions:
    """Every function of the stack that has `alias` (the others are not deployed through it)."""
    found = []
    for logical_id, name in stack_functions(cloudformation, stack).items():
        aliases = lambda_client.list_aliases(FunctionName=name).get("Aliases", [])
        if any(a["Name"] == alias for a in aliases):
            found.append(function_versions(lambda_client, logical_id, name, alias, show_values))
    if not found:
        raise UserError(f"no function of stack {stack!r} has an alias {alias!r}")
    return StackVersions(found, account_storage(lambda_client))
