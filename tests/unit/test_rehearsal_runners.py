"""The rehearsal's function runners: each function in its own process, with only its template's
environment, fake credentials and the fake account's endpoint; outside hosts refused and reported;
faults injected around the handler in every runtime."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from safedeploy.errors import UserError
from safedeploy.offline.inprocess_lambda import LambdaContext
from safedeploy.rehearsal.faults import BAD_BODY, FAULT_SLOW_S, FaultPlan, InjectedFault
from safedeploy.rehearsal.isolation import service_of
from safedeploy.rehearsal.process import FunctionError
from safedeploy.rehearsal.runtimes import FunctionSpec, RehearsedFunction, start_process

ENDPOINT = "http://127.0.0.1:9"  # nothing answers there; these functions make no AWS call to it

PYTHON_APP = """
import os, socket, urllib.request

def handler(event, context):
    if event.get("call"):
        try:
            urllib.request.urlopen(event["call"], timeout=5)
        except Exception as exc:
            return {"statusCode": 200, "body": type(exc).__name__}
    try:
        import rich  # the CLI's package: not the function's
        cli_packages = True
    except ImportError:
        cli_packages = False
    import boto3  # what Lambda's Python runtime provides
    print("a log line")
    return {
        "env": dict(os.environ),
        "cli_packages": cli_packages,
        "boto3": bool(boto3.__version__),
        "version": context.function_version,
        "remaining": context.get_remaining_time_in_millis(),
        "request": context.aws_request_id,
        "arn": context.invoked_function_arn,
    }
"""

NODE_CJS = """
const https = require("https");
exports.handler = (event, context, callback) => {
  if (event.call) {
    https.get(event.call, () => callback(null, { statusCode: 200, body: "reached" }))
      .on("error", (e) => callback(null, { statusCode: 200, body: e.code }));
    return;
  }
  console.log("a log line");
  callback(null, {
    env: process.env,
    version: context.functionVersion,
    name: context.functionName,
    arn: context.invokedFunctionArn,
    memory: context.memoryLimitInMB,
    request: context.awsRequestId,
    group: context.logGroupName,
    remaining: context.getRemainingTimeInMillis(),
  });
};
"""

NODE_ESM = """
export const handler = async (event, context) => ({ statusCode: 200, body: JSON.stringify({
  version: context.functionVersion, table: process.env.TABLE })});
