"""`safedeploy check`: every rule has a template that triggers it and the base template that does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from safedeploy.rules import Finding, check
from safedeploy.template.scope import build_scope

BASE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
    CodeUri: src/
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      AutoPublishAlias: live
      DeploymentPreference:
        Type: {type}
        Alarms: {alarms}
        Hooks:
          PreTraffic: !Ref PreHook
  PreHook:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {hook_name}
      DeploymentPreference:
        Enabled: false
      Environment:
        Variables:
          TARGET: !Ref Fn
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: codedeploy:PutLifecycleEventHookExecutionStatus
              Resource: !Sub "arn:${{AWS::Partition}}:codedeploy:${{AWS::Region}}:${{AWS::AccountId}}:deploymentgroup:${{ServerlessDeploymentApplication}}/*"
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !Sub "${{Fn.Arn}}:*"
  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: GreaterThanThreshold
      Threshold: 2
      EvaluationPeriods: {evaluations}
      DatapointsToAlarm: {evaluations}
      TreatMissingData: {missing}
      Metrics:
        - Id: errors
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/Lambda
              MetricName: Errors
              Dimensions: {dimensions}
            Period: {period}
            Stat: Sum
        - Id: invocations
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/Lambda
              MetricName: Invocations
              Dimensions: {dimensions}
            Period: {period}
            Stat: Sum
        - Id: rate
          Expression: IF(invocations >= 20, 100 * errors / invocations, 0)
"""
GOOD_DIMS = (
    '[{Name: FunctionName, Value: !Ref Fn}, {Name: Resource, Value: !Sub "${Fn}:live"}, '
    "{Name: ExecutedVersion, Value: !GetAtt Fn.Version.Version}]"
)
DEFAULTS = {
    "type": "Canary10Percent5Minutes",
    "alarms": "[!Ref Gate]",
    "hook_name": "CodeDeployHook_pre",
    "evaluations": 1,  # 1 of 1 minute: 190 s at worst (nominal), within the 300-s first step
    "missing": "notBreaching",
    "dimensions": GOOD_DIMS,
    "period": 60,
}


def run(tmp_path: Path, text: str | None = None, **changes: object) -> list[Finding]:
    path = tmp_path / "template.yaml"
    path.write_text(text if text is not None else BASE.format(**{**DEFAULTS, **changes}))
    return check(build_scope(path))


def rules(found: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.resource) for f in found if f.rule != "SD105"}


def test_base_template_is_clean_apart_from_the_first_create_note(tmp_path: Path) -> None:
    found = run(tmp_path)
    assert rules(found) == set()
    assert [(f.rule, f.severity, f.resource) for f in found] == [("SD105", "info", "Fn")]  # once, a note


def test_a_type_neither_predefined_nor_defined_here_is_a_warning_with_the_nearest_name(
    tmp_path: Path,
) -> None:
    # SAM passes any other Type to CodeDeploy as a custom config's name, which may exist in the account.
    found = [f for f in run(tmp_path, type="Canary10Percent7Minutes") if f.rule == "SD101"]
    assert [(f.severity, f.resource) for f in found] == [("warning", "Fn")]
    assert "must exist in the account" in found[0].message and "'Canary10Percent5Minutes'" in found[0].message
    assert not [f for f in run(tmp_path, type="Canary10Percent5Minutes") if f.rule == "SD101"]  # near miss


def test_all_at_once_with_alarms(tmp_path: Path) -> None:
    assert ("SD102", "warning", "Fn") in rules(run(tmp_path, type="AllAtOnce"))


def test_gradual_without_alarms_or_hooks(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace("        Alarms: [!Ref Gate]\n", "")
        .replace("        Hooks:\n          PreTraffic: !Ref PreHook\n", "")
    )
    assert ("SD103", "error", "Fn") in rules(run(tmp_path, text))


def test_more_than_ten_alarms(tmp_path: Path) -> None:
    assert ("SD104", "error", "Fn") in rules(run(tmp_path, alarms="[" + ", ".join(["!Ref Gate"] * 11) + "]"))


def test_hook_the_generated_role_cannot_invoke(tmp_path: Path) -> None:
    found = rules(run(tmp_path, hook_name="my-pre-hook"))
    assert ("SD201", "error", "PreHook") in found


def test_hook_invocable_through_a_role(tmp_path: Path) -> None:
    text = BASE.format(**{**DEFAULTS, "hook_name": "my-pre-hook"}).replace(
        "        Type: Canary10Percent5Minutes\n",
        "        Type: Canary10Percent5Minutes\n        Role: !GetAtt DeployRole.Arn\n",
    )
    role = """
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Principal: {{Service: codedeploy.amazonaws.com}}, Action: sts:AssumeRole}}]}}
      Policies:
        - PolicyName: hooks
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: lambda:InvokeFunction
                Resource: {resource}
"""
    assert ("SD201", "error", "PreHook") not in rules(
        run(tmp_path, text + role.format(resource="!GetAtt PreHook.Arn"))
    )
    other = rules(run(tmp_path, text + role.format(resource='"arn:aws:lambda:*:*:function:other"')))
    assert ("SD201", "error", "PreHook") in other


def test_hook_deployed_through_codedeploy_itself(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace("      DeploymentPreference:\n        Enabled: false\n", "")
        .replace(
            "    CodeUri: src/\n",
            "    CodeUri: src/\n    AutoPublishAlias: live\n    DeploymentPreference:\n"
            "      Type: AllAtOnce\n",
        )
    )
    assert ("SD202", "error", "PreHook") in rules(run(tmp_path, text))


