"""Rehearsals of other people's apps: the public SAM apps in ../shared/apps/ (sources in its SOURCES.md),
copied to a temporary folder and given safe deployments, rehearsed by a `safedeploy` installed with pip
into a fresh venv outside this repository (its Python functions never run on this venv's packages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from safedeploy.template.loader import load_template
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

APPS = Path(os.environ.get("SAFEDEPLOY_APPS") or ROOT.parent / "shared" / "apps")
SMOKE_TAG = "safedeploy:smoke-cases"


# ------------------------------------------------------------------ giving an app safe deployments
def add_safe_deployment(
    project: Path, template_name: str, function: str, cases: list[dict[str, Any]]
) -> Path:
    """What the kit's own template does for its sample function, done to `function` of another app:
    the hooks and the alarm pack nested from copies beside the template, AutoPublishAlias `live`, a
    DeploymentPreference with the hooks' role and hooks and the pack's gate alarms, and the function's
    smoke cases where the pre-traffic hook reads them. (One place, to be replaced by `safedeploy init`.)"""
    for folder in ("hooks", "alarms"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    template = project / template_name
    sam = load_template(template)
    resources = sam["Resources"]
    props = resources[function]["Properties"]
    props["AutoPublishAlias"] = "live"
    props["Tags"] = {**(props.get("Tags") or {}), SMOKE_TAG: function.lower()}
    alarms = f"{function}Alarms"
    props["DeploymentPreference"] = {
        "Type": "Canary10Percent5Minutes",
        "Role": {"Fn::GetAtt": ["SafeDeployHooks", "Outputs.CodeDeployRoleArn"]},
        "Alarms": [
            {"Fn::GetAtt": [alarms, f"Outputs.{name}"]}
            for name in ("ErrorRateGateAlarm", "LatencyGateAlarm", "TimeoutGateAlarm", "ThrottleGateAlarm")
        ],
        "Hooks": {
            "PreTraffic": {"Fn::GetAtt": ["SafeDeployHooks", "Outputs.PreTrafficHookName"]},
            "PostTraffic": {"Fn::GetAtt": ["SafeDeployHooks", "Outputs.PostTrafficHookName"]},
        },
    }
    resources["SafeDeployHooks"] = {
        "Type": "AWS::Serverless::Application",
        "Properties": {
            "Location": "hooks/template.yaml",
            "Parameters": {
                "TargetFunctionArns": {"Fn::GetAtt": [function, "Arn"]},
                "DeploymentApplicationName": {"Ref": "ServerlessDeploymentApplication"},
                "ApiUrlParameterName": {"Fn::Sub": "/${AWS::StackName}/api-url"},
            },
        },
    }
    timeout = props.get("Timeout") or (sam.get("Globals") or {}).get("Function", {}).get("Timeout") or 3
    resources[alarms] = {
        "Type": "AWS::Serverless::Application",
        "Properties": {
            "Location": "alarms/template.yaml",
            "Parameters": {
                "FunctionName": {"Ref": function},
                "AliasName": "live",
                "FunctionVersion": {"Fn::GetAtt": [function, "Version.Version"]},
                "FunctionTimeoutSeconds": timeout,
            },
        },
    }
    template.write_text(yaml.safe_dump(sam, sort_keys=False))
    (project / "hooks" / "smoke_cases" / f"{function.lower()}.json").write_text(json.dumps({"cases": cases}))
    return template


# ------------------------------------------------------------------ the apps
@dataclass(frozen=True)
class App:
    folder: str
    function: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    template: str = "template.yaml"
    # None: a plain app, rehearsed; else what the one-line refusal must say
    refused: str | None = None
    # given safe deployments by `safedeploy init` (its own smoke cases), as a user would; False where
    # init refuses the app (ddb-stream-py names its functions: dev, staging and prod stacks would
    # collide), which then gets what the kit's own template does, with the cases above
    by_init: bool = True


def case(name: str, request: dict[str, Any], status: int, **expect: Any) -> dict[str, Any]:
    return {"name": name, "request": request, "expect": {"status": status, **expect}, "timeout_s": 10}


PLAIN = [
    App("hello-powertools-py", "HelloWorldFunction"),
    # the table and the bucket live in the fake account; init's case fills the path parameters with a
    # placeholder and asserts a status below 500 (no item is seeded: Not Found, which passes)
    App("lambda-mock-py", "SampleLambda"),
    App(
        "ddb-stream-py",
        "ProducerFunction",
        by_init=False,
        cases=[
            case(
                "insert an item",
                {
                    "method": "POST",
                    "path": "/",
                    "body": {"id": "1", "name": "n", "description": "d", "customer": "c"},
                },
                200,
            )
        ],
    ),
    App("nodejs-apig-esm", "function", template="template.yml"),
    App("apigw-observability-cjs", "SampleFunction"),
]
OTHERS = [
    App("fastapi-httpapi-py", "FastAPIFunction", refused="Lambda Web Adapter"),
    App("powertools-orders-ts", "PowertoolsFunction", refused="run `sam build` first"),
]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`safedeploy` from `pip install 'safedeploy[rehearse]'` in a fresh venv (one per session)."""
    if not APPS.is_dir():
        pytest.skip(f"the public apps are not at {APPS}")
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env_dir, with_pip=True)
    install = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{ROOT}[rehearse]"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    tool = env_dir / "bin" / "safedeploy"
    assert sys.prefix not in str(tool)
    yield tool


