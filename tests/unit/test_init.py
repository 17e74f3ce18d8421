"""`safedeploy init` on small apps written here: what it adds, what it keeps, what it refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from safedeploy_core.smoke import evaluate, load_cases

from safedeploy.adopt.changes import write_atomically
from safedeploy.cli.app import main
from safedeploy.planning.plan import build_plan
from safedeploy.rules import check
from safedeploy.template.loader import load_template
from safedeploy.template.scope import build_scope

APP = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: orders service   # the user's comment

Resources:
  # the API function
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: orders/
      Handler: app.handler
      Runtime: python3.13
      Timeout: 10
      Events:
        GetOrder:
          Type: Api
          Properties:
            Path: /orders/{id}
            Method: get

  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.handler
      Runtime: nodejs22.x
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn

  Jobs:
    Type: AWS::SQS::Queue
"""


def _project(tmp_path: Path, text: str = APP, name: str = "template.yaml") -> Path:
    template = tmp_path / name
    template.write_text(text)
    return template


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _init(template: Path, *args: str) -> int:
    return main(["init", str(template), *args])


def test_init_protects_every_function_that_serves_traffic_and_check_is_clean(
    tmp_path: Path, capsys: Any
) -> None:
    # GIVEN an app with an API function and a queue consumer
    template = _project(tmp_path)
    # WHEN init runs
    assert _init(template, "--yes") == 0
    capsys.readouterr()
    # THEN both have an alias, a deployment preference, the hooks and their own alarm pack
    sam = load_template(template)
    for fn in ("OrdersFunction", "WorkerFunction"):
        props = sam["Resources"][fn]["Properties"]
        assert props["AutoPublishAlias"] == "live"
        pref = props["DeploymentPreference"]
        assert pref["Type"] == {"Ref": "SafeDeployDeploymentType"}
        assert pref["Role"] == {"Fn::GetAtt": ["Hooks", "Outputs.CodeDeployRoleArn"]}
        assert pref["Hooks"]["PreTraffic"] == {"Fn::GetAtt": ["Hooks", "Outputs.PreTrafficHookName"]}
        assert {a["Fn::GetAtt"][0] for a in pref["Alarms"]} == {f"{fn}Alarms"}
        assert props["Tags"] == {"safedeploy:smoke-cases": fn}
        assert sam["Resources"][f"{fn}Alarms"]["Properties"]["Location"] == "alarms/template.yaml"
    assert (tmp_path / "hooks" / "template.yaml").is_file()
    assert (tmp_path / "alarms" / "template.yaml").is_file()
    assert not (tmp_path / "hooks" / "smoke_cases" / "hello_world.json").exists()  # the kit's examples
    # AND the user's comments and layout are still there
    text = template.read_text()
    assert "# the user's comment" in text and "# the API function" in text
    assert text.startswith(APP.split("Resources:", maxsplit=1)[0])
    # AND check finds no error and no warning in any environment, and plan has a gate in the first step
    for env in ("dev", "staging", "prod"):
        scope = build_scope(template, {"SafeDeployEnvironment": env})
        assert not [f for f in check(scope) if f.severity in ("error", "warning")], env
    plans = build_plan(build_scope(template))
    assert all(any(g.fits == "first-step" for g in p.alarms) for p in plans)


def test_a_second_run_changes_nothing_and_says_so(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    assert _init(template, "--yes") == 0
    written = _files(tmp_path)
    capsys.readouterr()
    assert _init(template, "--yes") == 0
    assert "nothing to change" in capsys.readouterr().err
    assert _files(tmp_path) == written


def test_smoke_cases_per_route_with_placeholders_and_an_invoke_case_from_events(
    tmp_path: Path, capsys: Any
) -> None:
    template = _project(tmp_path)
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "worker.json").write_text(json.dumps({"Records": [{"body": "job-1"}]}))
    assert _init(template, "--yes") == 0
    orders = json.loads((tmp_path / "hooks/smoke_cases/OrdersFunction.json").read_text())
    worker = json.loads((tmp_path / "hooks/smoke_cases/WorkerFunction.json").read_text())
    (case,) = load_cases(orders)
    assert case.request is not None and case.request.path == "/orders/example"
    assert case.expect.status_below == 500
    assert "tighten" not in orders["cases"][0] and orders["how_to_tighten"][case.name]
    (job,) = load_cases(worker)
    assert job.event == {"Records": [{"body": "job-1"}]} and job.request is None


