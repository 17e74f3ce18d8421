"""The built artefacts, run by `sam local invoke` in the stand-in Lambda image.

The functions answer their events; the hooks, in their containers, report to a moto server what a
deployment of a healthy or a faulty version deserves (asserted on the server's records, not on the
hook's exit); and a function whose requirements.txt lacks what it imports fails the check.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.helpers import EVENTS, ROOT, appspec, lambda_role, load_event, publish_versions
from tests.local.conftest import IMAGE, Invocation, sam_build, sam_invoke

REGION = "us-east-1"
ACCOUNT = "123456789012"
APP = "safe-deploy-local-ServerlessDeploymentApplication"
GROUP = "safe-deploy-local-DeploymentGroup"
HOOK_ENV = {
    "ENVIRONMENT_NAME": "dev",
    "DEPLOYMENT_APPLICATION": APP,
    "SMOKE_CASE_LOCATION": "smoke_cases",
    "API_URL_PARAMETER": "",
    "NOTIFICATION_TOPIC_ARN": "",
    "EMF_NAMESPACE": "",
    "UNDECIDED_VERDICT": "fail",
}
MINUTES = 3
FUNCTION_ENV = {
    "POWERTOOLS_SERVICE_NAME": "safe-deploy-local",
    "POWERTOOLS_METRICS_NAMESPACE": "SafeDeployLocal",
}


def answered(invocation: Invocation) -> dict[str, Any]:
    """The check every invocation must pass: the function ran and answered without an error."""
    if invocation.error_type:
        raise AssertionError(
            f"function failed: {invocation.error_type}: {invocation.response.get('errorMessage')}"
        )
    assert isinstance(invocation.response, dict)
    return invocation.response


@pytest.mark.parametrize(
    ("function_id", "event", "status"),
    [
        ("HelloWorldFunction", "api_get_hello.json", 200),
        ("HelloWorldFunction", "api_post_greetings_invalid.json", 400),
    ],
)
def test_hello_world_answers_its_api_events(built: Path, function_id: str, event: str, status: int) -> None:
    out = answered(sam_invoke(built / "template.yaml", function_id, EVENTS / event))
    assert out["statusCode"] == status


def test_echo_answers_its_event(built: Path) -> None:
    out = answered(sam_invoke(built / "template.yaml", "EchoFunction", EVENTS / "echo.json"))
    assert out["ok"] is True and out["echo"] == load_event("echo.json")["message"]


def client(endpoint: str, service: str) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def run_built_handler(runtime: Any, built: Path, logical: str, handler: str, name: str) -> None:
    """Invocations of `name` in moto run the BUILT handler of `logical`, in this process."""
    from safedeploy.rehearsal.functions import load_module

    module_name, _, attribute = handler.rpartition(".")
    module = load_module(built / logical, module_name, FUNCTION_ENV)
    runtime.register(name, getattr(module, attribute))


def deployment(endpoint: str, event: dict[str, Any], function: str, role: str) -> None:
    """A CodeDeploy deployment v1 -> v2 of `function`, under the id the event file carries, started
    MINUTES ago (the judge needs per-minute values of both versions)."""
    from moto.backends import get_backend

    cd = client(endpoint, "codedeploy")
    cd.create_application(applicationName=APP, computePlatform="Lambda")
    cd.create_deployment_group(
        applicationName=APP,
        deploymentGroupName=GROUP,
        serviceRoleArn=role,
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    )
    content = appspec(function, current="1", target="2")
    created = cd.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
        },
    )["deploymentId"]
    backend = get_backend("codedeploy")[ACCOUNT][REGION]  # type: ignore[call-overload]
    record = backend.deployments.pop(created)
    record.deployment_id, record.status = event["DeploymentId"], "InProgress"
    record.create_time = record.create_time - timedelta(minutes=MINUTES + 1)
    backend.deployments[event["DeploymentId"]] = record


def hook_env(function: str) -> dict[str, str]:
    return {**HOOK_ENV, "ALLOWED_FUNCTIONS": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"}


def invoke_hook(
    built: Path, hook: str, event_file: str, function: str, image: str, gateway: str
) -> Invocation:
    return sam_invoke(
        built / "template.yaml",
        f"Hooks/{hook}",
        EVENTS / event_file,
        image=image,
        env=hook_env(function),
        hosts={"aws.local": gateway},
    )


@pytest.mark.parametrize(
    ("new_env", "expected", "reason"),
    [({"FAULT_MODE": "none"}, "Succeeded", ""), ({"FAULT_MODE": "error"}, "Failed", "injected fault")],
    ids=["healthy", "faulty"],
)
def test_pre_traffic_hook_reports_what_the_new_version_deserves(
    built: Path,
    hook_image: str,
    gateway: str,
    moto_on_bridge: Any,
    new_env: dict[str, str],
    expected: str,
    reason: str,
) -> None:
    endpoint, runtime, records = moto_on_bridge
    name = "safe-deploy-local-HelloWorldFunction"
    lam = client(endpoint, "lambda")
    role = lambda_role(client(endpoint, "iam"))
    env = {**FUNCTION_ENV, "FAULT_MODE": "none"}
    publish_versions(
        lam, role, name, [env, {**FUNCTION_ENV, **new_env}], {"safedeploy:smoke-cases": "hello_world"}
    )
    run_built_handler(runtime, built, "HelloWorldFunction", "app.lambda_handler", name)
    event = load_event("pre_traffic.json")
    deployment(endpoint, event, name, role)

    out = invoke_hook(built, "PreTrafficHook", "pre_traffic.json", name, hook_image, gateway)

    assert [(r.deployment_id, r.execution_id, r.status) for r in records.reports] == [
        (event["DeploymentId"], event["LifecycleEventHookExecutionId"], expected)
    ], out.stderr[-2000:]
    assert {i.executed_version for i in runtime.invocations} == {"2"}  # only the new version was tested
    assert answered(out)["status"] == expected and reason in answered(out)["reason"]


def put_version_metrics(endpoint: str, function: str, counts: dict[str, tuple[int, int]]) -> None:
    """Lambda's per-version series behind the alias, per minute: {version: (invocations, errors)}."""
    cw = client(endpoint, "cloudwatch")
    now = datetime.now(UTC)
    for (version, (invocations, errors)), minute in itertools.product(counts.items(), range(1, MINUTES + 1)):
        stamp = now - timedelta(minutes=minute)
        dims = [
            {"Name": "FunctionName", "Value": function},
            {"Name": "Resource", "Value": f"{function}:live"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        cw.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": dims, "Value": invocations, "Timestamp": stamp},
                {"MetricName": "Errors", "Dimensions": dims, "Value": errors, "Timestamp": stamp},
                {
                    "MetricName": "Duration",
                    "Dimensions": dims,
                    "Values": [180.0, 200.0, 210.0, 230.0],
                    "Counts": [invocations / 4] * 4,
                    "Timestamp": stamp,
                },
            ],
        )


