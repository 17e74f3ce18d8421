"""The identity policies of a role as the translated template gives them, statement by statement.

Inline `Policies` (SAM's policy templates arrive here already expanded by the translator),
`AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` resources attached to the role, and
`ManagedPolicyArns`: AWS managed policies from the shipped copy (managed.py), a customer managed
policy defined in the same template from its document. A policy whose contents are not known here
(another account's, a managed policy not shipped, a statement an open condition chooses) makes the
statements it could add possible, not certain: evaluation then answers "unknown", never "denied".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safedeploy.iam import managed
from safedeploy.iam.match import GENERATED_NAME, NUMBER, STACK_NAME, Shape
from safedeploy.iam.policy import Statement, statements_of
from safedeploy.template.scope import PSEUDO, UNKNOWN, Scope, select_branches

ACCOUNT_PLACEHOLDER = "<AWS::AccountId>"


@dataclass(frozen=True)
class RolePolicies:
    role: str  # `Hooks/CodeDeployRole`
    statements: tuple[Statement, ...]
    # a permissions boundary limits what the policies allow; its contents are not evaluated here
    bounded: bool = False


def _text(value: Any) -> Any:
    """A resolved value with anything left unresolved (an intrinsic, a structure) as UNKNOWN."""
    if isinstance(value, list):
        return [_text(v) for v in value if v is not None]
    if isinstance(value, dict):
        return UNKNOWN
    return value


def _statement_values(scope: Scope, raw: dict[str, Any], rename: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "Condition" and isinstance(value, dict):
            out[key] = {
                op: {
                    k: _condition_value(_rename(_text(scope.resolve(v)), rename), rename)
                    for k, v in body.items()
                }
                if isinstance(body, dict)
                else UNKNOWN
                for op, body in value.items()
            }
        else:
            out[key] = _rename(_text(scope.resolve(value)), rename)
    return out


def _condition_value(value: Any, rename: Mapping[str, str]) -> Any:
    """`!Ref AWS::AccountId` in a condition is the account placeholder too (a literal account there
    is then compared with an unknown, not with the stand-in value)."""
    if isinstance(value, list):
        return [_condition_value(v, rename) for v in value]
    return ACCOUNT_PLACEHOLDER if rename and value == PSEUDO["AWS::AccountId"] else value


def _rename(value: Any, rename: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [_rename(v, rename) for v in value]
    if isinstance(value, str):
        for old, new in rename.items():
            value = value.replace(old, new)
    return value


def document_statements(
    scope: Scope, document: Any, source: str, present: bool | None, rename: Mapping[str, str]
) -> list[Statement]:
    """Statements of one (unresolved) policy document; an Fn::If left open makes its statements possible."""
    document = select_branches(scope, document)
    if isinstance(document, dict) and "Fn::If" in document:
        _, yes, no = document["Fn::If"]
        return [
            *document_statements(scope, yes, source, None, rename),
            *document_statements(scope, no, source, None, rename),
        ]
    if not isinstance(document, dict):
        return [_anything(source, "its document is not known here")] if document else []
    raw = document.get("Statement", [])
    out: list[Statement] = []
    for i, st in enumerate(raw if isinstance(raw, list) else [raw]):
        branches = [(st, present)]
        if isinstance(st, dict) and "Fn::If" in st and len(st) == 1:
            _, yes, no = st["Fn::If"]
            branches = [(b, None) for b in (yes, no) if b != {"Ref": "AWS::NoValue"}]
        for body, maybe in branches:
            if not isinstance(body, dict):
                out.append(_anything(f"{source}, statement {i}", "not known here"))
                continue
            values = _statement_values(scope, body, rename)
            out += statements_of({"Statement": [{"Sid": str(i), **values}]}, source, maybe)
    return out


def _anything(source: str, why: str) -> Statement:
    """What an unknown policy may hold: any Allow (never a proven denial); Denies are not assumed."""
    return Statement("Allow", ("*",), None, ("*",), None, {}, f"{source} ({why})", None)


def renames(scope: Scope) -> dict[str, str]:
    """Values written the same way in every scope, so matching sees one placeholder per value: the
    account (a placeholder, since the template does not fix it), a function's physical name where
    FunctionName fixes it."""
    out = {f":{PSEUDO['AWS::AccountId']}:": f":{ACCOUNT_PLACEHOLDER}:"}
    for sc in walk(scope):
        for logical, res in sc.resources.items():
            if res.get("Type") == "AWS::Lambda::Function":
                name = sc.resolve((res.get("Properties") or {}).get("FunctionName"))
                if isinstance(name, str) and UNKNOWN not in name:
                    out[f"<{logical}>"] = name
    return out


def shapes(scope: Scope) -> dict[str, Shape]:
    """The values each placeholder can take (match.py): a stack name, a generated physical name."""
    out: dict[str, Shape] = {"<stack>": STACK_NAME, ACCOUNT_PLACEHOLDER: NUMBER}
    for sc in walk(scope):
        for logical, res in sc.resources.items():
            kind = res.get("Type", "")
            if kind == "AWS::Lambda::Function":
                out[f"<{logical}.Version>"] = NUMBER
            if kind in _GENERATED_NAMES and _GENERATED_NAMES[kind] not in (res.get("Properties") or {}):
                out[f"<{logical}>"] = GENERATED_NAME
    return out


# Resources whose Ref is a name CloudFormation generates from the stack name when none is given
# (CloudFormation user guide, "Name type"): <stack>-<logical id>-<suffix>.
_GENERATED_NAMES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


def walk(scope: Scope) -> list[Scope]:
    out = [scope]
    for child in scope.children.values():
        out += walk(child)
    return out


def role_policies(scope: Scope, role_id: str, rename: Mapping[str, str] | None = None) -> RolePolicies:
    """Every identity-policy statement of the role `role_id` of `scope`."""
    rename = renames(scope) if rename is None else rename
    res = scope.resources[role_id]
    props = res.get("Properties") or {}
    where = scope.qualified(role_id)
    statements: list[Statement] = []
    policies = select_branches(scope, props.get("Policies") or [])
    for i, policy in enumerate(policies if isinstance(policies, list) else [policies]):
        if isinstance(policy, dict) and "Fn::If" in policy:
            _, yes, no = policy["Fn::If"]
            for branch in (yes, no):
                if isinstance(branch, dict) and "PolicyDocument" in branch:
                    statements += document_statements(
                        scope, branch["PolicyDocument"], f"{where} policy {i}", None, rename
                    )
            continue
        if not isinstance(policy, dict):
            statements.append(_anything(f"{where} policy {i}", "not known here"))
            continue
        name = policy.get("PolicyName", str(i))
        statements += document_statements(
            scope, policy.get("PolicyDocument"), f"{where} policy {name}", True, rename
        )
    for logical, other in scope.resources.items():
        kind = other.get("Type")
        roles = (other.get("Properties") or {}).get("Roles") or []
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role_id} in roles:
            if not scope.active(logical):
                continue
            condition = other.get("Condition")
            present = True if condition is None or scope.condition(condition) is True else None
            statements += document_statements(
                scope, other["Properties"].get("PolicyDocument"), scope.qualified(logical), present, rename
            )
    for arn in select_branches(scope, props.get("ManagedPolicyArns") or []):
        statements += _managed(scope, arn, where, rename)
    return RolePolicies(where, tuple(statements), bounded="PermissionsBoundary" in props)


def _managed(scope: Scope, arn: Any, where: str, rename: Mapping[str, str]) -> list[Statement]:
    if (
        isinstance(arn, dict)
        and "Ref" in arn
        and scope.resources.get(arn["Ref"], {}).get("Type") == ("AWS::IAM::ManagedPolicy")
    ):
        doc = scope.resources[arn["Ref"]].get("Properties", {}).get("PolicyDocument")
        return document_statements(scope, doc, scope.qualified(arn["Ref"]), True, rename)
    if isinstance(arn, dict) and "Fn::If" in arn:
        _, yes, no = arn["Fn::If"]
        return [
            replace_present(s)
            for b in (yes, no)
            if b != {"Ref": "AWS::NoValue"}
            for s in _managed(scope, b, where, rename)
        ]
    value = _text(scope.resolve(arn))
    doc = managed.document(value) if isinstance(value, str) else None
    if doc is None:
        return [_anything(f"{where} managed policy {value}", "contents not known here")]
    return statements_of(doc, f"{where} managed policy {value.rsplit('/', 1)[-1]}")


def replace_present(st: Statement) -> Statement:
    return dataclasses.replace(st, present=None)


def _names_service(principal: Any, service: str, region: str | None = None) -> bool | None:
    """Whether a trust statement's Principal includes the AWS service `service`. A regional service
    principal (`codedeploy.eu-west-2.amazonaws.com`: the CodeDeploy user guide shows them for a role
    limited to some Regions) names it in that Region only: unknown while the stack's Region is."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return None
    if principal.get("AWS") == "*":
        return True
    services = principal.get("Service", [])
    services = services if isinstance(services, list) else [services]
    if any(not isinstance(x, str) or UNKNOWN in x for x in services):
        return None
    if service in services:
        return True
    name, _, domain = service.partition(".")
    regional = [x for x in services if x.startswith(f"{name}.") and x.endswith(f".{domain}")]
    if not regional:
        return False
    if region is None:
        return None
    return f"{name}.{region}.{domain}" in regional