def test_a_users_own_smoke_case_file_is_never_overwritten(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    own = tmp_path / "hooks" / "smoke_cases" / "OrdersFunction.json"
    assert _init(template, "--yes") == 0
    own.write_text(
        '{"cases": [{"name": "mine", "request": {"path": "/orders/7"}, "expect": {"status": 200}}]}'
    )
    assert _init(template, "--yes") == 0
    assert "mine" in own.read_text()


def test_partial_settings_keep_the_users_values_and_get_what_is_missing(tmp_path: Path, capsys: Any) -> None:
    text = APP.replace(
        "      Timeout: 10\n",
        "      Timeout: 10\n      AutoPublishAlias: prod\n      DeploymentPreference:\n"
        "        Type: Canary10Percent30Minutes\n",
    )
    template = _project(tmp_path, text)
    assert _init(template, "--yes") == 0
    err = capsys.readouterr().err
    assert "kept: OrdersFunction.AutoPublishAlias: prod" in err
    assert "kept: OrdersFunction.DeploymentPreference.Type: Canary10Percent30Minutes" in err
    props = load_template(template)["Resources"]["OrdersFunction"]["Properties"]
    assert props["AutoPublishAlias"] == "prod"
    assert props["DeploymentPreference"]["Type"] == "Canary10Percent30Minutes"
    assert "Role" in props["DeploymentPreference"] and "Hooks" in props["DeploymentPreference"]
    alarms = load_template(template)["Resources"]["OrdersFunctionAlarms"]["Properties"]["Parameters"]
    assert alarms["AliasName"] == "prod"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("Transform: AWS::Serverless-2016-10-31\n", ""), "not a SAM template"),
        (
            lambda t: t.replace(
                "Resources:\n", "Globals:\n  Function:\n    AutoPublishAlias: live\n\nResources:\n"
            ),
            "Globals.Function.AutoPublishAlias",
        ),
        (
            lambda t: t.replace("      Timeout: 10\n", "      Timeout: 10\n      FunctionName: orders\n"),
            "`FunctionName: orders` is fixed",
        ),
        (
            lambda t: t.replace(
                "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: orders/",
                "    Type: AWS::Serverless::Function\n    Condition: IsProd\n    Properties:\n"
                "      CodeUri: orders/",
            ),
            "has `Condition: IsProd`",
        ),
        (
            lambda t: t.replace("      Timeout: 10\n", "      Timeout: 10\n      Tags: !If [A, {}, {}]\n"),
            "`Tags` is an intrinsic function",
        ),
    ],
    ids=["not-sam", "globals", "function-name", "condition", "intrinsic"],
)
def test_what_init_cannot_do_is_one_line_each_exit_2_and_nothing_written(
    tmp_path: Path, capsys: Any, change: Any, message: str
) -> None:
    template = _project(tmp_path, change(APP))
    before = _files(tmp_path)
    assert _init(template, "--yes") == 2
    assert message in capsys.readouterr().err
    assert _files(tmp_path) == before


def test_in_a_pipe_without_yes_it_prints_the_diff_and_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    before = _files(tmp_path)
    assert _init(template) == 1
    out, err = capsys.readouterr()
    assert "+      AutoPublishAlias: live" in out and "--yes" in err
    assert _files(tmp_path) == before
    assert _init(template, "--dry-run") == 0
    assert "+++ b/template.yaml" in capsys.readouterr().out
    assert _files(tmp_path) == before


def test_a_json_template_keeps_its_key_order_and_indentation(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "src").mkdir()
    sam = load_template(_project(tmp_path / "src", APP, "source.yaml"))
    text = json.dumps(sam, indent=4) + "\n"
    template = _project(tmp_path, text, "template.json")
    assert _init(template, "--yes") == 0
    after = template.read_text()
    assert after.startswith(text.split('"Resources"')[0].rstrip("\n")[:-1])  # same head, same order
    assert '\n    "Resources": {\n        "OrdersFunction": {' in after
    data = json.loads(after)
    assert data["Resources"]["OrdersFunction"]["Properties"]["AutoPublishAlias"] == "live"
    capsys.readouterr()
    assert _init(template, "--yes") == 0
    assert "nothing to change" in capsys.readouterr().err


