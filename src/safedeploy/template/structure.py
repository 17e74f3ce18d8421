"""The shape CloudFormation requires of a template, checked once when it is read: sections that are
maps, resources with a type, intrinsic functions with the arguments they take, numbers that are
numbers. Everything after this (translation, scope, rules) may then rely on that shape; a template
without it is an SD002 finding that names where, never a Python error half-way through a rule.

The shapes are CloudFormation's (Template anatomy; Intrinsic function reference).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from safedeploy.errors import TemplateError

MAP_SECTIONS = (
    "Parameters",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
    "Globals",
    "Metadata",
    "Rules",
)


def _string(v: Any) -> bool:
    return isinstance(v, str)


def _intrinsic(v: Any) -> bool:
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)).startswith(("Fn::", "Ref"))


def _list_or_intrinsic(v: Any) -> bool:
    return isinstance(v, list) or _intrinsic(v)


def _pair(first: Callable[[Any], bool], second: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and len(v) == 2 and first(v[0]) and second(v[1])


def _getatt(v: Any) -> bool:
    if isinstance(v, str):
        logical, dot, attr = v.partition(".")
        return bool(logical and dot and attr)
    return (
        isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and (_string(v[1]) or _intrinsic(v[1]))
    )


def _sub(v: Any) -> bool:
    return isinstance(v, str) or _pair(_string, lambda m: isinstance(m, dict))(v)


def _if(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)


def _count(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and low <= len(v) <= high


# What each intrinsic takes; a value it cannot take is a template CloudFormation rejects.
SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "Ref": (_string, "a logical ID or parameter name"),
    "Fn::GetAtt": (_getatt, "LogicalId.Attribute or [LogicalId, Attribute]"),
    "Fn::Sub": (_sub, "a string or [string, {variables}]"),
    "Fn::Join": (_pair(_string, _list_or_intrinsic), "[delimiter, [values]]"),
    "Fn::Select": (_pair(lambda i: True, _list_or_intrinsic), "[index, [values]]"),
    "Fn::Split": (_pair(_string, lambda s: True), "[delimiter, string]"),
    "Fn::If": (_if, "[condition name, value if true, value if false]"),
    "Fn::Equals": (_count(2, 2), "[value, value]"),
    "Fn::Not": (_count(1, 1), "[condition]"),
    "Fn::And": (_count(2, 10), "2 to 10 conditions"),
    "Fn::Or": (_count(2, 10), "2 to 10 conditions"),
    "Fn::FindInMap": (_count(3, 4), "[map, top-level key, second-level key]"),
    "Fn::Cidr": (_count(3, 3), "[block, count, bits]"),
}


def check_structure(doc: dict[str, Any]) -> None:
    """Raise the first malformation as an SD002 TemplateError naming the resource (or section)."""
    for problem in problems(doc):
        where, message = problem
        resource = where.split("/")[1] if where.startswith("Resources/") and "/" in where else "template"
        raise TemplateError(f"{where}: {message}", "SD002", resource=resource)


def problems(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    found = next(_sections(doc), None) or next(_resources(doc), None)
    if found:
        yield found
        return
    for name, value in doc.items():
        found = next(_values(value, str(name)), None)
        if found:
            yield found
            return


def _sections(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for section in MAP_SECTIONS:
        if section in doc and not isinstance(doc[section], dict):
            yield section, f"must be a map, got {_kind(doc[section])}"
    for section in ("Parameters", "Outputs", "Globals"):
        for name, entry in (doc.get(section) or {}).items():
            if name != "Fn::Transform" and not isinstance(entry, dict):
                yield f"{section}/{name}", f"must be a map, got {_kind(entry)}"


def _resources(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for logical_id, resource in doc["Resources"].items():
        where = f"Resources/{logical_id}"
        if logical_id == "Fn::Transform":  # AWS::Include of resources: not read here
            continue
        if not isinstance(resource, dict) or _intrinsic(resource):
            got = "an intrinsic function" if _intrinsic(resource) else _kind(resource)
            yield where, f"a resource must be a map with a Type, got {got}"
        elif not isinstance(resource.get("Type"), str):
            yield where, f"Type must be a resource type name, got {_kind(resource.get('Type'))}"
        else:
            for key in ("Properties", "Metadata"):
                if key in resource and not isinstance(resource[key], dict):
                    yield f"{where}/{key}", f"must be a map, got {_kind(resource[key])}"


def _values(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Intrinsics with arguments they cannot take, and numbers that are not finite, anywhere."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            yield path, f"{item} is not a number CloudFormation accepts"
        elif isinstance(item, list):
            stack.extend((v, f"{path}/{i}") for i, v in enumerate(item))
        elif isinstance(item, dict):
            if len(item) == 1:
                ((fn, args),) = item.items()
                shape = SHAPES.get(str(fn))
                if shape and not shape[0](args):
                    yield path, f"{fn} takes {shape[1]}, got {_short(args)}"
            stack.extend((v, f"{path}/{k}") for k, v in item.items())


def _kind(value: Any) -> str:
    return {dict: "a map", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), _short(value)
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
