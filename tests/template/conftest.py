from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safedeploy.template.loader import load_and_translate
from safedeploy.template.scope import Scope, build_scope

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root_cfn() -> dict[str, Any]:
    return load_and_translate(ROOT / "template.yaml").cfn


@pytest.fixture(scope="session")
def hooks_cfn() -> dict[str, Any]:
    return load_and_translate(ROOT / "hooks" / "template.yaml").cfn


@pytest.fixture(scope="session")
def alarms_cfn() -> dict[str, Any]:
    return load_and_translate(ROOT / "alarms" / "template.yaml").cfn


@pytest.fixture(scope="session")
def root_scope() -> Scope:
    return build_scope(ROOT / "template.yaml")
