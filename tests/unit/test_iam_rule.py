"""check's authorization rule (SD208, its twin SD258): DeploymentPreference.Role against the calls
CodeDeploy makes for a Lambda deployment, evaluated with IAM's logic on the translated template."""

from __future__ import annotations

from pathlib import Path

import pytest

from safedeploy.rules import Finding, check
from safedeploy.template.scope import build_scope

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  RoleArn:
    Type: String
    Default: arn:aws:iam::123456789012:role/deployer
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      AutoPublishAlias: live
      {provisioned}
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref Gate]
        {role}
  Gate:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: GreaterThanThreshold
      Threshold: 2
      EvaluationPeriods: 1
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      TreatMissingData: notBreaching
      Dimensions:
        - {{Name: FunctionName, Value: !Ref Fn}}
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: codedeploy.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns: {managed}
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
{statements}
"""

GOOD = """\
              - Effect: Allow
                Action: [lambda:GetAlias, lambda:UpdateAlias]
                Resource: !GetAtt Fn.Arn
              - Effect: Allow
                Action: lambda:GetProvisionedConcurrencyConfig
                Resource: !Sub "${Fn.Arn}:*"
              - Effect: Allow
                Action: cloudwatch:DescribeAlarms
                Resource: "*"
"""
QUALIFIED_ONLY = """\
              - Effect: Allow
                Action: [lambda:GetAlias, lambda:UpdateAlias, lambda:GetProvisionedConcurrencyConfig]
                Resource: !Sub "${Fn.Arn}:*"
              - Effect: Allow
                Action: cloudwatch:DescribeAlarms
                Resource: "*"
"""
DENY_UPDATE = (
    GOOD
    + """\
              - Effect: Deny
                Action: lambda:Update*
                Resource: "*"
"""
)
OWN_ROLE = "Role: !GetAtt DeployRole.Arn"


def findings(
    tmp_path: Path, role: str, statements: str, managed: str = "[]", provisioned: str = ""
) -> list[Finding]:
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.format(role=role, statements=statements, managed=managed, provisioned=provisioned)
    )
    return [f for f in check(build_scope(tmp_path / "template.yaml")) if f.rule in ("SD208", "SD258")]


def test_a_role_that_may_make_every_call_is_not_reported(tmp_path: Path) -> None:
    assert findings(tmp_path, OWN_ROLE, GOOD) == []


def test_the_generated_role_with_awscodedeployroleforlambda_may_make_them(tmp_path: Path) -> None:
    assert findings(tmp_path, "", GOOD) == []  # SAM's CodeDeployServiceRole, the managed policy shipped


def test_a_grant_on_qualified_arns_only_is_a_proven_error(tmp_path: Path) -> None:
    found = findings(tmp_path, OWN_ROLE, QUALIFIED_ONLY)
    assert [f.rule for f in found] == ["SD208", "SD208"]
    assert "lambda:GetAlias" in found[0].message and "lambda:UpdateAlias" in found[1].message
    assert all("implicitly denied" in f.message and f.resource == "Fn" for f in found)


def test_an_explicit_deny_is_a_proven_error(tmp_path: Path) -> None:
    found = findings(tmp_path, OWN_ROLE, DENY_UPDATE)
    assert [(f.rule, "lambda:UpdateAlias" in f.message) for f in found] == [("SD208", True)]
    assert "explicitly denied" in found[0].message


def test_a_managed_policy_not_known_here_makes_it_unverified(tmp_path: Path) -> None:
    found = findings(tmp_path, OWN_ROLE, QUALIFIED_ONLY, "[arn:aws:iam::123456789012:policy/ours]")
    assert [f.rule for f in found] == ["SD258", "SD258"]
    assert all("not verified" in f.message and "contents not known here" in f.message for f in found)


def test_a_known_managed_policy_is_not_an_unknown(tmp_path: Path) -> None:
    managed = "[arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda]"
    assert findings(tmp_path, OWN_ROLE, QUALIFIED_ONLY, managed) == []


@pytest.mark.parametrize("role", ["Role: !Ref RoleArn", "Role: arn:aws:iam::123456789012:role/deployer"])
def test_a_role_outside_the_template_is_not_verified(tmp_path: Path, role: str) -> None:
    found = findings(tmp_path, role, GOOD)
    assert [f.rule for f in found] == ["SD258"]
    assert "not defined in this template" in found[0].message


def test_provisioned_concurrency_is_read_only_for_an_alias_that_has_it(tmp_path: Path) -> None:
    """SAM's own integration test deploys with a custom role lacking the action, on a function without
    provisioned concurrency: required only where the alias has it."""
    unqualified_only = GOOD.replace('Resource: !Sub "${Fn.Arn}:*"', "Resource: !GetAtt Fn.Arn")
    assert findings(tmp_path, OWN_ROLE, unqualified_only) == []
    found = findings(
        tmp_path,
        OWN_ROLE,
        unqualified_only,
        provisioned="ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}",
    )
    assert [f.rule for f in found] == ["SD208"]
    assert "lambda:GetProvisionedConcurrencyConfig" in found[0].message and ":live " in found[0].message


def test_policies_attached_as_resources_are_read(tmp_path: Path) -> None:
    attached = """
  AliasGrants:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref DeployRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: lambda:*Alias
            Resource: !GetAtt Fn.Arn
