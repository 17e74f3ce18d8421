"""Gate alarms of a deployment, read from its deployment group (so any template's alarms are found)."""

from __future__ import annotations

from typing import Any

from safedeploy_core.codedeploy import Deployment
from safedeploy_core.smoke import CheckResult


def gate_alarm_names(codedeploy: Any, deployment: Deployment) -> list[str]:
    group = codedeploy.get_deployment_group(
        applicationName=deployment.application_name, deploymentGroupName=deployment.group_name
    )["deploymentGroupInfo"]
    config = group.get("alarmConfiguration") or {}
    if not config.get("enabled", False):
        return []
    return [a["name"] for a in config.get("alarms", []) if a.get("name")]


def alarm_states(cloudwatch: Any, names: list[str]) -> dict[str, str]:
    states: dict[str, str] = {}
    for start in range(0, len(names), 100):
        page = cloudwatch.describe_alarms(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            states[alarm["AlarmName"]] = alarm["StateValue"]
    return states


def check_gate_alarms(codedeploy: Any, cloudwatch: Any, deployment: Deployment) -> list[CheckResult]:
    names = gate_alarm_names(codedeploy, deployment)
    states = alarm_states(cloudwatch, names) if names else {}
    results = []
    for name in names:
        state = states.get(name)
        if state is None:
            results.append(CheckResult(f"alarm {name}", False, "alarm does not exist", 0.0))
        else:
            passed = state != "ALARM"
            results.append(CheckResult(f"alarm {name}", passed, f"state {state}", 0.0))
    return results
