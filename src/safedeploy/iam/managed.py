"""AWS managed policies as data: what AWS fixes in advance is not an unknown.

The contents ship in data/managed_policies.json (written by tools/managed_policies.py, which names its
source and each policy's version). A managed policy that is not shipped is reported as not known.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def _shipped() -> dict[str, Any]:
    text = resources.files("safedeploy.iam").joinpath("data/managed_policies.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def source() -> str:
    return str(_shipped()["source"])


def document(arn: str) -> dict[str, Any] | None:
    """The policy document of the AWS managed policy `arn` (any partition), None when not shipped."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[4] != "aws" or not parts[5].startswith("policy/"):
        return None
    name = parts[5].rsplit("/", 1)[-1]
    found = _shipped()["policies"].get(name)
    if found is None or found["Arn"].split(":", 5)[5] != parts[5]:
        return None
    return found["Document"]  # type: ignore[no-any-return]