def project_of(app: App, tmp_path: Path, tool: Path) -> Path:
    project = tmp_path / app.folder
    shutil.copytree(APPS / app.folder, project)
    if not app.by_init:
        return add_safe_deployment(project, app.template, app.function, app.cases)
    template = project / app.template
    done = subprocess.run(
        [str(tool), "init", str(template), "--yes", "--function", app.function],
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return template


def rehearse(tool: Path, template: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`safedeploy rehearse` without --function: each app protects one function, the default."""
    # the runner's own secrets in the environment: they must not reach the function
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": "runner-secret", "GITHUB_TOKEN": "runner-token"}
    env.pop("PYTHONPATH", None)
    args = ["rehearse", str(template), "--speed", "1000000", "--rps", "5"]
    args += ["--format", "json"]
    return subprocess.run(
        [str(tool), *args, *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=template.parent.parent,
        env=env,
        timeout=900,
    )


@pytest.mark.parametrize("app", PLAIN, ids=[a.folder for a in PLAIN])
def test_a_plain_app_rehearses_healthy_and_rolls_back_a_faulty_release(
    app: App, installed: Path, tmp_path: Path
) -> None:
    template = project_of(app, tmp_path, installed)
    # WHEN a healthy release is rehearsed
    healthy = rehearse(installed, template)
    assert healthy.returncode == 0, healthy.stderr[-2000:] + healthy.stdout[-3000:]
    report = json.loads(healthy.stdout)
    # THEN it succeeds, every answer of the new version as its smoke cases expect
    assert report["outcome"] == "Succeeded", [e["message"] for e in report["events"]]
    assert report["function"] == f"rehearsal-{app.function}"
    assert report["requests"]["new_version"] > 0 and report["requests"]["faulty"] == 0
    assert report["refused_calls"] == []
    # WHEN a fifth of the new version's calls fail (no line of the app changed)
    faulty = rehearse(installed, template, "--fault", "error", "--fault-rate", "20")
    assert faulty.returncode == 0, faulty.stderr[-2000:] + faulty.stdout[-3000:]
    # THEN the release is rolled back
    assert json.loads(faulty.stdout)["outcome"] == "rolled back"


@pytest.mark.parametrize("app", OTHERS, ids=[a.folder for a in OTHERS])
def test_an_app_the_rehearsal_cannot_run_gets_one_line_saying_what_it_needs(
    app: App, installed: Path, tmp_path: Path
) -> None:
    template = project_of(app, tmp_path, installed)
    done = rehearse(installed, template)
    assert done.returncode == 2
    assert app.refused is not None and app.refused in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr


NOSY_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  NosyFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Hello:
          Type: Api
          Properties: {Path: /hello, Method: get}
"""

NOSY_APP = """
import json, os, urllib.request

def handler(event, context):
    try:  # straight to a real AWS endpoint, around the SDK and its endpoint setting
        urllib.request.urlopen("https://sts.amazonaws.com/", timeout=2)
    except OSError:
        pass
    seen = {"token": os.environ.get("GITHUB_TOKEN"), "secret": os.environ.get("AWS_SECRET_ACCESS_KEY")}
    return {"statusCode": 200, "body": json.dumps(seen)}
"""


def test_a_rehearsed_function_sees_no_runner_secret_and_its_outside_calls_are_named(
    installed: Path, tmp_path: Path
) -> None:
    # GIVEN a function that reads the runner's secrets and calls a real endpoint itself
    project = tmp_path / "nosy"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text(NOSY_APP)
    (project / "template.yaml").write_text(NOSY_TEMPLATE)
    expect = {"token": None, "secret": "rehearsal"}  # a leaked secret fails the smoke case
    template = add_safe_deployment(
        project, "template.yaml", "NosyFunction", [case("no secrets", {"path": "/hello"}, 200, json=expect)]
    )
    # WHEN it is rehearsed with the runner's secrets in the environment
    done = rehearse(installed, template)
    # THEN it ran with fake credentials only, and the output names who called which service
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-3000:]
    report = json.loads(done.stdout)
    assert report["outcome"] == "Succeeded"
    assert [(r["function"], r["service"]) for r in report["refused_calls"]] == [("NosyFunction", "sts")]
