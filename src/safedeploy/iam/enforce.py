"""The rehearsal's IAM: every call a principal makes is decided by its policies, as AWS would.

Each principal (a function's execution role, the deployment group's service role) has the statements
its template gives it, with the rehearsal's physical names in place of CloudFormation's. A client
guarded for a principal is refused a call its policies do not allow with the error the service
returns (AccessDeniedException; CloudWatch's query API says AccessDenied, SNS AuthorizationError),
before anything is sent, and every decision is logged as (principal, action, resource, decision).
Clients shared by several functions (the hooks share one module) are guarded for whichever principal
is acting (`acting_as`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from safedeploy.iam.actions import Where, iam_action, request_resources
from safedeploy.iam.match import PLACEHOLDER
from safedeploy.iam.policy import Decision, Request, Statement, evaluate
from safedeploy.iam.principals import role_policies, walk
from safedeploy.template.deployments import FunctionDeployment
from safedeploy.template.scope import Scope, locate

_ERROR_CODES = {"cloudwatch": "AccessDenied", "sns": "AuthorizationError", "s3": "AccessDenied"}
SERVICE_ROLE = "codedeploy-service-role"  # the principal CodeDeploy acts as for the deployment group


@dataclass(frozen=True)
class Decided:
    principal: str
    action: str
    resource: str
    decision: Decision
    because: tuple[str, ...]


class AccessDenied(Exception):
    """Raised where the service's answer would be an authorization error (the engine's own calls)."""


class Account:
    def __init__(
        self,
        principals: Mapping[str, Sequence[Statement]],
        deployment_group: Callable[[str], tuple[str, str] | None],
        where: Where | None = None,
    ) -> None:
        self.principals = dict(principals)
        self.deployment_group = deployment_group
        self.where = where or Where()
        self.log: list[Decided] = []
        self._seen: dict[tuple[str, str, str], Decided] = {}
        # who is running now: a stack, not a context variable, since a hook does its work in threads
        # of its own while the rehearsal runs one function at a time
        self._acting: list[str] = []

    @contextlib.contextmanager
    def acting_as(self, principal: str) -> Iterator[None]:
        self._acting.append(principal)
        try:
            yield
        finally:
            self._acting.pop()

    def decide(
        self, principal: str, service: str, operation: str, params: Mapping[str, Any]
    ) -> list[Decided]:
        if principal not in self.principals:
            raise RuntimeError(f"no policies known for principal {principal!r} ({service}.{operation})")
        action = iam_action(service, operation)
        groups: dict[str, tuple[str, str]] = {}
        deployment = params.get("deploymentId")
        if isinstance(deployment, str):
            found = self.deployment_group(deployment)
            if found:
                groups[deployment] = found
        out = []
        for resource in request_resources(service, operation, params, self.where, groups):
            key = (principal, action, resource)
            if key not in self._seen:
                verdict = evaluate(self.principals[principal], Request(action, resource))
                self._seen[key] = Decided(principal, action, resource, verdict.decision, verdict.because)
                self.log.append(self._seen[key])
            out.append(self._seen[key])
        return out

    def require(self, principal: str, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """The call as `principal`, or AccessDenied with AWS's wording when it is not allowed."""
        for d in self.decide(principal, service, operation, params):
            if d.decision is not Decision.ALLOWED:
                raise AccessDenied(
                    f"{principal} is not authorized to perform: {d.action} on resource: {d.resource} "
                    f"({d.decision.value})"
                )

    def guard(self, client: Any, principal: str | None = None) -> Any:
        """Refuse `client`'s calls that `principal` (or whoever is acting) may not make."""
        from botocore.exceptions import ClientError

        service = client.meta.service_model.service_name
        hyphen = client.meta.service_model.service_id.hyphenize()

        def check(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
            who = principal or (self._acting[-1] if self._acting else None)
            if who is None:
                raise RuntimeError(f"{service}.{model.name} called with no principal acting")
            try:
                self.require(who, service, model.name, params)
            except AccessDenied as exc:
                code = _ERROR_CODES.get(service, "AccessDeniedException")
                raise ClientError({"Error": {"Code": code, "Message": str(exc)}}, model.name) from None

        client.meta.events.register_first(f"before-parameter-build.{hyphen}", check)
        return client

    def denied(self) -> list[Decided]:
        return [d for d in self.log if d.decision is not Decision.ALLOWED]


def _fill(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0)[1:-1], m.group(0)), value)
    if isinstance(value, list | tuple):
        return [_fill(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, mapping) for k, v in value.items()}
    return value


def concrete(statement: Statement, mapping: Mapping[str, str]) -> Statement:
    """A statement with CloudFormation's placeholders (<Fn>, <stack>) replaced by the rehearsal's values."""

    def each(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(_fill(values, mapping))

    return dataclasses.replace(
        statement,
        resources=each(statement.resources) or (),
        not_resources=each(statement.not_resources),
        conditions=_fill(dict(statement.conditions), mapping),
    )


def function_role(scope: Scope, logical: str) -> tuple[Scope, str] | None:
    return locate(scope, (scope.resources[logical].get("Properties") or {}).get("Role"))


def rehearsal_principals(
    root: Scope, dep: FunctionDeployment, mapping: Mapping[str, str], physical: Callable[[str], str]
) -> dict[str, list[Statement]]:
    """Every function's execution role (keyed by its physical name) and the deployment group's
    service role (SERVICE_ROLE), from the translated templates, in the rehearsal's names."""
    names = {
        logical: physical(logical)
        for sc in walk(root)
        for logical, res in sc.resources.items()
        if res.get("Type") == "AWS::Lambda::Function"
    }
    full = {**names, **mapping}
    out: dict[str, list[Statement]] = {}
    for sc in walk(root):
        for logical, res in sc.resources.items():
            if res.get("Type") != "AWS::Lambda::Function" or not sc.active(logical):
                continue
            found = function_role(sc, logical)
            if found is not None:
                out[names[logical]] = [concrete(s, full) for s in role_policies(*found, rename={}).statements]
    located = locate(dep.scope, dep.role) if dep.role is not None else None
    if located is not None:
        out[SERVICE_ROLE] = [concrete(s, full) for s in role_policies(*located, rename={}).statements]
    return out