def test_hook_without_the_status_permission(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace(
        "codedeploy:PutLifecycleEventHookExecutionStatus", "codedeploy:GetDeployment"
    )
    assert ("SD203", "error", "PreHook") in rules(run(tmp_path, text))


def test_hook_that_may_not_invoke_the_target_versions(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace('Resource: !Sub "${Fn.Arn}:*"', "Resource: !GetAtt Fn.Arn")
    assert ("SD204", "error", "PreHook") in rules(run(tmp_path, text))


def test_lambda_invoke_policy_given_a_version(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace(
        "      Policies:\n",
        "      Policies:\n        - LambdaInvokePolicy:\n            FunctionName: !Ref Fn.Version\n",
    )
    assert ("SD205", "error", "PreHook") in rules(run(tmp_path, text))


def test_cycle_through_the_implicit_api(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace(
            "          TARGET: !Ref Fn\n", '          URL: !Sub "https://${ServerlessRestApi}.execute-api"\n'
        )
        .replace(
            "      DeploymentPreference:\n        Type:",
            "      Events:\n        Get:\n          Type: Api\n          Properties: {Path: /, Method: get}\n"
            "      DeploymentPreference:\n        Type:",
        )
    )
    found = rules(run(tmp_path, text))
    assert ("SD206", "error", "PreHook") in found


def test_alarm_on_a_version_resource_that_does_not_exist(tmp_path: Path) -> None:
    dims = '[{Name: FunctionName, Value: !Ref Fn}, {Name: Resource, Value: !Sub "${Fn}:3"}]'
    assert ("SD301", "error", "Gate") in rules(run(tmp_path, dimensions=dims))
    no_resource = (
        "[{Name: FunctionName, Value: !Ref Fn}, {Name: ExecutedVersion, Value: !GetAtt Fn.Version.Version}]"
    )
    assert ("SD301", "error", "Gate") in rules(run(tmp_path, dimensions=no_resource))


def test_alarm_on_the_whole_function(tmp_path: Path) -> None:
    assert ("SD302", "warning", "Gate") in rules(
        run(tmp_path, dimensions="[{Name: FunctionName, Value: !Ref Fn}]")
    )


def test_gate_too_slow(tmp_path: Path) -> None:
    assert ("SD303", "error", "Gate") in rules(run(tmp_path, period=300, evaluations=3))
    assert ("SD311", "warning", "Gate") in rules(run(tmp_path, type="Linear10PercentEvery1Minute"))


def test_a_gate_whose_worst_case_outlasts_the_shift_is_a_warning_with_its_parts(tmp_path: Path) -> None:
    # 4 x 60-s periods of a sliding window: at best 180 + 60 = 240 s, at worst (nominal)
    # 60 + 240 + 60 + 10 = 370 s, past the 300-s shift
    found = [f for f in run(tmp_path, evaluations=4) if f.rule in ("SD303", "SD311")]
    assert [(f.rule, f.severity, f.resource) for f in found] == [("SD311", "warning", "Gate")]
    message = found[0].message
    assert "nominal worst case 370 s" in message and "after all traffic moved" in message
    assert "no post-traffic hook keeps the deployment open" in message
    assert "--alarm-poll" in message and "--metric-delay" in message
    # one sentence; the breakdown goes to the JSON
    assert "first step lost" not in message
    assert found[0].details == {
        "worst_case_s": 370,
        "parts_s": {
            "first_step_lost": 60,
            "breaching_periods": 240,
            "metric_delay_assumed": 60,
            "to_next_evaluation": 0,
            "codedeploy_poll_assumed": 10,
        },
    }


def test_a_gate_that_cannot_fire_in_time_even_at_best_is_an_error_and_a_post_hook_can_save_it(
    tmp_path: Path,
) -> None:
    # 6 x 60-s periods: the sliding window's six breaching minutes span more than 300 s from the
    # first bad call whatever the delays: never within the 300-s shift of a 5-minute canary
    slow = run(tmp_path, evaluations=6)
    assert ("SD303", "error", "Gate") in rules(slow)
    # a post-traffic hook that may run 120 s keeps the deployment open long enough: only a warning
    with_post = (
        BASE.format(**{**DEFAULTS, "type": "Canary10Percent5Minutes", "evaluations": 6})
        .replace(
            "          PreTraffic: !Ref PreHook\n",
            "          PreTraffic: !Ref PreHook\n          PostTraffic: !Ref PreHook\n",
        )
        .replace(
            "      FunctionName: {hook}\n".format(hook="CodeDeployHook_pre"),
            "      FunctionName: CodeDeployHook_pre\n      Timeout: 120\n",
        )
    )
    found = rules(run(tmp_path, with_post))
    assert ("SD311", "warning", "Gate") in found and ("SD303", "error", "Gate") not in found


def _count_gate(period: int, evaluations: int = 1) -> str:
    text = BASE.format(**{**DEFAULTS, "type": "Canary10Percent10Minutes"})
    return (
        text[: text.index("  Gate:\n")]
        + f"""  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: {GOOD_DIMS}
      Statistic: Sum
      Period: {period}
      EvaluationPeriods: {evaluations}
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
"""
    )


def test_a_one_period_gate_of_five_minutes_fits_a_ten_minute_canary(tmp_path: Path) -> None:
    # CloudWatch evaluates a 5-minute, 1-period alarm every minute over the last 5 minutes: about a
    # minute after the first bad call at best, 430 s at worst (nominal), within the 600-s canary.
    found = run(tmp_path, _count_gate(300))
    assert not [f for f in found if f.rule in ("SD303", "SD311")]


def test_a_one_hour_gate_is_slow_but_not_proven_unable_to_fire(tmp_path: Path) -> None:
    # 1 x 3600 s: the window slides by the minute, so it can fire within minutes: no SD303
    found = [f for f in run(tmp_path, _count_gate(3600)) if f.rule in ("SD303", "SD311")]
    assert [(f.rule, f.severity) for f in found] == [("SD311", "warning")]
    assert "nominal worst case 3730 s" in found[0].message


def test_the_assumed_figures_move_the_warnings_but_never_make_an_error(tmp_path: Path) -> None:
    from safedeploy_core.timing import Assumptions, assumed

    # 3 x 120 s on a 5-minute canary: proven floor 240 s < 300 s; nominal best 240 + 60 = 300 s
    assert not [f for f in run(tmp_path, period=120, evaluations=3) if f.rule == "SD303"]
    with assumed(Assumptions(poll_s=10, visibility_s=180)):
        found = run(tmp_path, period=120, evaluations=3)
    timing = [(f.rule, f.severity) for f in found if f.rule in ("SD303", "SD311")]
    assert timing == [("SD311", "warning")]
    assert "nominal best case 420 s" in next(f.message for f in found if f.rule == "SD311")


def test_missing_data_treatment(tmp_path: Path) -> None:
    # breaching rolls a healthy version with no traffic yet back; the default only leaves
    # INSUFFICIENT_DATA, which CodeDeploy does not act on: a note
    assert ("SD310", "warning", "Gate") in rules(run(tmp_path, missing="breaching"))
    assert ("SD304", "info", "Gate") in rules(run(tmp_path, missing="missing"))
    assert not [f for f in run(tmp_path) if f.rule in ("SD304", "SD310")]  # notBreaching


def test_count_gate(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS)
    count = (
        text[: text.index("  Gate:\n")]
        + f"""  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: {GOOD_DIMS}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
"""
    )
    assert ("SD305", "warning", "Gate") in rules(run(tmp_path, count))


def test_alarm_not_defined_in_the_template(tmp_path: Path) -> None:
    assert ("SD306", "warning", "Fn") in rules(run(tmp_path, alarms="[some-external-alarm]"))


def test_project_template_has_no_error_finding() -> None:
    root = Path(__file__).resolve().parents[2]
    assert [f for f in check(build_scope(root / "template.yaml")) if f.severity == "error"] == []


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_hooks_and_alarm_findings_name_nested_resources(env: str) -> None:
    root = Path(__file__).resolve().parents[2]
    found = check(build_scope(root / "template.yaml", {"DeploymentType": "Linear10PercentEvery1Minute"}))
    assert {f.resource for f in found if f.rule == "SD311"} >= {"HelloWorldAlarms/ErrorRateGate"}


def test_environment_from_a_parameter_publishes_no_version(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace("Resources:\n", "Parameters:\n  Mode:\n    Type: String\n    Default: none\nResources:\n", 1)
        .replace(
            "      AutoPublishAlias: live\n",
            "      AutoPublishAlias: live\n      Environment:\n"
            "        Variables:\n          MODE: !Ref Mode\n          FIXED: plain\n",
            1,
        )
    )
    found = [f for f in run(tmp_path, text) if f.rule == "SD106"]
    assert [(f.severity, f.resource) for f in found] == [("warning", "Fn")]
    assert "MODE (from Mode)" in found[0].message and "FIXED" not in found[0].message


def test_the_translator_really_ignores_parameter_only_changes() -> None:
    # The fact SD106 rests on, checked against aws-sam-translator itself.
    from safedeploy.template.loader import load_template, translate

    root = Path(__file__).resolve().parents[2]
    template = load_template(root / "template.yaml")
    versions = [
        {k for k in translate(template, {"FaultMode": mode})["Resources"] if "Version" in k}
        for mode in ("none", "error")
    ]
    assert versions[0] == versions[1]


def test_rules_are_offered_to_cfn_lint(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "template.yaml"
    path.write_text(BASE.format(**{**DEFAULTS, "hook_name": "my-pre-hook"}))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"

    def lint(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(cfn_lint),
                "--append-rules",
                str(root / "src/safedeploy/rules/cfnlint"),
                *args,
                "--",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        )

    proc = lint()
    # each rule under its own cfn-lint id, with the severity of its first letter
    assert "E9201 SD201 PreHook:" in proc.stdout and proc.returncode != 0
    # so cfn-lint's own settings reach one rule and no other
    quiet = lint("--ignore-checks", "E9201", "--include-checks", "I")
    assert "E9201" not in quiet.stdout and "I9105 SD105" in quiet.stdout


# ---------------------------------------------------------------- trust: no error that is not proven
def test_unquoted_dates_are_read_as_cloudformation_reads_them(tmp_path: Path) -> None:
    # YAML reads both as dates; CloudFormation reads strings. This used to end in a TypeError.
    text = "AWSTemplateFormatVersion: 2010-09-09\n" + BASE.format(**DEFAULTS).replace(
        '- Version: "2012-10-17"', "- Version: 2012-10-17"
    )
    assert "Version: 2012-10-17\n" in text
    assert rules(run(tmp_path, text)) == set()


def test_serverless_resources_without_the_transform_are_said_to_be_untranslated(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace("Transform: AWS::Serverless-2016-10-31\n", "")
    found = run(tmp_path, text)
    assert [(f.rule, f.severity) for f in found] == [("SD001", "error")]  # no cycle, nothing else
    assert "no `Transform: AWS::Serverless-2016-10-31`" in found[0].message


@pytest.mark.parametrize(
    ("hook_name", "expected"),
    [
        ('!Sub "CodeDeployHook_${AWS::StackName}-pre"', set()),  # the prefix is known: fine
        ('!Join ["", [CodeDeployHook_, !Ref "AWS::StackName"]]', set()),
        # a stack name matches [a-zA-Z][-a-zA-Z0-9]*: no `_`, so this can never start with CodeDeployHook_
        ('!Sub "${AWS::StackName}-pre"', {("SD201", "error", "PreHook")}),
        # a stack named CodeDeployHook followed by `_pre` would be: not proven
        ('!Sub "${AWS::StackName}_pre"', {("SD251", "warning", "PreHook")}),
        ('!Sub "${AWS::StackName}${Suffix}"', {("SD251", "warning", "PreHook")}),
        ('!Sub "Hook_${AWS::StackName}"', {("SD201", "error", "PreHook")}),  # known and wrong
    ],
)
def test_hook_names_built_from_the_stack_name(tmp_path: Path, hook_name: str, expected: set[object]) -> None:
    assert rules(run(tmp_path, hook_name=hook_name)) == expected


def test_a_grant_on_the_new_version_itself_lets_the_hook_invoke_it(tmp_path: Path) -> None:
    exact = BASE.format(**DEFAULTS).replace('Resource: !Sub "${Fn.Arn}:*"', "Resource: !Ref Fn.Version")
    assert rules(run(tmp_path, exact)) == set()
    # near miss: the unqualified function only, which does not cover its versions
    unqualified = BASE.format(**DEFAULTS).replace('Resource: !Sub "${Fn.Arn}:*"', "Resource: !GetAtt Fn.Arn")
    assert ("SD204", "error", "PreHook") in rules(run(tmp_path, unqualified))


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ("  HookDeployments:\n    Type: String\n    Default: 'false'\n", set()),
        ("  HookDeployments:\n    Type: String\n    Default: 'true'\n", {("SD202", "error", "PreHook")}),
        ("  HookDeployments:\n    Type: String\n", {("SD252", "warning", "PreHook")}),  # no value known
    ],
)
def test_a_hook_switched_by_a_parameter(tmp_path: Path, parameter: str, expected: set[object]) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace("Globals:", "Parameters:\n" + parameter + "Globals:")
        .replace(
            "      DeploymentPreference:\n        Enabled: false\n",
            "      AutoPublishAlias: live\n      DeploymentPreference:\n"
            "        Enabled: !Ref HookDeployments\n        Type: AllAtOnce\n",
        )
    )
    assert rules(run(tmp_path, text)) == expected


def test_a_function_whose_condition_is_false_is_not_created_and_not_linted(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace("        Alarms: [!Ref Gate]\n", "")
        .replace("        Hooks:\n          PreTraffic: !Ref PreHook\n", "")
        .replace("Globals:", "Conditions:\n  Never: !Equals [a, b]\nGlobals:")
        .replace(
            "  Fn:\n    Type: AWS::Serverless::Function\n",
            "  Fn:\n    Type: AWS::Serverless::Function\n    Condition: Never\n",
        )
    )
    assert not [f for f in run(tmp_path, text) if f.resource == "Fn"]
    # near miss: the same function, created, can never roll back
    created = text.replace("Never: !Equals [a, b]", "Never: !Equals [a, a]")
    assert ("SD103", "error", "Fn") in rules(run(tmp_path, created))


# ---------------------------------------------------------------- trust: what used to be missed
def test_a_canary_with_hooks_but_no_alarm(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace("        Alarms: [!Ref Gate]\n", "")
    assert ("SD107", "warning", "Fn") in rules(run(tmp_path, text))
    assert not [f for f in run(tmp_path) if f.rule == "SD107"]  # near miss: the base has a gate


@pytest.mark.parametrize(
    ("operator", "threshold", "count_gate"),
    [
        ("GreaterThanThreshold", 0, True),
        ("GreaterThanOrEqualToThreshold", 1, True),  # the same gate as "> 0"
        ("GreaterThanOrEqualToThreshold", 5, False),
        ("GreaterThanThreshold", 1, False),
    ],
)
def test_count_gates_in_either_spelling(
    tmp_path: Path, operator: str, threshold: int, count_gate: bool
) -> None:
    text = (
        BASE.format(**DEFAULTS).split("  Gate:\n")[0]
        + f"""  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: {GOOD_DIMS}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 2
      Threshold: {threshold}
      ComparisonOperator: {operator}
      TreatMissingData: notBreaching
"""
    )
    assert (("SD305", "warning", "Gate") in rules(run(tmp_path, text))) is count_gate


def _dims(**values: str) -> str:
    return "[" + ", ".join(f"{{Name: {k}, Value: {v}}}" for k, v in values.items()) + "]"


@pytest.mark.parametrize(
    ("metric", "dimensions", "rule"),
    [
        ("Error", GOOD_DIMS, "SD307"),  # a typo: Lambda publishes Errors
        (
            "Errors",
            _dims(FunctionName="!Ref Fn", Alias="live", ExecutedVersion="!GetAtt Fn.Version.Version"),
            "SD308",
        ),
        (
            "Errors",
            _dims(
                FunctionName="!GetAtt Fn.Arn",
                Resource='!Sub "${Fn}:live"',
                ExecutedVersion="!GetAtt Fn.Version.Version",
            ),
            "SD309",
        ),
        (
            "Errors",
            _dims(FunctionName="!Ref Fn", Resource='!Sub "${Fn}:live"', ExecutedVersion="!Ref Fn.Version"),
            "SD309",
        ),
        (
            "Errors",
            _dims(
                FunctionName="!Ref Fn",
                Resource='!Sub "${Fn}:beta"',
                ExecutedVersion="!GetAtt Fn.Version.Version",
            ),
            "SD309",
        ),
        ("Errors", _dims(FunctionName="!Ref Fn", Resource="!Ref Fn.Version"), "SD301"),  # a version ARN
    ],
)
def test_alarms_on_series_lambda_never_publishes(
    tmp_path: Path, metric: str, dimensions: str, rule: str
) -> None:
    text = BASE.format(**{**DEFAULTS, "dimensions": dimensions}).replace(
        "MetricName: Errors", f"MetricName: {metric}", 1
    )
    found = {(f.rule, f.severity) for f in run(tmp_path, text)}
    assert (rule, "error") in found
    # near miss: the very same template with the base's metric and dimensions has no such finding
    assert not [f for f in run(tmp_path) if f.rule in ("SD301", "SD307", "SD308", "SD309")]


def test_an_unknown_but_plausible_metric_is_only_a_warning(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace("MetricName: Errors", "MetricName: SomethingNew", 1)
    assert ("SD357", "warning", "Gate") in rules(run(tmp_path, text))


# ---------------------------------------------------------------- conditions: every reachable scenario
SCENARIO = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String{default}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      InlineCode: x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: {type}
{alarms}"""


def scenario(
    tmp_path: Path, default: str = "", type_: str = "Canary10Percent15Minutes", alarms: str = ""
) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(SCENARIO.format(default=default, type=type_, alarms=alarms))
    return path


def scenario_gate(evaluations: int) -> str:
    """A gate alarm on the new version for SCENARIO's function."""
    return (
        "  Gate:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Namespace: AWS/Lambda\n"
        "      MetricName: Errors\n"
        '      Dimensions: [{Name: FunctionName, Value: !Ref Fn}, {Name: Resource, Value: !Sub "${Fn}:live"},'
        " {Name: ExecutedVersion, Value: !GetAtt Fn.Version.Version}]\n"
        f"      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: {evaluations}\n      Threshold: 5\n"
        "      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: notBreaching\n"
    )


def test_a_type_chosen_by_a_condition_is_checked_in_each_scenario(tmp_path: Path) -> None:
    path = scenario(tmp_path, type_="!If [IsProd, Canary10Percent15Minutes, AllAtOnce]")
    # Env has no default: both are reachable, and only the canary can never roll back
    (finding,) = [f for f in check(build_scope(path)) if f.rule == "SD103"]
    assert finding.severity == "error" and finding.message.startswith(
        "when IsProd is true: Canary10Percent15Minutes"
    )
    # the parameter values in force decide it
    assert [f.rule for f in check(build_scope(path, {"Env": "dev"})) if f.rule == "SD103"] == []
    (prod,) = [f for f in check(build_scope(path, {"Env": "prod"})) if f.rule == "SD103"]
    assert not prod.message.startswith("when")  # no scenario left open


def test_only_scenarios_some_parameter_values_can_produce_are_checked(tmp_path: Path) -> None:
    gate = scenario_gate(evaluations=1)
    body = "        Alarms: !If [IsDev, [], [!Ref Gate]]\n" + gate
    path = scenario(tmp_path, type_="!If [IsProd, Canary10Percent5Minutes, AllAtOnce]", alarms=body)
    one_parameter = path.read_text().replace(
        "  IsProd: !Equals [!Ref Env, prod]\n",
        "  IsProd: !Equals [!Ref Env, prod]\n  IsDev: !Equals [!Ref Env, dev]\n",
    )
    path.write_text(one_parameter)
    # Env cannot be prod and dev at once: the canary always has its gate
    assert [f for f in check(build_scope(path)) if f.severity == "error"] == []
    # near miss: two parameters can make both true, and then nothing can roll the canary back
    path.write_text(
        one_parameter.replace("IsDev: !Equals [!Ref Env, dev]", "IsDev: !Equals [!Ref Stage, dev]").replace(
            "Parameters:\n", "Parameters:\n  Stage:\n    Type: String\n"
        )
    )
    (finding,) = [f for f in check(build_scope(path)) if f.severity == "error"]
    assert finding.rule == "SD103" and finding.message.startswith("when IsDev is true and IsProd is true:")


def test_alarms_given_through_a_condition_are_not_read_as_absent(tmp_path: Path) -> None:
    gate = scenario_gate(evaluations=2)
    alarms = "        Alarms: !If [IsProd, [!Ref Gate], [!Ref Gate, !Ref Gate]]\n" + gate
    assert [f for f in check(build_scope(scenario(tmp_path, alarms=alarms))) if f.rule == "SD103"] == []
    # near miss: one branch really has none
    none_in_dev = "        Alarms: !If [IsProd, [!Ref Gate], [!Ref AWS::NoValue]]\n" + gate
    (finding,) = [f for f in check(build_scope(scenario(tmp_path, alarms=none_in_dev))) if f.rule == "SD103"]
    assert finding.message.startswith("when IsProd is false:")


def test_a_custom_deployment_config_in_the_template_is_recognised_and_timed(tmp_path: Path) -> None:
    custom = """  MyConfig:
    Type: AWS::CodeDeploy::DeploymentConfig
    Properties:
      ComputePlatform: Lambda
      TrafficRoutingConfig:
        Type: TimeBasedCanary
        TimeBasedCanary: {CanaryPercentage: 5, CanaryInterval: 10}
"""
    path = scenario(tmp_path, default="\n    Default: dev", type_="!Ref MyConfig", alarms=custom)
    found = check(build_scope(path))
    (sd103,) = [f for f in found if f.rule == "SD103" and f.severity == "error"]  # nothing can roll it back
    assert sd103.message.startswith("custom config MyConfig with neither")  # its name is CloudFormation's
    assert "SD101" not in {f.rule for f in found}  # known: defined right here
    from safedeploy.planning.plan import build_plan

    (plan,) = build_plan(build_scope(path))
    assert [(s.at_s, s.percent) for s in plan.steps] == [(0, 5.0), (600, 100.0)]


# ---------------------------------------------------------------- no error that rests on an open condition
def _open(
    tmp_path: Path, body: str, conditions: str = "  IsProd: !Equals [!Ref Env, prod]\n"
) -> list[Finding]:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Env:\n    Type: String\n"
        f"Conditions:\n{conditions}Resources:\n" + body
    )
    return check(build_scope(path))


FN_WITH_GATE = """  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      InlineCode: x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent15Minutes
        Alarms: [!Ref Gate]
  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{{Name: FunctionName, Value: !Ref Fn}}, {{Name: Resource, Value: {resource}}}, {{Name: ExecutedVersion, Value: !GetAtt Fn.Version.Version}}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 2
      Threshold: 5
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
"""


def test_a_dimension_chosen_by_an_open_condition_is_not_an_error(tmp_path: Path) -> None:
    either = FN_WITH_GATE.format(resource='!If [IsProd, !Sub "${Fn}:beta", !Sub "${Fn}:live"]')
    assert [f for f in _open(tmp_path, either) if f.severity == "error"] == []
    # near miss: the same wrong alias, for certain
    beta = FN_WITH_GATE.format(resource='!Sub "${Fn}:beta"')
    assert ("SD309", "error", "Gate") in rules(_open(tmp_path, beta))


def test_conditions_beyond_the_enumerated_ones_leave_no_error(tmp_path: Path) -> None:
    conditions = "".join(f"  C{i}: !Equals [!Ref Env, e{i}]\n" for i in range(5))
    alarms = ", ".join(f"!If [C{i}, !Ref Gate, !Ref AWS::NoValue]" for i in range(5))
    body = FN_WITH_GATE.format(resource='!Sub "${Fn}:beta"').replace(
        "Alarms: [!Ref Gate]", f"Alarms: [{alarms}]"
    )
    found = _open(tmp_path, body, conditions)
    assert [f for f in found if f.severity == "error"] == []
    downgraded = [f for f in found if "not verified: depends on condition(s) C4 left open" in f.message]
    assert downgraded and {f.severity for f in downgraded} == {"warning"}


def _base(**changes: object) -> str:
    return BASE.format(**{**DEFAULTS, **changes})


# Each error rule's trigger from above, as template text.
ERROR_TRIGGERS = {
    "SD103": _base()
    .replace("        Alarms: [!Ref Gate]\n", "")
    .replace("        Hooks:\n          PreTraffic: !Ref PreHook\n", ""),
    "SD104": _base(alarms="[" + ", ".join(["!Ref Gate"] * 11) + "]"),
    "SD201": _base(hook_name="my-pre-hook"),
    "SD202": _base()
    .replace("      DeploymentPreference:\n        Enabled: false\n", "")
    .replace(
        "    CodeUri: src/\n",
        "    CodeUri: src/\n    AutoPublishAlias: live\n    DeploymentPreference:\n      Type: AllAtOnce\n",
    ),
    "SD203": _base().replace("codedeploy:PutLifecycleEventHookExecutionStatus", "codedeploy:GetDeployment"),
    "SD204": _base().replace('Resource: !Sub "${Fn.Arn}:*"', "Resource: !GetAtt Fn.Arn"),
    "SD205": _base().replace(
        "      Policies:\n",
        "      Policies:\n        - LambdaInvokePolicy:\n            FunctionName: !Ref Fn.Version\n",
    ),
    "SD301": _base(dimensions=_dims(FunctionName="!Ref Fn", Resource="!Ref Fn.Version")),
    "SD303": _base(period=300, evaluations=3),
    "SD307": _base().replace("MetricName: Errors", "MetricName: Error"),
    "SD308": _base(dimensions=_dims(FunctionName="!Ref Fn", Alias="live")),
    "SD309": _base(dimensions=_dims(FunctionName="!GetAtt Fn.Arn", Resource='!Sub "${Fn}:live"')),
    "SD312": _base(alarms="[Gate]"),
    "SD313": _base().replace(
        "Namespace: AWS/Lambda\n              MetricName: Errors",
        "Namespace: AWS/ApiGateway\n              MetricName: 5XXErrors",
    ),
}


@pytest.mark.parametrize("rule", sorted(ERROR_TRIGGERS))
def test_an_error_that_rests_on_conditions_left_open_is_its_unverified_twin(
    tmp_path: Path, rule: str
) -> None:
    from safedeploy.rules.registry import RULES, twin

    text = ERROR_TRIGGERS[rule]
    plain = {f.rule for f in run(tmp_path, text)}
    decided = {r for r in plain if RULES[r].severity == "error"}
    assert rule in decided and twin(rule) not in plain  # proven here: the error, not its twin
    # the same deployment group, its triggers chosen by five open conditions (four are enumerated)
    nested = "[]"
    for i in range(5):
        nested = f"!If [C{i}, [], {nested}]"
    open_text = text.replace(
        "Globals:",
        "Parameters:\n  Env:\n    Type: String\nConditions:\n"
        + "".join(f"  C{i}: !Equals [!Ref Env, e{i}]\n" for i in range(5))
        + "Globals:",
    ).replace(
        "        Type: Canary10Percent5Minutes\n",
        f"        Type: Canary10Percent5Minutes\n        TriggerConfigurations: {nested}\n",
    )
    found = run(tmp_path, open_text)
    fn_rules = {r for r in decided if RULES[r].kind != "template" and r != "SD206"}
    assert not [f for f in found if f.severity == "error" and f.rule in fn_rules]
    twins = {f.rule for f in found if "left open)" in f.message}
    assert {twin(r) for r in fn_rules} <= twins and all(RULES[t].severity == "warning" for t in twins)


def test_a_grant_chosen_by_an_open_condition_is_not_proven_missing(tmp_path: Path) -> None:
    text = (
        BASE.format(**DEFAULTS)
        .replace(
            "Globals:",
            "Parameters:\n  Env:\n    Type: String\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nGlobals:",
        )
        .replace(
            'Resource: !Sub "${Fn.Arn}:*"',
            'Resource: !If [IsProd, !GetAtt Fn.Arn, !Sub "${Fn.Arn}:*"]',
        )
    )
    assert "!If [IsProd, !GetAtt Fn.Arn" in text
    found = rules(run(tmp_path, text))
    assert ("SD254", "warning", "PreHook") in found and ("SD204", "error", "PreHook") not in found


def test_a_nested_app_may_reuse_a_condition_name_without_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "Parameters:\n  Env:\n    Type: String\n    Default: prod\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n"
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n  Tier:\n    Value: !If [IsProd, gold, bronze]\n"
    )
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nConditions:\n  IsProd: !Equals [!GetAtt App.Outputs.Tier, gold]\n"
        "Resources:\n  App:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n"
        "  T:\n    Type: AWS::SNS::Topic\n    Condition: IsProd\n"
    )
    scope = build_scope(path)
    assert scope.condition("IsProd") is True  # the child's own IsProd, then the parent's: no cycle
    assert check(scope) == []


def test_a_hook_without_a_dead_letter_queue_can_hold_a_deployment_for_the_hour() -> None:
    from safedeploy_core.timing import LIFECYCLE_LIMIT_S, hook_max_s

    assert hook_max_s(120, dead_letter=False) == LIFECYCLE_LIMIT_S == 3600
    assert hook_max_s(120, dead_letter=True) == 550
    assert hook_max_s(900, dead_letter=True) == 3 * 900 + 190  # still within the hour


OPEN = """
Parameters:
  Stage:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
"""


def test_dimensions_chosen_by_an_open_condition_are_a_warning_not_the_first_branch(tmp_path: Path) -> None:
    # GIVEN Dimensions that are either the right per-version set or an Alias set Lambda never publishes
    bad = "[{Name: FunctionName, Value: !Ref Fn}, {Name: Alias, Value: live}]"
    text = OPEN + BASE.format(**{**DEFAULTS, "dimensions": f"!If [IsProd, {GOOD_DIMS}, {bad}]"})
    found = run(tmp_path, text)
    # THEN neither branch is taken for granted: no finding on the series, one warning that says why
    assert ("SD306", "warning", "Gate") in rules(found)
    assert not [f for f in found if f.rule in ("SD301", "SD302", "SD307", "SD308", "SD309")]
    assert "Metrics[0], Metrics[1] depend on a condition left open" in next(
        f.message for f in found if f.rule == "SD306"
    )
    # and with the condition decided, the wrong branch is an error again
    path = tmp_path / "template.yaml"
    decided = check(build_scope(path, {"Stage": "dev"}))
    assert any(
        f.rule == "SD307" or f.rule == "SD308" or f.rule == "SD301" for f in decided if f.severity == "error"
    )


NESTED = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Hooks:
    Type: AWS::Serverless::Application
    Properties:
      Location: hooks/template.yaml
      Parameters: !If
        - IsProd
        - TargetFunctionArns: !GetAtt Fn.Arn
          DeploymentApplicationName: !Ref ServerlessDeploymentApplication
          ApiUrlParameterName: /app/api-url
        - TargetFunctionArns: !GetAtt Fn.Arn
          DeploymentApplicationName: !Ref ServerlessDeploymentApplication
          ApiUrlParameterName: /app/other-url
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      InlineCode: "def handler(event, context): return {}"
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Role: !GetAtt Hooks.Outputs.CodeDeployRoleArn
        Hooks:
          PreTraffic: !GetAtt Hooks.Outputs.PreTrafficHookName
          PostTraffic: !GetAtt Hooks.Outputs.PostTrafficHookName
"""


def test_parameters_of_a_nested_app_chosen_by_an_open_condition_are_all_unknown(tmp_path: Path) -> None:
    from tests.helpers import ROOT

    (tmp_path / "hooks").symlink_to(ROOT / "hooks")
    found = run(tmp_path, NESTED)
    # the hooks' roles are built from what the parent passes: not knowing which map proves nothing missing
    assert not [f for f in found if f.severity == "error" and f.rule in ("SD201", "SD202", "SD203", "SD204")]


def test_plan_does_not_say_never_when_the_post_hook_that_could_hold_the_deployment_is_not_known(
    tmp_path: Path,
) -> None:
    from safedeploy.planning.plan import build_plan

    slow = _base(period=300, evaluations=3)  # 15 minutes at best: past the 5-minute canary
    elsewhere = slow.replace(
        "          PreTraffic: !Ref PreHook\n",
        "          PreTraffic: !Ref PreHook\n          PostTraffic: CodeDeployHook_elsewhere\n",
    )
    for text, fits in ((slow, "never"), (elsewhere, "unknown")):
        path = tmp_path / "template.yaml"
        path.write_text(text)
        (plan,) = build_plan(build_scope(path))
        assert [g.fits for g in plan.alarms] == [fits]


@pytest.mark.parametrize("alarm_name", [None, "checkout-errors"])
def test_a_gate_listed_by_its_logical_id_as_a_string_is_an_error_not_an_unknown(
    tmp_path: Path, alarm_name: str | None
) -> None:
    text = BASE.format(**{**DEFAULTS, "alarms": "[Gate]"})
    if alarm_name:
        text = text.replace(
            "      ComparisonOperator:", f"      AlarmName: {alarm_name}\n      ComparisonOperator:"
        )
    found = [f for f in run(tmp_path, text) if f.rule in ("SD312", "SD306")]
    assert [(f.rule, f.severity, f.resource) for f in found] == [("SD312", "error", "Fn")]
    assert "!Ref Gate" in found[0].message
    # the alarm's own name as a string is how CodeDeploy names it: no finding
    if alarm_name:
        named = text.replace("Alarms: [Gate]", f"Alarms: [{alarm_name}]")
        assert not [f for f in run(tmp_path, named) if f.rule in ("SD312", "SD306")]


def test_a_type_parameter_that_allows_a_misspelt_name_is_reported_with_the_nearest(tmp_path: Path) -> None:
    text = BASE.format(**{**DEFAULTS, "type": "!Ref DeploymentType"}).replace(
        "Globals:",
        "Parameters:\n  DeploymentType:\n    Type: String\n    Default: Canary10Percent5Minutes\n"
        "    AllowedValues: [Canary10Percent5Minutes, Linear10PercentEvery2Minute, AllAtOnce, MyOwnConfig]\n"
        "Globals:",
    )
    found = [f for f in run(tmp_path, text) if f.rule == "SD108"]
    assert [(f.severity, f.resource) for f in found] == [("warning", "DeploymentType")] * 2
    typo, custom = sorted(found, key=lambda f: "MyOwnConfig" in f.message)
    assert "did you mean 'Linear10PercentEvery2Minutes'?" in typo.message and "of Fn" in typo.message
    assert "MyOwnConfig" in custom.message and "did you mean" not in custom.message
    assert found[0].line == 4  # the parameter's own line
    # a custom config this template defines under that name is fine
    defined = text.replace(
        "Resources:\n",
        "Resources:\n  Own:\n    Type: AWS::CodeDeploy::DeploymentConfig\n    Properties:\n"
        "      DeploymentConfigName: MyOwnConfig\n      ComputePlatform: Lambda\n"
        "      TrafficRoutingConfig: {Type: AllAtOnce}\n",
    )
    assert [f.message for f in run(tmp_path, defined) if f.rule == "SD108"] == [typo.message]


def _plain_gate(namespace: str, metric: str, dimensions: str) -> str:
    """BASE with its gate replaced by a plain alarm on one series."""
    text = BASE.format(**DEFAULTS)
    start = text.index("  Gate:\n")
    return (
        text[:start] + "  Gate:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
        f"      Namespace: {namespace}\n      MetricName: {metric}\n      Dimensions: {dimensions}\n"
        "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n"
        "      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: notBreaching\n"
    )


@pytest.mark.parametrize(
    ("namespace", "metric", "dimensions", "expected", "says"),
    [
        ("AWS/ApiGateway", "5XXErrors", "[{Name: ApiName, Value: orders}]", "SD313", "did you mean '5XXError'?"),
        ("AWS/ApiGateway", "4XXError", "[{Name: FunctionName, Value: !Ref Fn}]", "SD313", "FunctionName"),
        ("AWS/ApiGateway", "5XXError", "[{Name: ApiName, Value: !Ref ServerlessRestApi}]", "SD313", "returns its id"),
        ("AWS/States", "Errors", "[{Name: StateMachineArn, Value: arn}]", "SD363", "not a AWS/States metric"),
        ("AWS/States", "ExecutionFailed", "[{Name: StateMachineArn, Value: arn}]", "SD313", "'ExecutionsFailed'"),
        # Ref of the function as a Resource base is right; one built from the stack name is not its name
        ("AWS/Lambda", "Errors", '[{Name: Resource, Value: !Sub "${AWS::StackName}-Fn:live"}]', "SD309", "<stack>-Fn-<random>"),
    ],
)  # fmt: skip
def test_a_series_its_namespace_never_publishes_is_reported(
    tmp_path: Path, namespace: str, metric: str, dimensions: str, expected: str, says: str
) -> None:
    text = _plain_gate(namespace, metric, dimensions)
    if "ServerlessRestApi" in dimensions:  # SAM's implicit REST API, from an Api event
        text = text.replace(
            "      AutoPublishAlias: live\n",
            "      AutoPublishAlias: live\n      Events:\n        Get: {Type: Api, Properties: {Path: /, Method: get}}\n",
        )
    found = [f for f in run(tmp_path, text) if f.rule in ("SD309", "SD313", "SD363")]
    assert [f.rule for f in found] == [expected] and found[0].resource == "Gate"
    assert says in found[0].message


@pytest.mark.parametrize(
    ("namespace", "metric", "dimensions"),
    [
        ("AWS/ApiGateway", "5XXError", "[{Name: ApiName, Value: orders}, {Name: Stage, Value: prod}]"),
        ("AWS/ApiGateway", "5xx", "[{Name: ApiId, Value: !Ref ServerlessHttpApi}]"),
        ("AWS/States", "ExecutionsFailed", "[{Name: StateMachineArn, Value: arn}]"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", "[{Name: QueueName, Value: q}]"),
        ("AWS/Lambda", "Errors", '[{Name: FunctionName, Value: !Sub "${AWS::StackName}-downstream"}]'),
    ],
)
def test_series_the_namespaces_publish_are_fine(
    tmp_path: Path, namespace: str, metric: str, dimensions: str
) -> None:
    found = run(tmp_path, _plain_gate(namespace, metric, dimensions))
    assert not [f for f in found if f.rule in ("SD309", "SD313", "SD363")]


def test_the_metric_table_cites_a_source_for_every_namespace() -> None:
    from safedeploy.rules.metrics import NAMESPACES

    for namespace in NAMESPACES.values():
        assert namespace.sources and all(
            s.startswith("https://docs.aws.amazon.com/") for s in namespace.sources
        )


BYPASS = {
    "mapping": "    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n"
    "      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q\n      FunctionName: {target}\n",
    "url": "    Type: AWS::Lambda::Url\n    Properties:\n      AuthType: AWS_IAM\n      TargetFunctionArn: {target}\n",
    "permission": "    Type: AWS::Lambda::Permission\n    Properties:\n      Action: lambda:InvokeFunction\n"
    "      Principal: events.amazonaws.com\n      FunctionName: {target}\n",
    "integration": "    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n      ApiId: abc\n"
    "      IntegrationType: AWS_PROXY\n      IntegrationUri: {target}\n",
}


@pytest.mark.parametrize("kind", sorted(BYPASS))
@pytest.mark.parametrize(
    ("target", "bypasses"),
    [
        ("!Ref Fn", True),
        ("!GetAtt Fn.Arn", True),
        ('!Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"', True),
        ("!Ref Fn.Alias", False),
        ('!Sub "${Fn.Arn}:live"', False),
        ('!Join [":", [!GetAtt Fn.Arn, live]]', False),
        ('!Join ["/", [!GetAtt Fn.Arn, invocations]]', True),
        ('!Join ["", [!GetAtt Fn.Arn, ":live"]]', False),
    ],
)
def test_traffic_bound_to_the_unqualified_function_bypasses_the_canary(
    tmp_path: Path, kind: str, target: str, bypasses: bool
) -> None:
    text = BASE.format(**DEFAULTS) + "  Bypass:\n" + BYPASS[kind].format(target=target)
    found = [(f.rule, f.severity, f.resource) for f in run(tmp_path, text) if f.rule == "SD110"]
    assert found == ([("SD110", "warning", "Bypass")] if bypasses else [])


def test_a_pre_traffic_hook_pointed_at_the_alias_tests_the_old_version(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS)
    assert not [f for f in run(tmp_path, text) if f.rule == "SD207"]  # TARGET: !Ref Fn (a name)
    alias = text.replace("TARGET: !Ref Fn\n", "TARGET: !Ref Fn.Alias\n")
    found = [(f.rule, f.severity, f.resource) for f in run(tmp_path, alias) if f.rule == "SD207"]
    assert found == [("SD207", "warning", "PreHook")]
    both = text.replace("TARGET: !Ref Fn\n", "TARGET: !Ref Fn.Alias\n          VERSION: !Ref Fn.Version\n")
    assert not [f for f in run(tmp_path, both) if f.rule == "SD207"]


def test_messages_say_what_to_do_once(tmp_path: Path) -> None:
    # SD107 without a post-traffic hook does not speak of one
    no_alarm = BASE.format(**{**DEFAULTS, "alarms": "[]"})
    (sd107,) = [f for f in run(tmp_path, no_alarm) if f.rule == "SD107"]
    assert "post-traffic hook runs" not in sd107.message and "pre-traffic hook" in sd107.message
    # a hook's FunctionName beside its Properties is ignored: the SD201 says so
    beside = BASE.format(**DEFAULTS).replace(
        "  PreHook:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: CodeDeployHook_pre\n",
        "  PreHook:\n    Type: AWS::Serverless::Function\n    FunctionName: CodeDeployHook_pre\n    Properties:\n",
    )
    (sd201,) = [f for f in run(tmp_path, beside) if f.rule == "SD201"]
    assert "FunctionName sits beside Properties" in sd201.message
    # SD106 names three variables, the JSON all of them
    many = (
        BASE.format(**DEFAULTS)
        .replace(
            "Globals:",
            "Parameters:\n"
            + "".join(f"  P{i}:\n    Type: String\n    Default: x\n" for i in range(5))
            + "Globals:",
        )
        .replace(
            "      AutoPublishAlias: live\n",
            "      AutoPublishAlias: live\n      Environment:\n        Variables:\n"
            + "".join(f"          V{i}: !Ref P{i}\n" for i in range(5)),
            1,
        )
    )
    (sd106,) = [f for f in run(tmp_path, many) if f.rule == "SD106"]
    assert "and 2 more" in sd106.message and len(sd106.details["variables"]) == 5


def test_all_at_once_from_one_parameter_is_said_once(tmp_path: Path) -> None:
    text = BASE.format(**{**DEFAULTS, "type": "!Ref DeploymentType"}).replace(
        "Globals:", "Parameters:\n  DeploymentType:\n    Type: String\n    Default: AllAtOnce\nGlobals:"
    )
    second = text[text.index("  Fn:\n") : text.index("  PreHook:\n")].replace("  Fn:\n", "  Other:\n")
    text = text.replace("  PreHook:\n", second + "  PreHook:\n", 1)
    (sd102,) = [f for f in run(tmp_path, text) if f.rule == "SD102"]
    assert (
        "the value of parameter DeploymentType" in sd102.message
        and "on 2 functions: Fn, Other" in sd102.message
    )
    assert sd102.details["functions"] == ["Fn", "Other"]


def test_a_permission_on_the_unqualified_function_beside_one_on_its_alias_sends_no_traffic(
    tmp_path: Path,
) -> None:
    permission = BYPASS["permission"]
    text = (
        BASE.format(**DEFAULTS)
        + "  Bypass:\n"
        + permission.format(target="!GetAtt Fn.Arn")
        + "  OnAlias:\n"
        + permission.format(target="!Ref Fn.Alias")
    )
    assert not [f for f in run(tmp_path, text) if f.rule == "SD110"]


def test_environment_from_one_parameter_on_several_functions_is_said_once(tmp_path: Path) -> None:
    text = BASE.format(**DEFAULTS).replace(
        "Globals:", "Parameters:\n  Stage:\n    Type: String\n    Default: prod\nGlobals:"
    )
    text = text.replace(
        "      AutoPublishAlias: live\n",
        "      AutoPublishAlias: live\n      Environment:\n        Variables:\n          STAGE: !Ref Stage\n",
    )
    second = text[text.index("  Fn:\n") : text.index("  PreHook:\n")].replace("  Fn:\n", "  Other:\n")
    text = text.replace("  PreHook:\n", second + "  PreHook:\n", 1)
    (sd106,) = [f for f in run(tmp_path, text) if f.rule == "SD106"]
    assert sd106.message.startswith(
        "environment variables of 2 functions: Fn, Other come from parameter(s) Stage"
    )
    assert sd106.details["functions"] == ["Fn", "Other"] and sd106.details["parameters"] == ["Stage"]
