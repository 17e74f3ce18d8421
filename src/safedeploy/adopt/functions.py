"""Which functions `init` protects, and what in the template it cannot edit (one line each).

Works on the plain template (`template.loader.load_template`): nothing from the template is run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from safedeploy.template.loader import is_sam

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
# Event types through which a function serves traffic (SAM's event source types).
TRAFFIC_EVENTS = frozenset(
    {
        "Api",
        "HttpApi",
        "SQS",
        "Kinesis",
        "DynamoDB",
        "Schedule",
        "ScheduleV2",
        "SNS",
        "EventBridgeRule",
        "CloudWatchEvent",
        "S3",
        "MSK",
        "MQ",
        "SelfManagedKafka",
        "DocumentDB",
        "IoTRule",
        "AlexaSkill",
        "CloudWatchLogs",
        "Cognito",
    }
)
# Settings `init` writes per function; set in Globals they would apply to every function at once.
GLOBAL_SETTINGS = ("AutoPublishAlias", "DeploymentPreference")
INTRINSIC_KEYS = frozenset({"Fn::If", "Fn::Sub", "Fn::Join", "Fn::FindInMap", "Ref", "Fn::GetAtt"})


@dataclass(frozen=True)
class Target:
    """One function to protect, with what `init` needs to know about it."""

    logical_id: str
    routes: list[tuple[str, str]] = field(default_factory=list)  # (METHOD, path) of Api (REST) events
    event_types: list[str] = field(default_factory=list)
    timeout_s: int = 3
    implicit_rest_api: bool = False  # an Api event without RestApiId: SAM's ServerlessRestApi
    # the APIs its routes are on: ("rest" | "http", logical ID of the API resource), or None when an
    # event names its API with something other than a Ref
    apis: frozenset[tuple[str, str] | None] = frozenset()
    http_routes: list[tuple[str, str]] = field(default_factory=list)  # (METHOD, path) of HttpApi events


@dataclass(frozen=True)
class Selection:
    targets: list[Target]
    problems: list[str]  # what cannot be done: exit 2, nothing written
    notes: list[str]  # functions left alone, and why


def _intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSIC_KEYS


def _is_hook(props: dict[str, Any]) -> bool:
    """A CodeDeploy hook of the template's own (SAM requires `Enabled: false` on them)."""
    pref = props.get("DeploymentPreference")
    if isinstance(pref, dict) and pref.get("Enabled") in (False, "false", "False"):
        return True
    name = props.get("FunctionName")
    return isinstance(name, str) and name.startswith("CodeDeployHook_")


def _routes(events: dict[str, Any], kind: str = "Api") -> list[tuple[str, str]]:
    routes = []
    for event in events.values():
        if not isinstance(event, dict) or event.get("Type") != kind:
            continue
        props = event.get("Properties") or {}
        path, method = props.get("Path", "/"), props.get("Method", "ANY")
        if isinstance(path, str) and isinstance(method, str):
            routes.append((method.upper(), path))
    return routes


def _apis(events: dict[str, Any]) -> frozenset[tuple[str, str] | None]:
    """The REST APIs of its Api events: the post-traffic hook sends request cases through one."""
    found: set[tuple[str, str] | None] = set()
    for event in events.values():
        if not isinstance(event, dict) or event.get("Type") != "Api":
            continue
        given = (event.get("Properties") or {}).get("RestApiId")
        if given is None:
            found.add(("rest", "ServerlessRestApi"))
        elif isinstance(given, dict) and isinstance(given.get("Ref"), str):
            found.add(("rest", given["Ref"]))
        else:
            found.add(None)
    return frozenset(found)


def _timeout(props: dict[str, Any], globals_fn: dict[str, Any]) -> int:
    value = props.get("Timeout", globals_fn.get("Timeout", 3))  # Lambda's default is 3 s
    return value if isinstance(value, int) and not isinstance(value, bool) else 3


