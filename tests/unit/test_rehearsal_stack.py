"""The rest of the user's stack in the rehearsal's fake account, and the API in front of the function:
resources created in moto with Ref/GetAtt resolving to them; routes with path parameters; the proxy
event in the payload format of the function's API (the same builder the pre-traffic hook uses)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from safedeploy_core.smoke import api_gateway_event, decode_proxy_response, load_cases

from safedeploy.offline.api_gateway import match_route
from safedeploy.rehearsal.functions import function_env
from safedeploy.rehearsal.stack import create_stack_resources
from safedeploy.rehearsal.world import World, world
from safedeploy.template.scope import build_scope

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Letters:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-${AWS::AccountId}"
  Jobs:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Environment:
        Variables:
          TABLE: !Ref Orders
          TABLE_ARN: !GetAtt Orders.Arn
          STREAM: !GetAtt Orders.StreamArn
          BUCKET: !Ref Letters
          QUEUE_URL: !Ref Jobs
"""


@pytest.fixture
def account() -> Iterator[World]:
    with world(7) as fake:
        yield fake


def test_the_templates_resources_are_in_the_fake_account_and_the_environment_names_them(
    tmp_path: Path, account: World
) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    scope = build_scope(tmp_path / "template.yaml", {})
    mapping = {"stack": "rehearsal", "Api": "rehearsal-Api"}
    # WHEN the stack's resources are created
    stack = create_stack_resources(scope, account.client, "rehearsal", mapping)
    env = function_env(scope, "Api", {**mapping, **stack.mapping})
    # THEN the function's environment names what exists in the fake account, no placeholder left
    assert not any("<" in value for value in env.values()), env
    account.client("dynamodb").put_item(TableName=env["TABLE"], Item={"PK": {"S": "1"}})
    assert env["TABLE_ARN"].endswith(f":table/{env['TABLE']}") and "stream/" in env["STREAM"]
    assert env["BUCKET"] == "rehearsal-123456789012"
    account.client("s3").put_object(Bucket=env["BUCKET"], Key="k", Body=b"x")
    account.client("sqs").send_message(QueueUrl=env["QUEUE_URL"], MessageBody="x")
    assert stack.skipped == []


def test_routes_take_path_parameters_and_prefer_the_most_specific() -> None:
    routes = {"POST /letters/{kind}/{customer}": "a", "GET /hello": "b", "ANY /{proxy+}": "c"}
    assert match_route(routes, "POST", "/letters/welcome/42") == (
        "POST /letters/{kind}/{customer}",
        {"kind": "welcome", "customer": "42"},
    )
    assert match_route(routes, "GET", "/hello") == ("GET /hello", {})
    assert match_route(routes, "DELETE", "/a/b") == ("ANY /{proxy+}", {"proxy": "a/b"})
    assert match_route({"GET /hello": "b"}, "GET", "/nope") is None
    assert match_route({"$default": "x"}, "GET", "/anything") == ("$default", {})


def cases(request: dict[str, Any]) -> Any:
    return load_cases({"cases": [{"name": "c", "request": request, "expect": {"status": 200}}]})[0]


def test_a_rest_api_case_sets_path_parameters_query_headers_and_body() -> None:
    case = cases(
        {
            "method": "POST",
            "path": "/letters/welcome/42",
            "path_parameters": {"kind": "welcome", "customer": "42"},
            "query": {"lang": "fr"},
            "headers": {"X-Trace": "t"},
            "body": {"a": 1},
        }
    )
    event = api_gateway_event(case.request)
    assert event["pathParameters"] == {"kind": "welcome", "customer": "42"}
    assert event["queryStringParameters"] == {"lang": "fr"} and event["headers"]["X-Trace"] == "t"
    assert event["httpMethod"] == "POST" and event["body"] == '{"a": 1}'


def test_an_http_api_case_becomes_a_version_2_event() -> None:
    case = cases(
        {"method": "GET", "path": "/items/7", "path_parameters": {"id": "7"}, "payload_format": "2.0"}
    )
    event = api_gateway_event(case.request)
    assert event["version"] == "2.0" and event["rawPath"] == "/items/7"
    assert event["requestContext"]["http"]["method"] == "GET" and event["pathParameters"] == {"id": "7"}
    assert "httpMethod" not in event
    # an HTTP API takes a result without statusCode as a 200 whose body is the result
    assert decode_proxy_response({"ok": True}, "2.0") == (200, {"ok": True})
    assert decode_proxy_response({"ok": True}) == (None, {"ok": True})


def test_an_unknown_payload_format_is_refused() -> None:
    from safedeploy_core.errors import SmokeCaseError

    with pytest.raises(SmokeCaseError, match=r"payload_format must be one of 1\.0, 2\.0"):
        cases({"method": "GET", "path": "/", "payload_format": "3"})
