"""JSON that strict parsers accept: RFC 8259 has no NaN or Infinity, which Python's json writes bare."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float (an infinite ratio, an undefined rate) as None (null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def dumps(document: Any, indent: int | None = 2) -> str:
    return json.dumps(finite(document), indent=indent, default=str, allow_nan=False)