def _traffic_types(props: dict[str, Any]) -> list[str]:
    events = props.get("Events")
    types = [
        str(e.get("Type"))
        for e in (events.values() if isinstance(events, dict) else [])
        if isinstance(e, dict) and e.get("Type") in TRAFFIC_EVENTS
    ]
    if props.get("FunctionUrlConfig"):
        types.append("FunctionUrl")
    return types


def _function_problems(logical_id: str, resource: dict[str, Any], props: dict[str, Any]) -> list[str]:
    problems = []
    if "Condition" in resource:
        problems.append(
            f"{logical_id}: has `Condition: {resource['Condition']}`; the hooks and alarm pack would name a "
            "function that may not exist: remove the condition or leave the function out (--function)"
        )
    name = props.get("FunctionName")
    if isinstance(name, str):
        problems.append(
            f"{logical_id}: `FunctionName: {name}` is fixed, so the dev, staging and prod stacks `init` sets "
            "up would collide on it: remove it or build it with !Sub and ${AWS::StackName}"
        )
    for key in ("Events", "DeploymentPreference", "AutoPublishAlias", "Tags"):
        if _intrinsic(props.get(key)):
            problems.append(
                f"{logical_id}: `{key}` is an intrinsic function ({next(iter(props[key]))}): "
                "init edits only literal values"
            )
    pref = props.get("DeploymentPreference")
    if isinstance(pref, dict):
        for key in ("Hooks", "Alarms"):
            if _intrinsic(pref.get(key)):
                problems.append(
                    f"{logical_id}: `DeploymentPreference.{key}` is an intrinsic function: init edits only "
                    "literal values"
                )
    if props.get("PackageType") != "Image" and "InlineCode" in props:
        problems.append(
            f"{logical_id}: InlineCode functions cannot be tested by the hooks' smoke cases from a project "
            "file: move the code to a CodeUri folder"
        )
    return problems


def select(template: dict[str, Any], chosen: Iterable[str] = ()) -> Selection:
    """The functions to protect (`chosen`, else every function that serves traffic) and the problems."""
    chosen = list(chosen)
    problems: list[str] = []
    notes: list[str] = []
    if not is_sam(template):
        return Selection([], ["not a SAM template: no `Transform: AWS::Serverless-2016-10-31`"], [])
    resources = template.get("Resources") or {}
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    for key in GLOBAL_SETTINGS:
        if key in globals_fn:
            problems.append(
                f"Globals.Function.{key} is set: init writes these settings per function; move it into "
                "the functions that should have it"
            )
    functions = {
        lid: r for lid, r in resources.items() if isinstance(r, dict) and r.get("Type") == SERVERLESS_FUNCTION
    }
    for missing in sorted(set(chosen) - set(functions)):
        problems.append(f"--function {missing}: no AWS::Serverless::Function of that logical ID")
    targets = []
    for lid, resource in functions.items():
        props = resource.get("Properties") or {}
        if not isinstance(props, dict):
            problems.append(f"{lid}: Properties is not a mapping: init edits only literal values")
            continue
        if chosen and lid not in chosen:
            continue
        if not chosen:
            if _is_hook(props):
                notes.append(f"{lid}: left alone (a CodeDeploy hook)")
                continue
            if not _traffic_types(props):
                notes.append(f"{lid}: left alone (serves no traffic: no API, URL, queue, stream or schedule)")
                continue
        problems.extend(_function_problems(lid, resource, props))
        raw_events = props.get("Events")
        events: dict[str, Any] = raw_events if isinstance(raw_events, dict) else {}
        implicit = any(
            isinstance(e, dict) and e.get("Type") == "Api" and "RestApiId" not in (e.get("Properties") or {})
            for e in events.values()
        )
        targets.append(
            Target(
                lid,
                _routes(events),
                _traffic_types(props),
                _timeout(props, globals_fn),
                implicit,
                _apis(events),
                _routes(events, "HttpApi"),
            )
        )
    if not targets and not problems:
        problems.append("no function serves traffic here: name one with --function")
    return Selection(targets, problems, notes)
