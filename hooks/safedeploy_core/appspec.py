"""Reading the AppSpec of a Lambda deployment (the revision CloudFormation hands to CodeDeploy).

Shape (CodeDeploy AppSpec 'resources' and 'hooks' sections for AWS Lambda):
{"version": 0.0,
 "Resources": [{"<Logical>": {"Type": "AWS::Lambda::Function",
                 "Properties": {"Name": "fn", "Alias": "live",
                                "CurrentVersion": "1", "TargetVersion": "2"}}}],
 "Hooks": [{"BeforeAllowTraffic": "pre-hook"},
           {"AfterAllowTraffic": "post-hook"}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from safedeploy_core.errors import AppSpecError


@dataclass(frozen=True)
class Target:
    function_name: str
    alias: str
    current_version: str
    target_version: str
    before_allow_traffic: str | None = None
    after_allow_traffic: str | None = None


def _case_insensitive(mapping: dict[str, Any], key: str) -> Any:
    for k, v in mapping.items():
        if k.lower() == key.lower():
            return v
    return None


def parse_appspec(content: str) -> Target:
    try:
        doc = json.loads(content)
    except (TypeError, ValueError) as exc:
        raise AppSpecError(f"AppSpec is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise AppSpecError("AppSpec must be a JSON object")
    resources = _case_insensitive(doc, "Resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
        raise AppSpecError("AppSpec has no Resources[0]")
    if len(resources) != 1:
        raise AppSpecError(f"AppSpec lists {len(resources)} resources; a Lambda deployment has exactly one")
    (body,) = resources[0].values()
    props = _case_insensitive(body, "Properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise AppSpecError("AppSpec Resources[0] has no Properties")
    values = {}
    for key in ("Name", "Alias", "CurrentVersion", "TargetVersion"):
        value = _case_insensitive(props, key)
        if value in (None, ""):
            raise AppSpecError(f"AppSpec Resources[0].Properties.{key} is missing")
        values[key] = str(value)
    hooks: dict[str, str] = {}
    for entry in _case_insensitive(doc, "Hooks") or []:
        if isinstance(entry, dict):
            hooks.update({str(k): str(v) for k, v in entry.items()})
    return Target(
        function_name=values["Name"],
        alias=values["Alias"],
        current_version=values["CurrentVersion"],
        target_version=values["TargetVersion"],
        before_allow_traffic=hooks.get("BeforeAllowTraffic"),
        after_allow_traffic=hooks.get("AfterAllowTraffic"),
    )


def render_appspec(function: str, alias: str, current: str, target: str, hooks: dict[str, str]) -> str:
    """The AppSpec CloudFormation hands CodeDeploy for a Lambda alias update (inverse of parse_appspec)."""
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    function: {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": function,
                            "Alias": alias,
                            "CurrentVersion": current,
                            "TargetVersion": target,
                        },
                    }
                }
            ],
            "Hooks": [{phase: name} for phase, name in hooks.items()],
        }
    )


def function_name_of(name_or_arn: str) -> str:
    """`fn`, `fn:live`, `arn:aws:lambda:r:a:function:fn[:qualifier]` -> `fn`."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn.split(":", 1)[0]
