"""IAM's evaluation logic, the ARN each call is authorized against, and the shipped managed policies."""

from __future__ import annotations

import pytest

from safedeploy.iam import managed
from safedeploy.iam.actions import Where, arn_format, iam_action, request_resources, resource_types
from safedeploy.iam.match import GENERATED_NAME, NUMBER, STACK_NAME, matches
from safedeploy.iam.policy import Decision, Request, Statement, evaluate, statements_of

FN = "arn:aws:lambda:us-east-1:123456789012:function:app-Fn-1A2B"
W = Where()


def allow(action: str | list[str], resource: str | list[str], **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def decide(*statements: dict[str, object], action: str, resource: str, **context: str | None) -> Decision:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return evaluate(statements_of(doc, "test"), Request(action, resource, context)).decision


# ---------------------------------------------------------------- evaluation logic
def test_an_explicit_deny_wins_over_any_allow() -> None:
    deny = {"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}
    assert decide(allow("lambda:UpdateAlias", FN), deny, action="lambda:UpdateAlias", resource=FN) is (
        Decision.EXPLICIT_DENY
    )


def test_nothing_that_applies_is_an_implicit_deny() -> None:
    assert decide(allow("lambda:GetAlias", FN), action="lambda:UpdateAlias", resource=FN) is (
        Decision.IMPLICIT_DENY
    )


def test_actions_match_without_case_and_with_wildcards() -> None:
    assert decide(allow("Lambda:update*", FN), action="lambda:UpdateAlias", resource=FN) is Decision.ALLOWED
    assert decide(allow("lambda:?etAlias", FN), action="lambda:GetAlias", resource=FN) is Decision.ALLOWED
    assert decide(allow("lambda:?etAlias", FN), action="lambda:UpdateAlias", resource=FN) is (
        Decision.IMPLICIT_DENY
    )


def test_resources_match_with_case() -> None:
    assert decide(allow("lambda:GetAlias", FN.upper()), action="lambda:GetAlias", resource=FN) is (
        Decision.IMPLICIT_DENY
    )


def test_lambda_qualified_pattern_denies_the_unqualified_arn() -> None:
    """Lambda guide: `:*` accepts any qualified ARN and denies the unqualified one; `fn*` matches both."""
    assert decide(allow("lambda:UpdateAlias", f"{FN}:*"), action="lambda:UpdateAlias", resource=FN) is (
        Decision.IMPLICIT_DENY
    )
    assert decide(
        allow("lambda:InvokeFunction", f"{FN}:*"), action="lambda:InvokeFunction", resource=f"{FN}:7"
    ) is (Decision.ALLOWED)
    for resource in (FN, f"{FN}:7"):
        assert decide(
            allow("lambda:UpdateAlias", f"{FN}*"), action="lambda:UpdateAlias", resource=resource
        ) is (Decision.ALLOWED)


def test_not_action_and_not_resource() -> None:
    everything_but_iam = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert decide(everything_but_iam, action="lambda:GetAlias", resource=FN) is Decision.ALLOWED
    assert decide(everything_but_iam, action="iam:PassRole", resource="*") is Decision.IMPLICIT_DENY
    deny_elsewhere = {"Effect": "Deny", "Action": "lambda:*", "NotResource": f"{FN}*"}
    wide = allow("lambda:*", "*")
    assert decide(wide, deny_elsewhere, action="lambda:GetAlias", resource=FN) is Decision.ALLOWED
    assert decide(wide, deny_elsewhere, action="lambda:GetAlias", resource=FN + "-other") is (
        Decision.ALLOWED  # `fn*` also matches a longer name: IAM's wildcard is that wide
    )
    other = "arn:aws:lambda:us-east-1:123456789012:function:other"
    assert decide(wide, deny_elsewhere, action="lambda:GetAlias", resource=other) is Decision.EXPLICIT_DENY


def test_conditions_known_and_unknown() -> None:
    account = allow("sts:AssumeRole", "*", Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}})
    assert decide(
        account, action="sts:AssumeRole", resource="*", **{"aws:SourceAccount": "123456789012"}
    ) is (Decision.ALLOWED)
    assert decide(
        account, action="sts:AssumeRole", resource="*", **{"aws:SourceAccount": "999999999999"}
    ) is (Decision.IMPLICIT_DENY)
    assert decide(account, action="sts:AssumeRole", resource="*", **{"aws:SourceAccount": None}) is (
        Decision.IMPLICIT_DENY  # the key absent: StringEquals does not hold
    )
    assert decide(account, action="sts:AssumeRole", resource="*") is Decision.UNKNOWN  # value not known
    like = allow("s3:GetObject", "*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:codedeploy:*"}})
    assert decide(like, action="s3:GetObject", resource="*", **{"aws:SourceArn": "arn:aws:codedeploy:x"}) is (
        Decision.ALLOWED
    )
    not_equals = allow(
        "s3:GetObject", "*", Condition={"StringNotEqualsIfExists": {"aws:PrincipalTag/x": "y"}}
    )
    assert decide(not_equals, action="s3:GetObject", resource="*", **{"aws:PrincipalTag/x": None}) is (
        Decision.ALLOWED
    )
    ip = allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert decide(ip, action="s3:GetObject", resource="*", **{"aws:SourceIp": "10.1.1.1"}) is Decision.UNKNOWN