@pytest.mark.parametrize(
    ("new_counts", "expected", "reason"),
    [((3000, 3), "Succeeded", ""), ((3000, 600), "Failed", "canary judge: FAIL")],
    ids=["new-version-as-good-as-the-old", "new-version-erring"],
)
def test_post_traffic_hook_judges_the_new_version_against_the_old(
    built: Path,
    hook_image: str,
    gateway: str,
    moto_on_bridge: Any,
    new_counts: tuple[int, int],
    expected: str,
    reason: str,
) -> None:
    endpoint, runtime, records = moto_on_bridge
    name = "safe-deploy-local-EchoFunction"
    lam = client(endpoint, "lambda")
    role = lambda_role(client(endpoint, "iam"))
    publish_versions(lam, role, name, [FUNCTION_ENV, FUNCTION_ENV], {"safedeploy:smoke-cases": "echo"})
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")  # the shift is complete
    run_built_handler(runtime, built, "EchoFunction", "echo.lambda_handler", name)
    event = load_event("post_traffic.json")
    deployment(endpoint, event, name, role)
    put_version_metrics(endpoint, name, {"1": (27000, 27), "2": new_counts})

    out = invoke_hook(built, "PostTrafficHook", "post_traffic.json", name, hook_image, gateway)

    assert [(r.execution_id, r.status) for r in records.reports] == [
        (event["LifecycleEventHookExecutionId"], expected)
    ], out.stderr[-2000:]
    assert {i.executed_version for i in runtime.invocations} == {"2"}
    assert answered(out)["status"] == expected and reason in answered(out)["reason"]


FIXTURE = Path(__file__).parent / "fixtures" / "needs_powertools"


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "missing"])
def test_a_dependency_missing_from_requirements_fails_the_check(
    docker_client: Any, tmp_path: Path, declared: bool
) -> None:
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app)
    requirements = (ROOT / "hello_world" / "requirements.txt").read_text() if declared else ""
    (app / "src" / "requirements.txt").write_text(requirements)
    sam_build(app / "template.yaml", app / ".aws-sam" / "build")
    invocation = sam_invoke(
        app / ".aws-sam" / "build" / "template.yaml", "Function", EVENTS / "echo.json", image=IMAGE
    )
    if declared:
        assert answered(invocation) == {"ok": True}
    else:
        assert invocation.error_type == "Runtime.ImportModuleError"
        with pytest.raises(AssertionError, match=r"Runtime\.ImportModuleError"):
            answered(invocation)
