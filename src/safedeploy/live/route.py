"""`safedeploy route`: alias weights by hand for A/B tests, refused while CodeDeploy owns the alias."""

from __future__ import annotations

from typing import Any, TypedDict

from safedeploy.errors import UserError
from safedeploy.live.aws import StackDeployment, active_deployments


class RouteResult(TypedDict):
    function: str
    alias: str
    weights: dict[str, float]  # version -> percent
    changed: bool


def _function(stack: StackDeployment, logical_id: str) -> str:
    if logical_id not in stack.functions:
        known = ", ".join(sorted(stack.functions))
        raise UserError(f"stack {stack.stack!r} has no function {logical_id!r} (functions: {known})")
    return stack.functions[logical_id]


def weights(alias: dict[str, Any]) -> dict[str, float]:
    extra = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    out = {str(v): round(100 * float(w), 4) for v, w in extra.items()}
    out[str(alias["FunctionVersion"])] = round(100 - sum(out.values()), 4)
    return out


def published_versions(lambda_client: Any, name: str) -> list[str]:
    """The function's published versions (numbers; `$LATEST` is not published), oldest first."""
    versions: list[int] = []
    kwargs: dict[str, Any] = {"FunctionName": name}
    while True:
        page = lambda_client.list_versions_by_function(**kwargs)
        versions.extend(int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit())
        if not page.get("NextMarker"):
            break
        kwargs["Marker"] = page["NextMarker"]
    return [str(v) for v in sorted(versions)]


def newest_version(lambda_client: Any, name: str) -> str:
    versions = published_versions(lambda_client, name)
    if not versions:
        raise UserError(f"{name} has no published version")
    return versions[-1]


def _published(lambda_client: Any, name: str, version: str) -> str:
    """`version` if it is a published version of `name`: an alias may not point at $LATEST or nothing."""
    versions = published_versions(lambda_client, name)
    if version not in versions:
        listed = ", ".join(versions) or "none"
        raise UserError(f"version {version!r} of {name} is not a published version (published: {listed})")
    return version


def _not_deploying(codedeploy: Any, stack: StackDeployment, function: str) -> None:
    group = stack.groups.get(function)
    active = active_deployments(codedeploy, stack.application, group) if group else []
    if active:
        raise UserError(
            f"deployment {active[0]} is in progress for {function}: CodeDeploy owns the alias "
            "until it ends; a manual change now would leave it inconsistent"
        )


def route(
    lambda_client: Any,
    codedeploy: Any,
    stack: StackDeployment,
    function: str,
    alias: str,
    *,
    weight: float | None = None,
    version: str | None = None,
    reset: bool = False,
) -> RouteResult:
    """Show or change the alias weights; refuses while CodeDeploy is shifting this function."""
    name = _function(stack, function)
    current = lambda_client.get_alias(FunctionName=name, Name=alias)
    if weight is None and not reset:
        return RouteResult(function=name, alias=alias, weights=weights(current), changed=False)
    primary = str(current["FunctionVersion"])
    if reset:
        target, routing = _published(lambda_client, name, version) if version else primary, {}
    else:
        assert weight is not None
        if not 0 <= weight < 100:
            raise UserError(
                "--weight must be within 0 and 100 (exclusive); use --reset --version N for 100 %"
            )
        other = _published(lambda_client, name, version) if version else newest_version(lambda_client, name)
        if other == primary:
            raise UserError(f"version {other} already is the alias's primary version; pass --version")
        target, routing = primary, ({other: weight / 100} if weight > 0 else {})
    # Checked last, right before the change: a deployment may have started while we looked things up.
    _not_deploying(codedeploy, stack, function)
    updated = lambda_client.update_alias(
        FunctionName=name,
        Name=alias,
        FunctionVersion=target,
        RoutingConfig={"AdditionalVersionWeights": routing},
    )
    return RouteResult(function=name, alias=alias, weights=weights(updated), changed=True)