def trust_statements(scope: Scope, role_id: str, service: str, rename: Mapping[str, str]) -> list[Statement]:
    """The role's trust policy as identity statements for `service` assuming it (Resource "*")."""
    document = select_branches(
        scope, (scope.resources[role_id].get("Properties") or {}).get("AssumeRolePolicyDocument")
    )
    where = f"{scope.qualified(role_id)} trust policy"
    if not isinstance(document, dict):
        return [_anything(where, "not known here")]
    raw = document.get("Statement", [])
    out: list[Statement] = []
    for i, raw_st in enumerate(raw if isinstance(raw, list) else [raw]):
        present: bool | None = True
        st = raw_st
        if isinstance(st, dict) and "Fn::If" in st and len(st) == 1:
            present, st = None, st["Fn::If"][1]  # the branch that grants (the other is usually NoValue)
        if not isinstance(st, dict):
            out.append(_anything(f"{where}, statement {i}", "not known here"))
            continue
        values = _statement_values(scope, st, rename)
        principal = scope.resolve(st.get("Principal"))
        named = (
            None if "NotPrincipal" in st else _names_service(principal, service, None)
        )  # AWS::Region: a placeholder here
        if named is False:
            continue
        body = {k: v for k, v in values.items() if k not in ("Principal", "NotPrincipal")}
        body["Resource"] = "*"
        out += statements_of({"Statement": [{"Sid": str(i), **body}]}, where, present if named else None)
    return out