def test_an_event_source_mapping_on_the_unqualified_function_is_pointed_at_the_alias(
    tmp_path: Path, capsys: Any
) -> None:
    text = APP + (
        "  Mapping:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n"
        "      EventSourceArn: !GetAtt Jobs.Arn\n      FunctionName: !Ref OrdersFunction\n"
    )
    template = _project(tmp_path, text)
    assert _init(template, "--yes") == 0
    mapping = load_template(template)["Resources"]["Mapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "OrdersFunction.Alias"}


def test_samconfig_gets_capabilities_and_environments_keeping_the_users_lines(
    tmp_path: Path, capsys: Any
) -> None:
    template = _project(tmp_path)
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n# mine\n[default.deploy.parameters]\nstack_name = "orders"\ncapabilities = "CAPABILITY_IAM"\n'
    )
    assert _init(template, "--yes") == 0
    text = (tmp_path / "samconfig.toml").read_text()
    assert "# mine" in text and 'stack_name = "orders"' in text
    assert 'capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND CAPABILITY_RESOURCE_POLICY"' in text
    assert "[staging.global.parameters]" in text and "[prod.deploy.parameters]" in text
    assert "SafeDeployEnvironment=prod" in text


def test_a_hooks_folder_that_init_did_not_write_is_left_alone(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "mine.py").write_text("x = 1\n")
    assert _init(template, "--yes") == 2
    assert "was not written by safedeploy init" in capsys.readouterr().err
    assert not (tmp_path / "hooks" / "template.yaml").exists()
    assert "AutoPublishAlias" not in template.read_text()


