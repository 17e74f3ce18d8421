"""`--format json` is strict JSON: no bare NaN or Infinity, which strict parsers reject."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from safedeploy.cli.render import output


def refuse(constant: str) -> Any:
    raise ValueError(f"not JSON: {constant}")


def test_non_finite_numbers_become_null(capsys: pytest.CaptureFixture[str]) -> None:
    document = {"effect": math.inf, "series": [1.5, -math.inf, math.nan], "nested": {"p": (math.nan,)}}
    output("json")._print(document)  # type: ignore[attr-defined]
    printed = capsys.readouterr().out
    assert json.loads(printed, parse_constant=refuse) == {
        "effect": None,
        "series": [1.5, None, None],
        "nested": {"p": [None]},
    }
