"""Against a real deployed stack: set AWS_SAM_STACK_NAME (and credentials) to run; skipped otherwise.

`AWS_SAM_STACK_NAME=safe-deploy-dev pytest tests/integration/test_deployed_stack.py`
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

STACK = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = pytest.mark.skipif(not STACK, reason="AWS_SAM_STACK_NAME is not set: no deployed stack to test")


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_the_live_alias_answers_through_the_api(outputs: dict[str, str]) -> None:
    response = requests.get(f"{outputs['ApiUrl']}/hello", timeout=10)
    assert response.status_code == 200 and response.json()["message"] == "hello world"


def test_bad_input_is_a_clear_400(outputs: dict[str, str]) -> None:
    response = requests.post(f"{outputs['ApiUrl']}/greetings", json={"nom": "Ada"}, timeout=10)
    assert response.status_code == 400 and "unknown field(s): nom" in response.json()["message"]


def test_the_gate_alarms_exist_and_are_not_in_alarm(outputs: dict[str, str]) -> None:
    import boto3

    names = outputs["HelloWorldGateAlarms"].split(",")
    alarms: list[dict[str, Any]] = boto3.client("cloudwatch").describe_alarms(AlarmNames=names)[
        "MetricAlarms"
    ]
    assert {a["AlarmName"] for a in alarms} == set(names)
    assert all(a["StateValue"] != "ALARM" for a in alarms)
