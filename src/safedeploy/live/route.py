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


def newest_version(lambda_client: Any, name: str) -> str:
    versions: list[int] = []
    kwargs: dict[str, Any] = {"FunctionName": name}
    while True:
        page = lambda_client.list_versions_by_function(**kwargs)
        versions.extend(int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit())
        if not page.get("NextMarker"):
            break
        kwargs["Marker"] = page["NextMarker"]
    if not versions:
        raise UserError(f"{name} has no published version")
    return str(max(versions))


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
    group = stack.groups.get(function)
    if group:
        active = active_deployments(codedeploy, stack.application, group)
        if active:
            raise UserError(
                f"deployment {active[0]} is in progress for {function}: CodeDeploy owns the alias "
                "until it ends; a manual change now would leave it inconsistent"
            )
    primary = str(current["FunctionVersion"])
    if reset:
        target = version or primary
        updated = lambda_client.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=target,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
    else:
        assert weight is not None
        if not 0 <= weight < 100:
            raise UserError(
                "--weight must be within 0 and 100 (exclusive); use --reset --version N for 100 %"
            )
        other = version or newest_version(lambda_client, name)
        if other == primary:
            raise UserError(f"version {other} already is the alias's primary version; pass --version")
        routing = {other: weight / 100} if weight > 0 else {}
        updated = lambda_client.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": routing},
        )
    return RouteResult(function=name, alias=alias, weights=weights(updated), changed=True)