"""
    (tmp_path / "template.yaml").write_text(
        TEMPLATE.format(role=OWN_ROLE, statements=QUALIFIED_ONLY, managed="[]", provisioned="") + attached
    )
    found = [f for f in check(build_scope(tmp_path / "template.yaml")) if f.rule in ("SD208", "SD258")]
    assert found == []


def test_a_permissions_boundary_leaves_an_allowed_call_unverified(tmp_path: Path) -> None:
    text = TEMPLATE.format(role=OWN_ROLE, statements=GOOD, managed="[]", provisioned="").replace(
        "      ManagedPolicyArns:",
        "      PermissionsBoundary: arn:aws:iam::123456789012:policy/boundary\n      ManagedPolicyArns:",
    )
    (tmp_path / "template.yaml").write_text(text)
    found = [f for f in check(build_scope(tmp_path / "template.yaml")) if f.rule in ("SD208", "SD258")]
    assert {f.rule for f in found} == {"SD258"} and all("permissions boundary" in f.message for f in found)


def test_a_statement_an_open_condition_chooses_is_not_a_proof(tmp_path: Path) -> None:
    chosen = GOOD.replace(
        "              - Effect: Allow\n                Action: [lambda:GetAlias, lambda:UpdateAlias]\n"
        "                Resource: !GetAtt Fn.Arn\n",
        "              - !If\n                - Open\n                - Effect: Allow\n"
        "                  Action: [lambda:GetAlias, lambda:UpdateAlias]\n"
        "                  Resource: !GetAtt Fn.Arn\n                - !Ref AWS::NoValue\n",
    )
    text = (
        TEMPLATE.format(role=OWN_ROLE, statements=chosen, managed="[]", provisioned="")
        .replace("Resources:", "Parameters2:\nConditions:\n  Open: !Equals [!Ref RoleArn, x]\nResources:")
        .replace("Parameters2:\n", "")
    )
    (tmp_path / "template.yaml").write_text(text)
    scope = build_scope(tmp_path / "template.yaml", {"RoleArn": "<unknown>"})
    found = [f for f in check(scope) if f.rule in ("SD208", "SD258")]
    assert [f.rule for f in found] == ["SD258", "SD258"]


@pytest.mark.parametrize(
    ("principal", "condition", "expected"),
    [
        ("Service: codedeploy.amazonaws.com", "", []),
        ("Service: [lambda.amazonaws.com]", "", ["SD208"]),  # CodeDeploy cannot assume it at all
        # CodeDeploy's guide shows regional principals for a role limited to some Regions: it works in
        # eu-west-2 only, and the stack's Region is not known here
        ("Service: [codedeploy.eu-west-2.amazonaws.com]", "", ["SD258"]),
        ("Service: [codedeploy.eu-west-2.amazonaws.com, codedeploy.amazonaws.com]", "", []),
        (
            "Service: codedeploy.amazonaws.com",
            "Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}",
            [],
        ),
        # a literal account: equal to the one deployed to or not, not known here
        (
            "Service: codedeploy.amazonaws.com",
            "Condition: {StringEquals: {aws:SourceAccount: '111122223333'}}",
            ["SD258"],
        ),
    ],
)
def test_codedeploy_must_be_able_to_assume_the_role(
    tmp_path: Path, principal: str, condition: str, expected: list[str]
) -> None:
    text = TEMPLATE.format(role=OWN_ROLE, statements=GOOD, managed="[]", provisioned="")
    text = text.replace(
        "            Principal: {Service: codedeploy.amazonaws.com}\n            Action: sts:AssumeRole\n",
        f"            Principal: {{{principal}}}\n            Action: sts:AssumeRole\n"
        + (f"            {condition}\n" if condition else ""),
    )
    (tmp_path / "template.yaml").write_text(text)
    found = [f for f in check(build_scope(tmp_path / "template.yaml")) if f.rule in ("SD208", "SD258")]
    assert [f.rule for f in found] == expected
    assert all("assume" in f.message for f in found)