def test_a_deny_that_may_apply_leaves_an_allow_unknown_and_a_denial_denied() -> None:
    maybe = Statement("Deny", ("lambda:*",), None, ("*",), None, {}, "maybe", None)
    sure = Statement("Allow", ("lambda:*",), None, ("*",), None, {}, "sure", True)
    assert evaluate([maybe, sure], Request("lambda:GetAlias", FN)).decision is Decision.UNKNOWN
    assert evaluate([maybe], Request("lambda:GetAlias", FN)).decision is Decision.IMPLICIT_DENY


# ---------------------------------------------------------------- values only CloudFormation knows
def test_the_same_placeholder_on_both_sides_is_the_same_value() -> None:
    assert matches("arn:aws:lambda:r:a:function:<Fn>", "arn:aws:lambda:r:a:function:<Fn>") is True
    assert matches("arn:aws:lambda:r:a:function:<Fn>:*", "arn:aws:lambda:r:a:function:<Fn>") is False
    assert matches("arn:aws:lambda:r:a:function:<Fn>:*", "arn:aws:lambda:r:a:function:<Fn>:3") is True
    assert matches("arn:aws:lambda:r:a:function:<Fn>*", "arn:aws:lambda:r:a:function:<Fn>:live") is True


def test_a_generated_name_never_starts_with_codedeployhook() -> None:
    """A stack name matches [a-zA-Z][-a-zA-Z0-9]*: no generated name holds an underscore."""
    shapes = {"<Hook>": GENERATED_NAME, "<stack>": STACK_NAME}
    assert matches("function:CodeDeployHook_*", "function:<Hook>", shapes) is False
    assert matches("function:CodeDeployHook_*", "function:CodeDeployHook_<stack>-pre", shapes) is True
    assert matches("function:app-*", "function:<Hook>", shapes) is None  # it may or may not begin so


def test_a_placeholder_in_the_pattern_alone_is_unknown_unless_it_cannot_match() -> None:
    assert matches("function:<Other>", "function:app-fn", {"<Other>": GENERATED_NAME}) is None
    assert matches("function:<Other>", "function:app_fn", {"<Other>": GENERATED_NAME}) is False
    assert matches("function:x:<V>", "function:x:live", {"<V>": NUMBER}) is False
    assert matches("function:x:<V>", "function:x:12", {"<V>": NUMBER}) is None


# ---------------------------------------------------------------- the ARN of each call
def test_resource_arn_formats_come_from_the_service_authorization_reference() -> None:
    assert (
        arn_format("lambda", "function")
        == "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}"
    )
    assert "deploymentgroup" in resource_types("codedeploy:GetDeployment")
    assert iam_action("lambda", "Invoke") == "lambda:InvokeFunction"


