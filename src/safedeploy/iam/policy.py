"""IAM's evaluation logic for identity-based policies, three-valued.

AWS's policy evaluation logic (IAM user guide, "Policy evaluation logic"): an explicit Deny in any
statement that applies wins; otherwise an Allow that applies allows; otherwise the request is
implicitly denied. A statement applies when its Action (or NotAction) and Resource (or NotResource)
match the request and every condition holds. Here any of those may be unknown (a value only
CloudFormation knows, a statement under an open Fn::If, a condition key whose value is not known):
then the decision says so instead of guessing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from safedeploy.iam.match import Shape, matches


class Decision(enum.Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "implicitly denied"
    UNKNOWN = "unknown"

    @property
    def denied(self) -> bool:
        return self in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""  # where it comes from: "role X, policy Y, statement Z"
    present: bool | None = True  # None: under a condition (Fn::If) that is not decided here


@dataclass(frozen=True)
class Request:
    action: str  # "lambda:UpdateAlias"
    resource: str  # the ARN the action is authorized against (or "*")
    # Condition keys with their values; a key mapped to None is known to be absent from the request.
    # A key the conditions name that is not here is unknown.
    context: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    because: tuple[str, ...] = ()  # the statements that decided it, or what was unknown

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def statements_of(document: Any, source: str, present: bool | None = True) -> list[Statement]:
    """The statements of one policy document (already resolved: intrinsics evaluated)."""
    if not isinstance(document, dict):
        return []
    raw = document.get("Statement", [])
    out: list[Statement] = []
    for i, st in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(st, dict):
            continue
        sid = st.get("Sid", str(i))
        out.append(
            Statement(
                effect=str(st.get("Effect", "")),
                actions=_as_tuple(st.get("Action")),
                not_actions=_as_tuple(st["NotAction"]) if "NotAction" in st else None,
                resources=_as_tuple(st.get("Resource")),
                not_resources=_as_tuple(st["NotResource"]) if "NotResource" in st else None,
                conditions=st.get("Condition") or {},
                source=f"{source}, statement {sid}",
                present=present,
            )
        )
    return out


def _any(values: Iterable[bool | None]) -> bool | None:
    result: bool | None = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _all(values: Iterable[bool | None]) -> bool | None:
    return _not(_any(_not(v) for v in values))


# Condition operators evaluated here (IAM JSON policy reference, "Condition operators"); others
# (IP, date, numeric, binary, ForAllValues/ForAnyValue on multivalued keys) are unknown.
_STRING_OPS = {
    "StringEquals": (False, False, False),  # (negated, like, case-insensitive)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
    "ArnEquals": (False, True, False),
    "ArnLike": (False, True, False),
    "ArnNotEquals": (True, True, False),
    "ArnNotLike": (True, True, False),
}


def _condition_block(
    op: str, body: Mapping[str, Any], req: Request, shapes: Mapping[str, Shape]
) -> bool | None:
    base, if_exists = (op[: -len("IfExists")], True) if op.endswith("IfExists") else (op, False)
    if base == "Null":
        return _all(
            None if key not in req.context else (req.context[key] is None) == (str(v).lower() == "true")
            for key, v in body.items()
        )
    if base == "Bool":
        return _all(
            None
            if key not in req.context
            else (if_exists if req.context[key] is None else str(req.context[key]).lower() == str(v).lower())
            for key, v in body.items()
        )
    if base not in _STRING_OPS:
        return None
    negated, like, nocase = _STRING_OPS[base]
    results: list[bool | None] = []
    for key, wanted in body.items():
        if key not in req.context:
            results.append(None)
            continue
        actual = req.context[key]
        if actual is None:  # a key absent from the request: only negated and IfExists operators hold
            results.append(bool(negated or if_exists))
            continue
        one = _any(
            matches(w, actual, shapes, nocase=nocase) if like else _equal(w, actual, nocase)
            for w in _as_tuple(wanted)
        )
        results.append(_not(one) if negated else one)
    return _all(results)


def _equal(wanted: str, actual: str, nocase: bool) -> bool | None:
    if nocase:
        wanted, actual = wanted.lower(), actual.lower()
    if wanted == actual:
        return True
    return None if "<" in wanted + actual else False


def _conditions_hold(st: Statement, req: Request, shapes: Mapping[str, Shape]) -> bool | None:
    return _all(
        _condition_block(str(op), body, req, shapes) if isinstance(body, Mapping) else None
        for op, body in st.conditions.items()
    )


def _applies(st: Statement, req: Request, shapes: Mapping[str, Shape]) -> bool | None:
    if st.present is False:
        return False
    if st.not_actions is not None:
        action = _not(_any(matches(a, req.action, nocase=True) for a in st.not_actions))
    else:
        action = _any(matches(a, req.action, nocase=True) for a in st.actions)
    if action is False:
        return False
    if st.not_resources is not None:
        resource = _not(_any(matches(r, req.resource, shapes) for r in st.not_resources))
    else:
        resource = _any(matches(r, req.resource, shapes) for r in st.resources)
    if resource is False:
        return False
    applies = _all([action, resource, _conditions_hold(st, req, shapes)])
    if applies is True and st.present is None:
        return None
    return applies


def evaluate(
    statements: Sequence[Statement], request: Request, shapes: Mapping[str, Shape] | None = None
) -> Verdict:
    """Explicit deny > allow > implicit deny, each possibly unknown."""
    shapes = shapes or {}
    deny = [(st, _applies(st, request, shapes)) for st in statements if st.effect == "Deny"]
    allow = [(st, _applies(st, request, shapes)) for st in statements if st.effect == "Allow"]
    sure_deny = [st.source for st, a in deny if a is True]
    if sure_deny:
        return Verdict(Decision.EXPLICIT_DENY, tuple(sure_deny))
    maybe_deny = [st.source for st, a in deny if a is None]
    sure_allow = [st.source for st, a in allow if a is True]
    maybe_allow = [st.source for st, a in allow if a is None]
    if maybe_deny and not sure_allow and not maybe_allow:
        return Verdict(Decision.IMPLICIT_DENY, ())  # denied either way
    if maybe_deny:
        return Verdict(Decision.UNKNOWN, tuple(f"{s} (a Deny that may apply)" for s in maybe_deny))
    if sure_allow:
        return Verdict(Decision.ALLOWED, tuple(sure_allow))
    if maybe_allow:
        return Verdict(Decision.UNKNOWN, tuple(f"{s} (may apply)" for s in maybe_allow))
    return Verdict(Decision.IMPLICIT_DENY, ())
