"""Assertions on the TRANSLATED CloudFormation (what `sam deploy` submits), not on the YAML text."""

from __future__ import annotations

import tomllib
from typing import Any

import boto3
import pytest
from moto import mock_aws
from safedeploy_core.deadline import Reserve
from safedeploy_core.timing import deployment_config, detection_seconds, fit

from safedeploy.rehearsal.placeholders import alarm_arguments
from safedeploy.template.deployments import deployments
from safedeploy.template.samconfig import environment_settings, parameter_overrides
from safedeploy.template.scope import Scope
from tests.template.conftest import ROOT

GATES = ["ErrorRateGateAlarm", "LatencyGateAlarm", "TimeoutGateAlarm", "ThrottleGateAlarm"]


def resources_of(cfn: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def test_alias_update_policy_names_both_hooks(root_cfn: dict[str, Any]) -> None:
    for fn in ("HelloWorldFunction", "EchoFunction"):
        policy = root_cfn["Resources"][f"{fn}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert policy["BeforeAllowTrafficHook"] == {"Fn::GetAtt": ["Hooks", "Outputs.PreTrafficHookName"]}
        assert policy["AfterAllowTrafficHook"] == {"Fn::GetAtt": ["Hooks", "Outputs.PostTrafficHookName"]}
        assert policy["DeploymentGroupName"] == {"Ref": f"{fn}DeploymentGroup"}


def test_deployment_groups_gate_on_the_gate_outputs_only_and_roll_back(root_cfn: dict[str, Any]) -> None:
    hello = root_cfn["Resources"]["HelloWorldFunctionDeploymentGroup"]["Properties"]
    names = [a["Name"] for a in hello["AlarmConfiguration"]["Alarms"]]
    assert names == [
        {"Fn::GetAtt": ["HelloWorldAlarms", f"Outputs.{o}"]} for o in [*GATES, "EmfErrorRateGateAlarm"]
    ]
    echo = root_cfn["Resources"]["EchoFunctionDeploymentGroup"]["Properties"]
    assert [a["Name"] for a in echo["AlarmConfiguration"]["Alarms"]] == [
        {"Fn::GetAtt": ["EchoAlarms", f"Outputs.{o}"]} for o in GATES
    ]
    for group in (hello, echo):
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert group["AutoRollbackConfiguration"] == {
            "Enabled": True,
            "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"],
        }
        assert group["ServiceRoleArn"] == {"Fn::GetAtt": ["Hooks", "Outputs.CodeDeployRoleArn"]}
        assert group["TriggerConfigurations"][0]["TriggerTargetArn"] == {"Ref": "NotificationTopic"}
    assert "CodeDeployServiceRole" not in root_cfn["Resources"]  # every preference brings its Role


def test_no_ops_alarm_reaches_a_deployment_group(root_scope: Scope) -> None:
    for dep in deployments(root_scope):
        for alarm in dep.alarms:
            assert alarm.logical_id is not None and alarm.logical_id.endswith("Gate")
            assert "-gate-" in alarm.name and "-ops-" not in alarm.name


@pytest.mark.parametrize("gate", ["ErrorRateGate", "LatencyGate", "TimeoutGate"])
def test_version_gates_watch_only_the_new_version(alarms_cfn: dict[str, Any], gate: str) -> None:
    props = alarms_cfn["Resources"][gate]["Properties"]
    stats = [m for m in props["Metrics"] if "MetricStat" in m]
    for m in stats:
        assert m["MetricStat"]["Period"] == 60
        assert m["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
        assert m["MetricStat"]["Metric"]["Dimensions"] == [
            {"Name": "FunctionName", "Value": {"Ref": "FunctionName"}},
            {"Name": "Resource", "Value": {"Fn::Sub": "${FunctionName}:${AliasName}"}},
            {"Name": "ExecutedVersion", "Value": {"Ref": "FunctionVersion"}},
        ]
    expression = next(m for m in props["Metrics"] if m.get("ReturnData"))["Expression"]["Fn::Sub"]
    assert expression.startswith("IF(invocations >= ${MinInvocations}, ")
    assert props["TreatMissingData"] == "notBreaching"
    assert props["EvaluationPeriods"] == {"Ref": "GateEvaluationPeriods"}
    assert props["DatapointsToAlarm"] == {"Ref": "GateDatapointsToAlarm"}


def test_error_rate_gate_is_a_rate_not_a_count(alarms_cfn: dict[str, Any]) -> None:
    props = alarms_cfn["Resources"]["ErrorRateGate"]["Properties"]
    expression = next(m for m in props["Metrics"] if m.get("ReturnData"))["Expression"]["Fn::Sub"]
    assert expression == "IF(invocations >= ${MinInvocations}, 100 * errors / invocations, 0)"
    assert {
        m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m
    } == {"errors": "Errors", "invocations": "Invocations"}


def test_throttle_gate_is_on_the_alias(alarms_cfn: dict[str, Any]) -> None:
    props = alarms_cfn["Resources"]["ThrottleGate"]["Properties"]
    assert props["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "FunctionName"}},
        {"Name": "Resource", "Value": {"Fn::Sub": "${FunctionName}:${AliasName}"}},
    ]
    # the one gate that is not the new version's says so where people read it
    assert "whole alias" in props["AlarmDescription"]["Fn::Sub"]


def test_emf_gate_is_high_resolution_m_of_n(alarms_cfn: dict[str, Any]) -> None:
    props = alarms_cfn["Resources"]["EmfErrorRateGate"]["Properties"]
    assert alarms_cfn["Resources"]["EmfErrorRateGate"]["Condition"] == "HasEmf"
    assert {m["MetricStat"]["Period"] for m in props["Metrics"] if "MetricStat" in m} == {10}
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (6, 3)


def test_ops_tier_follows_the_recommended_periods(alarms_cfn: dict[str, Any]) -> None:
    res = alarms_cfn["Resources"]
    expected = {
        "OpsErrors": (60, 3, 3),
        "OpsThrottles": (60, 5, 5),
        "OpsDuration": (60, 15, 15),
        "OpsApi5xx": (60, 3, 3),
        "OpsApi4xx": (60, 5, 5),
        "OpsApiLatency": (60, 5, 5),
    }
    for name, (period, evaluations, datapoints) in expected.items():
        p = res[name]["Properties"]
        assert (p["Period"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (
            period,
            evaluations,
            datapoints,
        )
    assert (
        res["OpsApi5xx"]["Properties"]["Statistic"] == "Average"
        and res["OpsApi5xx"]["Properties"]["Threshold"] == 0.05
    )
    assert res["OpsDuration"]["Properties"]["ExtendedStatistic"] == "p90"
    assert res["ServiceHealth"]["Type"] == "AWS::CloudWatch::CompositeAlarm"
    assert res["ServiceHealth"]["Condition"] == "WantsServiceHealth"


def _statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        s
        for p in cfn["Resources"][role]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if isinstance(s, dict) and "Effect" in s
    ]


def test_hook_iam_is_scoped(hooks_cfn: dict[str, Any]) -> None:
    for role in ("PreTrafficHookRole", "PostTrafficHookRole"):
        statements = {s.get("Sid", str(s["Action"])): s for s in _statements(hooks_cfn, role)}
        report = statements["ReportOwnDeploymentsOnly"]
        assert "codedeploy:PutLifecycleEventHookExecutionStatus" in report["Action"]
        assert report["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}"
            ":deploymentgroup:${DeploymentApplicationName}/*"
        }
        invoke = statements["InvokeTargetVersionsOnly"]
        assert invoke["Action"] == "lambda:InvokeFunction"
        assert invoke["Resource"] == {
            "Fn::Split": [
                ",",
                {"Fn::Sub": ["${Arns}:*", {"Arns": {"Fn::Join": [":*,", {"Ref": "TargetFunctionArns"}]}}]},
            ]
        }
        wildcard = [s["Sid"] for s in statements.values() if s.get("Resource") == "*"]
        assert wildcard in ([], ["ReadVersionMetrics"])  # GetMetricData has no resource-level permissions


def test_hook_iam_resolves_to_the_target_versions(root_scope: Scope) -> None:
    hooks = root_scope.children["Hooks"]
    policies = hooks.resolve(hooks.resources["PreTrafficHookRole"]["Properties"]["Policies"])
    invoke = next(
        s
        for policy in policies
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Sid") == "InvokeTargetVersionsOnly"
    )
    assert invoke["Resource"] == [
        "arn:aws:lambda:us-east-1:123456789012:function:<HelloWorldFunction>:*",
        "arn:aws:lambda:us-east-1:123456789012:function:<EchoFunction>:*",
    ]


def test_codedeploy_role_invokes_exactly_the_two_hooks(hooks_cfn: dict[str, Any]) -> None:
    statements = {s.get("Sid", str(s["Action"])): s for s in _statements(hooks_cfn, "CodeDeployRole")}
    assert statements["InvokeTheseHooksOnly"]["Resource"] == [
        {"Fn::GetAtt": ["PreTrafficHook", "Arn"]},
        {"Fn::GetAtt": ["PostTrafficHook", "Arn"]},
    ]
    trust = hooks_cfn["Resources"]["CodeDeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "codedeploy.amazonaws.com"}


def test_hooks_read_only_the_tags_of_their_targets(hooks_cfn: dict[str, Any]) -> None:
    for role in ("PreTrafficHookRole", "PostTrafficHookRole"):
        actions = {
            a
            for s in _statements(hooks_cfn, role)
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert "lambda:ListTags" in actions
        assert "lambda:GetFunction" not in actions  # it returns the targets' environment and code too


def test_codedeploy_role_is_assumable_for_this_account_only(hooks_cfn: dict[str, Any]) -> None:
    trust = hooks_cfn["Resources"]["CodeDeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_a_hook_that_cannot_report_ends_in_the_dead_letter_consumer(hooks_cfn: dict[str, Any]) -> None:
    res = hooks_cfn["Resources"]
    queue = {"Fn::GetAtt": ["LostReportQueue", "Arn"]}
    for hook in ("PreTrafficHook", "PostTrafficHook"):
        assert res[hook]["Properties"]["DeadLetterConfig"] == {"TargetArn": queue}
        sends = [s for s in _statements(hooks_cfn, f"{hook}Role") if s["Action"] == "sqs:SendMessage"]
        assert sends and sends[0]["Resource"] == queue
    mapping = res["LostReportFunctionLostReports"]["Properties"]
    assert mapping["EventSourceArn"] == queue and mapping["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]
    consumer = {s.get("Sid"): s for s in _statements(hooks_cfn, "LostReportFunctionRole")}[
        "FailOrStopOwnDeployments"
    ]
    assert set(consumer["Action"]) == {
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        "codedeploy:StopDeployment",
    }
    assert "deploymentgroup:${DeploymentApplicationName}/*" in consumer["Resource"]["Fn::Sub"]
    # SQS gives a message back after its visibility timeout: at least 6 x the consumer's timeout
    timeout = res["LostReportFunction"]["Properties"]["Timeout"]
    assert res["LostReportQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_a_person_hears_of_failed_hooks_and_lost_events(hooks_cfn: dict[str, Any]) -> None:
    res = hooks_cfn["Resources"]
    watched = set()
    for metric in res["HookFailuresAlarm"]["Properties"]["Metrics"]:
        stat = metric.get("MetricStat")
        if stat:
            (dimension,) = stat["Metric"]["Dimensions"]
            watched.add((stat["Metric"]["MetricName"], dimension["Value"]["Ref"], stat["Stat"]))
    assert watched == {
        (name, hook, "Sum")
        for name in ("Errors", "DeadLetterErrors")
        for hook in ("PreTrafficHook", "PostTrafficHook")
    } | {("Errors", "LostReportFunction", "Sum")}
    for alarm in ("HookFailuresAlarm", "HookEventAgeAlarm", "LostReportQueueAgeAlarm"):
        props = res[alarm]["Properties"]
        assert props["AlarmActions"] == {
            "Fn::If": ["HasTopic", [{"Ref": "NotificationTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
        assert props["TreatMissingData"] == "notBreaching"


def test_hooks_report_before_their_timeout_and_retry_briefly(hooks_cfn: dict[str, Any]) -> None:
    res = hooks_cfn["Resources"]
    for hook in ("PreTrafficHook", "PostTrafficHook"):
        props = res[hook]["Properties"]
        # the reserve for the report is scaled to the timeout, not fixed in the template
        assert "DEADLINE_MARGIN_S" not in props["Environment"]["Variables"]
        margin = Reserve.for_budget(props["Timeout"]).total_s
        assert props["Timeout"] <= 180 and margin < props["Timeout"]
        # 2 retries (3 tries); worst case a broken hook holds the deployment 3 x timeout plus retry
        # delays (1 + 2 min), far below CodeDeploy's hour; the third try starts within the event's
        # maximum age, and a throttled event is dead-lettered at that age, well before the hour
        invoke = res[f"{hook}EventInvokeConfig"]["Properties"]
        assert invoke["MaximumRetryAttempts"] == 2 and invoke["Qualifier"] == "$LATEST"
        assert 2 * props["Timeout"] + 180 < invoke["MaximumEventAgeInSeconds"] <= 15 * 60
        assert 3 * props["Timeout"] + 180 <= 15 * 60


def test_no_cycle_through_the_api(root_cfn: dict[str, Any]) -> None:
    hooks_params = root_cfn["Resources"]["Hooks"]["Properties"]["Parameters"]
    text = str(hooks_params)
    assert "ServerlessRestApi" not in text and "Aliaslive" not in text
    assert hooks_params["ApiUrlParameterName"] == {"Fn::Sub": "/${AWS::StackName}/api-url"}


def test_every_alarm_definition_is_accepted_by_moto(root_scope: Scope) -> None:
    mapping = {
        "HelloWorldFunction": "hello-fn",
        "EchoFunction": "echo-fn",
        "HelloWorldFunction.Version": "2",
        "EchoFunction.Version": "2",
    }
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        for dep in deployments(root_scope):
            for alarm in dep.alarms:
                cloudwatch.put_metric_alarm(**alarm_arguments(alarm.props, mapping))
        for scope in root_scope.children.values():
            for logical, res in scope.resources.items():
                if res["Type"] == "AWS::CloudWatch::Alarm" and scope.active(logical):
                    cloudwatch.put_metric_alarm(**alarm_arguments(scope.resolve(res["Properties"]), mapping))
        for logical, res in root_scope.resources.items():
            if res["Type"] == "AWS::CloudWatch::Alarm" and root_scope.active(logical):
                cloudwatch.put_metric_alarm(**alarm_arguments(root_scope.resolve(res["Properties"]), mapping))
        # hello_world: 5 gates + 6 ops (with API); echo: 4 gates + 3 ops; the hooks' own health: 3; the
        # stack's one on the account's concurrency (the packs' per-function ones are off)
        assert len(cloudwatch.describe_alarms()["MetricAlarms"]) == 11 + 7 + 3 + 1


@pytest.mark.parametrize("env", ["default", "staging", "prod"])
def test_every_environment_is_its_own_stack_and_its_gates_fit_the_shift(env: str) -> None:
    from safedeploy.template.scope import build_scope

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    settings = environment_settings(config, env)
    assert settings["stack_name"] == f"safe-deploy-{'dev' if env == 'default' else env}"
    assert "CAPABILITY_AUTO_EXPAND" in settings["capabilities"] and settings["resolve_s3"] is True
    assert config[env]["validate"]["parameters"]["lint"] is True
    scope = build_scope(ROOT / "template.yaml", parameter_overrides(settings))
    for dep in deployments(scope):
        assert dep.config is not None and dep.config.kind != "all-at-once"
        for alarm in dep.alarms:
            assert alarm.period_s and alarm.evaluation_periods
            detect = detection_seconds(alarm.period_s, alarm.evaluation_periods, alarm.datapoints_to_alarm)
            post_s = dep.post_hook.timeout_s if dep.post_hook else 0
            # "after-shift": at worst after all traffic moved, while the post-traffic hook still runs
            assert fit(detect, dep.config, post_s or 0) != "never", (env, alarm.name)


def test_staging_linear_cannot_gate_its_first_minute() -> None:
    config = deployment_config("Linear10PercentEvery1Minute")
    assert config is not None and fit(detection_seconds(60, 1), config) == "whole-shift"


def test_hooks_are_never_deployed_through_codedeploy(hooks_cfn: dict[str, Any]) -> None:
    from safedeploy.template.loader import load_template

    sam = load_template(ROOT / "hooks" / "template.yaml")
    assert sam["Globals"]["Function"]["DeploymentPreference"] == {"Enabled": False}
    assert not [r for r in hooks_cfn["Resources"].values() if r["Type"].startswith("AWS::CodeDeploy::")]
    assert not [r for r in hooks_cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Alias"]


def test_the_step_judge_runs_a_minute_and_looks_as_often_as_its_parameter_says(
    hooks_cfn: dict[str, Any],
) -> None:
    from safedeploy_core.timing import STEP_LOOK_S

    judge = hooks_cfn["Resources"]["StepJudgeFunction"]["Properties"]
    assert judge["Environment"]["Variables"]["STEP_LOOK_S"] == {"Ref": "StepLookSeconds"}
    assert hooks_cfn["Parameters"]["StepLookSeconds"]["Default"] == STEP_LOOK_S
    assert judge["Timeout"] == 60  # a run ends before the next minute's starts