def test_lambda_calls_naming_a_version_are_authorized_against_the_qualified_arn() -> None:
    base = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert request_resources("lambda", "Invoke", {"FunctionName": "fn", "Qualifier": "3"}, W, {}) == [
        f"{base}:3"
    ]
    assert request_resources("lambda", "Invoke", {"FunctionName": "fn:3"}, W, {}) == [f"{base}:3"]
    assert request_resources("lambda", "UpdateAlias", {"FunctionName": "fn", "Name": "live"}, W, {}) == [base]
    assert request_resources("lambda", "GetAlias", {"FunctionName": base, "Name": "live"}, W, {}) == [base]
    assert request_resources(
        "lambda", "GetProvisionedConcurrencyConfig", {"FunctionName": "fn", "Qualifier": "live"}, W, {}
    ) == [f"{base}:live"]
    assert request_resources("lambda", "ListTags", {"Resource": base}, W, {}) == [base]


def test_codedeploy_group_actions_follow_codedeploys_own_guide() -> None:
    """The reference lists no resource type for these two; CodeDeploy's guide scopes them to the group."""
    assert resource_types("codedeploy:StopDeployment") == ()
    assert resource_types("codedeploy:PutLifecycleEventHookExecutionStatus") == ()
    groups = {"d-1": ("app", "grp")}
    group = "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:app/grp"
    assert resource_types("codedeploy:ListDeploymentTargets") == ()
    for op in (
        "StopDeployment",
        "PutLifecycleEventHookExecutionStatus",
        "GetDeployment",
        "ListDeploymentTargets",
    ):
        assert request_resources("codedeploy", op, {"deploymentId": "d-1"}, W, groups) == [group]
    assert request_resources(
        "codedeploy", "GetApplicationRevision", {"applicationName": "app"}, W, groups
    ) == ["arn:aws:codedeploy:us-east-1:123456789012:application:app"]
    assert request_resources("codedeploy", "StopDeployment", {"deploymentId": "d-9"}, W, groups) == [
        "<unknown>"
    ]


def test_metric_reads_take_no_resource_and_alarms_their_own() -> None:
    assert request_resources("cloudwatch", "GetMetricData", {}, W, {}) == ["*"]
    assert request_resources("cloudwatch", "DescribeAlarms", {"AlarmNames": ["a"]}, W, {}) == [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    ]
    assert request_resources("ssm", "GetParameter", {"Name": "/x/y"}, W, {}) == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/x/y"
    ]


# ---------------------------------------------------------------- managed policies
@pytest.mark.parametrize(
    ("arn", "action", "resource", "decision"),
    [
        (
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "logs:PutLogEvents",
            "*",
            Decision.ALLOWED,
        ),
        (
            "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
            "lambda:UpdateAlias",
            FN,
            Decision.ALLOWED,
        ),
        (
            "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
            "lambda:InvokeFunction",
            FN,
            Decision.IMPLICIT_DENY,  # only function:CodeDeployHook_*
        ),
        (
            "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_pre",
            Decision.ALLOWED,
        ),
        ("arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess", "xray:PutTraceSegments", "*", Decision.ALLOWED),
        (
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
            "sqs:ReceiveMessage",
            "*",
            Decision.ALLOWED,
        ),
    ],
)
def test_managed_policies_are_known(arn: str, action: str, resource: str, decision: Decision) -> None:
    doc = managed.document(arn)
    assert doc is not None
    assert evaluate(statements_of(doc, arn), Request(action, resource)).decision is decision


def test_a_managed_policy_not_shipped_or_on_the_wrong_path_is_not_known() -> None:
    assert managed.document("arn:aws:iam::aws:policy/AdministratorAccess") is None
    assert (
        managed.document("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole") is None
    )  # it is service-role/
    assert managed.document("arn:aws:iam::123456789012:policy/AWSLambdaBasicExecutionRole") is None
    assert managed.document("arn:aws-cn:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole") is not None
    assert "moto" in managed.source()