"""


@pytest.fixture(autouse=True)
def runner_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN a CI runner's own credentials and tokens in the CLI's environment
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "runner-secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIARUNNER")
    monkeypatch.setenv("GITHUB_TOKEN", "runner-token")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def spec_of(code_dir: Path, runtime: str, handler: str, **extra: Any) -> FunctionSpec:
    return FunctionSpec(
        logical="Fn",
        physical="rehearsal-Fn",
        runtime=runtime,
        handler=handler,
        code_dir=code_dir,
        template_dir=code_dir.parent,
        env={"TABLE": "rehearsal-Table-1", **extra.pop("env", {})},
        timeout_s=10.0,
        memory_mb=256,
        **extra,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Any]:
    made: list[RehearsedFunction] = []

    def start(spec: FunctionSpec, fault: str = "none", rate: float = 100.0) -> RehearsedFunction:
        process, _ = start_process(spec, ENDPOINT, "eu-west-1", tmp_path / "home")
        function = RehearsedFunction(spec, process, FaultPlan(fault, rate, "2", seed=7))
        made.append(function)
        return function

    yield start
    for function in made:
        function.process.close()


def context(version: str = "2") -> LambdaContext:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:rehearsal-Fn"
    return LambdaContext(
        "rehearsal-Fn", version, f"{arn}:live", 256, 10.0, log_group_name="/aws/lambda/rehearsal-Fn"
    )


def python_function(tmp_path: Path) -> FunctionSpec:
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text(PYTHON_APP)
    return spec_of(code, "python3.12", "app.handler")


def test_a_python_function_sees_its_template_environment_and_nothing_of_the_cli(
    tmp_path: Path, running: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    function = running(python_function(tmp_path))
    # WHEN it is invoked
    result = function({}, context())
    env = result["env"]
    # THEN its environment is the template's, Lambda's and the fake account's alone
    assert env["TABLE"] == "rehearsal-Table-1"
    assert env["AWS_ACCESS_KEY_ID"] == "rehearsed-function" and env["AWS_SECRET_ACCESS_KEY"] == "rehearsal"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT and env["AWS_REGION"] == "eu-west-1"
    assert "GITHUB_TOKEN" not in env and "runner-secret" not in json.dumps(env)
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "2"
    # AND it runs on its own packages: the CLI's are not importable, the runtime's boto3 is
    assert result["cli_packages"] is False and result["boto3"] is True
    assert result["version"] == "2" and result["arn"].endswith(":live") and 0 < result["remaining"] <= 10_000
    # AND what it printed is the call's log (where the rehearsal reads EMF metrics)
    assert "a log line" in capsys.readouterr().out


def test_a_python_function_calling_a_real_endpoint_is_refused_and_named(tmp_path: Path, running: Any) -> None:
    function = running(python_function(tmp_path))
    # WHEN the code calls a real AWS endpoint itself
    result = function({"call": "https://dynamodb.us-east-1.amazonaws.com/"}, context())
    # THEN the call fails at once, and the rehearsal knows which function tried which service
    assert result["body"] in ("URLError", "ConnectionRefusedError")
    assert [(r.function, r.service) for r in function.refusals] == [("Fn", "dynamodb")]
    assert "Fn called dynamodb" in function.refusals[0].message()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_a_node_function_gets_the_lambda_context_and_only_its_environment(
    tmp_path: Path, running: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.js").write_text(NODE_CJS)
    function = running(spec_of(code, "nodejs20.x", "app.handler"))
    result = function({}, context())
    env = result["env"]
    assert env["TABLE"] == "rehearsal-Table-1" and env["AWS_ENDPOINT_URL"] == ENDPOINT
    assert env["AWS_ACCESS_KEY_ID"] == "rehearsed-function" and "GITHUB_TOKEN" not in env
    assert result["version"] == "2" and result["name"] == "rehearsal-Fn" and result["memory"] == "256"
    assert result["arn"].endswith(":live") and result["group"] == "/aws/lambda/rehearsal-Fn"
    assert result["request"] and 0 < result["remaining"] <= 10_000
    assert "a log line" in capsys.readouterr().out
    # a call to a real endpoint is refused and named
    refused = function({"call": "https://sqs.us-east-1.amazonaws.com/"}, context())
    assert refused["body"] == "ECONNREFUSED"
    assert [r.service for r in function.refusals] == ["sqs"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_a_node_es_module_handler_runs(tmp_path: Path, running: Any) -> None:
    code = tmp_path / "function"
    code.mkdir()
    (code / "index.mjs").write_text(NODE_ESM)
    function = running(spec_of(code, "nodejs22.x", "index.handler"))
    assert json.loads(function({}, context("1"))["body"]) == {"version": "1", "table": "rehearsal-Table-1"}


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x"])
def test_faults_wrap_the_handler_of_the_new_version_only(runtime: str, tmp_path: Path, running: Any) -> None:
    if runtime.startswith("node") and shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text(
        "def handler(e, c):\n    return {'statusCode': 200, 'body': '{\"ok\": 1}'}\n"
    )
    (code / "app.js").write_text("exports.handler = async () => ({statusCode: 200, body: '{\"ok\": 1}'});\n")
    spec = spec_of(code, runtime, "app.handler")
    # an error for every call of v2; v1 untouched
    failing = running(spec, "error")
    with pytest.raises(InjectedFault):
        failing({}, context("2"))
    assert failing({}, context("1"))["statusCode"] == 200
    # a bad answer: a success whose body breaks the contract
    bad = running(spec, "bad-response")
    assert json.loads(bad({}, context("2"))["body"]) == BAD_BODY


def test_a_slow_fault_sleeps_on_the_clock_it_is_given() -> None:
    class Clock:
        slept = 0.0

        def sleep(self, seconds: float) -> None:
            self.slept += seconds

    clock = Clock()
    plan = FaultPlan("slow", 100.0, "2", seed=1)
    FaultPlan.before(plan.draw("2"), clock)
    assert clock.slept == FAULT_SLOW_S
    assert plan.draw("1") == "none"


def test_a_fault_rate_is_a_share_of_the_calls_and_each_stream_draws_alone() -> None:
    plan = FaultPlan("error", 20.0, "2", seed=3)
    draws = [plan.draw("2") for _ in range(5000)]
    assert 0.17 < draws.count("error") / 5000 < 0.23
    # the users' draws do not depend on how many draws the hooks made before them
    a, b = FaultPlan("error", 20.0, "2", seed=3), FaultPlan("error", 20.0, "2", seed=3)
    for _ in range(7):
        b.draw("2", "hooks")
    assert [a.draw("2") for _ in range(50)] == [b.draw("2") for _ in range(50)]


def test_a_function_that_fails_to_load_is_one_line_naming_it(tmp_path: Path, running: Any) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text("import not_installed_anywhere\n")
    with pytest.raises(UserError, match=r"^Fn failed to load: ModuleNotFoundError: .*not_installed_anywhere"):
        running(spec_of(code, "python3.12", "app.handler"))


def test_a_function_error_is_lambdas_unhandled_error(tmp_path: Path, running: Any) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text("def handler(e, c):\n    raise ValueError('boom')\n")
    function = running(spec_of(code, "python3.12", "app.handler"))
    with pytest.raises(FunctionError, match="boom") as raised:
        function({}, context())
    assert raised.value.payload["errorType"] == "ValueError"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"runtime": "java21"}, "runs on java21: a rehearsal runs Python and Node.js"),
        ({"runtime": "provided.al2023"}, "try `sam local invoke`"),
        (
            {"layers": ("arn:aws:lambda:us-east-1:753240598075:layer:LambdaAdapterLayerX86:26",)},
            "runs behind the Lambda Web Adapter layer",
        ),
        ({"build_method": "esbuild"}, "is built by esbuild (Metadata BuildMethod): run `sam build` first"),
    ],
)
def test_what_a_rehearsal_cannot_run_is_one_line_saying_what_it_needs(
    changes: dict[str, Any], message: str, tmp_path: Path
) -> None:
    base = spec_of(tmp_path, "python3.12", "app.handler")
    spec = FunctionSpec(**{**base.__dict__, **changes})
    with pytest.raises(UserError, match=r"^Fn ") as raised:
        start_process(spec, ENDPOINT, "us-east-1", tmp_path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_failed_install_is_one_line_naming_the_function_and_the_file(tmp_path: Path, running: Any) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (code / "requirements.txt").write_text("this-is-not/a valid requirement==\n")
    with pytest.raises(UserError, match=r"^Fn: installing .*requirements.txt failed: ") as raised:
        running(spec_of(code, "python3.12", "app.handler"))
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("host", "service"),
    [
        ("dynamodb.us-east-1.amazonaws.com", "dynamodb"),
        ("my-bucket.s3.eu-west-1.amazonaws.com", "s3"),
        ("sts.amazonaws.com", "sts"),
        ("lambda.us-east-1.api.aws", "lambda"),
        ("example.org", "example.org"),
    ],
)
def test_a_refused_host_is_named_by_its_service(host: str, service: str) -> None:
    assert service_of(host) == service


def test_random_is_untouched_by_fault_plans() -> None:
    state = random.getstate()
    FaultPlan("error", 50.0, "2", seed=1).draw("2")
    assert random.getstate() == state


def test_without_the_rehearse_extra_the_message_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from safedeploy.rehearsal.options import RehearsalOptions
    from safedeploy.rehearsal.run import rehearse

    real_import = builtins.__import__

    def no_moto(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("moto"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_moto)
    with pytest.raises(UserError, match=r"pip install 'safedeploy\[rehearse\]'"):
        rehearse(RehearsalOptions(Path("template.yaml")))


@pytest.mark.parametrize(
    ("status", "fault", "outcome", "as_expected"),
    [
        ("Succeeded", "none", "Succeeded", True),
        ("Stopped", "error", "rolled back", True),
        ("Failed", "slow", "rolled back", True),
        ("Succeeded", "error", "Succeeded", False),
        ("Stopped", "none", "rolled back", False),
    ],
)
def test_the_verdict_compares_the_outcome_with_what_the_fault_predicts(
    status: str, fault: str, outcome: str, as_expected: bool
) -> None:
    from safedeploy.rehearsal.report import verdict

    found = verdict(status, fault)
    assert (found.outcome, found.as_expected) == (outcome, as_expected)


def test_while_the_hooks_run_in_the_cli_its_environment_holds_no_runner_secret(tmp_path: Path) -> None:
    import os

    from safedeploy.rehearsal.isolation import scrubbed_process_environment

    with scrubbed_process_environment(ENDPOINT, "us-east-1", tmp_path):
        inside = dict(os.environ)
    assert "GITHUB_TOKEN" not in inside and inside["AWS_SECRET_ACCESS_KEY"] == "rehearsal"
    assert inside["AWS_ENDPOINT_URL"] == ENDPOINT and "PATH" in inside
    assert os.environ["GITHUB_TOKEN"] == "runner-token"  # restored after


def test_rehearse_help_says_it_runs_the_templates_code(capsys: pytest.CaptureFixture[str]) -> None:
    from safedeploy import cli

    with pytest.raises(SystemExit):
        cli.main(["rehearse", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "RUNS THE TEMPLATE'S CODE" in text and "refused and reported" in text


def test_sam_builds_output_is_used_only_while_it_is_newer_than_the_sources(tmp_path: Path) -> None:
    import os

    from safedeploy.rehearsal.dependencies import built_code

    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text("x = 1\n")
    built = tmp_path / ".aws-sam" / "build" / "Fn"
    built.mkdir(parents=True)
    marker = tmp_path / ".aws-sam" / "build" / "template.yaml"
    marker.write_text("built\n")
    os.utime(code / "app.py", (1000, 1000))
    os.utime(marker, (2000, 2000))
    assert built_code(tmp_path, "Fn", code) == built
    # WHEN a source changes after the build THEN the sources run (with their own installed packages)
    os.utime(code / "app.py", (3000, 3000))
    assert built_code(tmp_path, "Fn", code) is None
    assert built_code(tmp_path, "Other", code) is None


def test_a_template_without_a_protected_function_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safedeploy import cli

    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: src/}\n"
    )
    assert cli.main(["rehearse", str(template)]) == 2
    err = capsys.readouterr().err
    assert "has no function with a DeploymentPreference to rehearse" in err and err.count("\n") == 1