def test_an_atomic_write_leaves_the_old_file_when_it_fails(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "template.yaml"
    target.write_text("old\n")

    def refuse(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, b"new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["template.yaml"]  # no temporary file left


def test_generated_cases_assert_an_answer() -> None:
    (request,) = load_cases(
        {"cases": [{"name": "r", "request": {"path": "/"}, "expect": {"status_below": 500}}]}
    )
    assert evaluate(request, 404, None, 1.0).passed
    assert not evaluate(request, 503, None, 1.0).passed
    assert not evaluate(request, None, None, 1.0).passed
    (http_api,) = load_cases({"cases": [{"name": "h", "event": {}, "expect": {"status_below": 500}}]})
    assert evaluate(http_api, None, {"any": "body"}, 1.0).passed  # HTTP API: no statusCode is a 200
    assert not evaluate(http_api, 502, None, 1.0).passed
    (event,) = load_cases({"cases": [{"name": "e", "event": {}, "expect": {"no_function_error": True}}]})
    assert evaluate(event, None, None, 1.0).passed
    with pytest.raises(Exception, match="must check something"):
        load_cases(
            {"cases": [{"name": "r", "request": {"path": "/"}, "expect": {"no_function_error": True}}]}
        )


def test_the_post_traffic_hook_reads_the_api_url_from_a_parameter_it_names(
    tmp_path: Path, capsys: Any
) -> None:
    template = _project(tmp_path)
    assert _init(template, "--yes") == 0
    resources = load_template(template)["Resources"]
    parameter = resources["ApiUrlParameter"]["Properties"]
    assert parameter["Value"] == {
        "Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod"
    }
    assert resources["Hooks"]["Properties"]["Parameters"]["ApiUrlParameterName"] == parameter["Name"]


def test_routes_on_two_apis_are_refused_since_the_hook_goes_through_one(tmp_path: Path, capsys: Any) -> None:
    text = (
        APP.replace(
            "      Events:\n        Jobs:\n",
            "      Events:\n        Web:\n          Type: Api\n          Properties:\n            Path: /jobs\n"
            "            Method: get\n            RestApiId: !Ref Other\n        Jobs:\n",
        )
        + "  Other:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n"
    )
    template = _project(tmp_path, text)
    assert _init(template, "--yes") == 2
    assert "several APIs" in capsys.readouterr().err
    assert _init(template, "--yes", "--function", "WorkerFunction") == 0
    parameter = load_template(template)["Resources"]["ApiUrlParameter"]["Properties"]
    assert parameter["Value"] == {
        "Fn::Sub": "https://${Other}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1"
    }


def test_an_http_api_route_is_tested_with_its_own_event_format(tmp_path: Path, capsys: Any) -> None:
    text = APP.replace("          Type: Api\n", "          Type: HttpApi\n")
    template = _project(tmp_path, text)
    assert _init(template, "--yes") == 0
    (case,) = load_cases(json.loads((tmp_path / "hooks/smoke_cases/OrdersFunction.json").read_text()))
    assert case.request is None and case.event["version"] == "2.0"
    assert case.event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/orders/example",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "safedeploy-smoke",
    }
    assert case.expect.status_below == 500
    assert (
        "ApiUrlParameter" not in load_template(template)["Resources"]
    )  # no request case goes through an API


def test_source_sar_nests_the_published_apps_and_copies_nothing(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    args = ("--yes", "--source", "sar", "--sar-account", "123456789012", "--sar-version", "1.2.3")
    assert _init(template, *args) == 0
    location = load_template(template)["Resources"]["Hooks"]["Properties"]["Location"]
    assert location == {
        "ApplicationId": "arn:aws:serverlessrepo:us-east-1:123456789012:applications/safe-deploy-hooks",
        "SemanticVersion": "1.2.3",
    }
    assert not (tmp_path / "hooks").exists() and not (tmp_path / "alarms").exists()
    assert (tmp_path / "smoke_cases" / "OrdersFunction.json").is_file()
    assert "SmokeCaseLocation" in capsys.readouterr().err


def test_on_a_terminal_it_shows_the_diff_and_writes_only_when_told_yes(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    template = _project(tmp_path)
    before = _files(tmp_path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert _init(template) == 1
    assert "+      AutoPublishAlias: live" in capsys.readouterr().out
    assert _files(tmp_path) == before
    monkeypatch.setattr("builtins.input", lambda _prompt: "y")
    assert _init(template) == 0
    assert "AutoPublishAlias: live" in template.read_text()


def test_type_sets_every_environment(tmp_path: Path, capsys: Any) -> None:
    template = _project(tmp_path)
    assert _init(template, "--yes", "--type", "Canary10Percent30Minutes") == 0
    parameters = load_template(template)["Parameters"]
    assert parameters["SafeDeployDeploymentType"]["Default"] == "Canary10Percent30Minutes"
    assert (tmp_path / "samconfig.toml").read_text().count(
        "SafeDeployDeploymentType=Canary10Percent30Minutes"
    ) == 3
    assert _init(template, "--type", "Fast") == 2


def test_a_later_init_updates_the_kit_it_copied_and_keeps_the_users_cases(
    tmp_path: Path, capsys: Any
) -> None:
    template = _project(tmp_path)
    assert _init(template, "--yes") == 0
    (tmp_path / "hooks" / ".safedeploy-kit").write_text("version = 0.0.1\n")
    (tmp_path / "hooks" / "pre_traffic.py").write_text("old\n")
    cases = (tmp_path / "hooks" / "smoke_cases" / "OrdersFunction.json").read_text()
    capsys.readouterr()
    assert _init(template, "--yes") == 0
    assert "hooks updated from 0.0.1" in capsys.readouterr().err
    assert (tmp_path / "hooks" / "pre_traffic.py").read_text() != "old\n"
    assert (tmp_path / "hooks" / "smoke_cases" / "OrdersFunction.json").read_text() == cases


def test_crlf_line_endings_stay_crlf(tmp_path: Path, capsys: Any) -> None:
    template = tmp_path / "template.yaml"
    template.write_bytes(APP.replace("\n", "\r\n").encode())
    assert _init(template, "--yes") == 0
    data = template.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") and b"AutoPublishAlias: live\r\n" in data


def test_what_invokes_the_unqualified_function_around_the_alias_is_reported(
    tmp_path: Path, capsys: Any
) -> None:
    text = APP + (
        "  Nightly:\n    Type: AWS::Events::Rule\n    Properties:\n      ScheduleExpression: rate(1 day)\n"
        "      Targets:\n        - Id: worker\n          Arn: !GetAtt WorkerFunction.Arn\n"
        "  NightlyPermission:\n    Type: AWS::Lambda::Permission\n    Properties:\n"
        "      FunctionName: !Ref WorkerFunction\n      Action: lambda:InvokeFunction\n"
        "      Principal: events.amazonaws.com\n"
    )
    template = _project(tmp_path, text)
    assert _init(template, "--yes") == 0
    err = capsys.readouterr().err
    assert "warning: Nightly: its target invokes WorkerFunction unqualified" in err
    assert "warning: NightlyPermission (AWS::Lambda::Permission) names WorkerFunction unqualified" in err


def test_a_generated_request_case_carries_its_path_parameters() -> None:
    # GIVEN a route with path parameters (API Gateway sends them in the event's pathParameters)
    from safedeploy.adopt.smoke_cases import PATH_PLACEHOLDER, _request_case

    case, _ = _request_case("GET", "/items/{id}/{proxy+}")
    # THEN the case fills the path and the parameters alike, so the handler sees both
    assert case["request"]["path"] == f"/items/{PATH_PLACEHOLDER}/{PATH_PLACEHOLDER}"
    assert case["request"]["path_parameters"] == {"id": PATH_PLACEHOLDER, "proxy": PATH_PLACEHOLDER}
    assert "path_parameters" not in _request_case("GET", "/hello")[0]["request"]
