"""Static commands make no AWS call whatever the template says: a nested application from the
Serverless Application Repository, an AWS::Include, a local DefinitionUri are unknowns, never a
request signed with the credentials at hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from safedeploy import cli
from safedeploy.template.scope import build_scope
from tests.helpers import LoopbackListener

HOSTILE = Path(__file__).parent / "hostile" / "network"
TEMPLATES = sorted(HOSTILE.glob("*.yaml"))
# Every way botocore (and anything using urllib3/requests) could be sent somewhere: the endpoint
# overrides for all services and the two the translator would build, and the proxies.
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SERVERLESSREPO",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackListener]:
    """Credentials set (the conftest's), and every AWS endpoint and proxy pointed at the listener."""
    server = LoopbackListener(hold=False)
    for name in ENDPOINT_VARIABLES:
        monkeypatch.setenv(name, server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield server
    server.close()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["check", "plan", "timing"])
def test_static_commands_reach_no_endpoint(
    template: Path, command: str, listener: LoopbackListener, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a template that names SAR applications, includes or local definitions
    # WHEN a static command reads it with credentials and endpoints at hand
    code = cli.main([command, str(template), "--format", "json"])
    out, err = capsys.readouterr()
    # THEN nothing was asked of any endpoint, and the answer is a document, not a traceback
    assert listener.seen == 0
    assert "Traceback" not in err and "credentials" not in err
    if command == "check" or code != 2:  # check: the template's problems are findings
        assert code in (0, 1), err
        json.loads(out)
    else:  # plan, timing: what cannot be translated is one line
        assert err.startswith("safedeploy: error: ") and err.count("\n") == 1


def test_a_sar_application_is_an_unknown_named_in_the_finding(
    listener: LoopbackListener, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["check", str(HOSTILE / "sar_nested.yaml"), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)
    assert code == 0  # nothing is proven wrong: the alarm's template is in SAR
    gate = next(f for f in findings if f["rule"] == "SD306")
    assert gate["severity"] == "warning"
    assert "Serverless Application Repository" in gate["message"]
    assert "unverified" in gate["message"]
    assert not any(f["rule"] in ("SD002", "SD003") for f in findings)


def test_the_loader_api_builds_a_scope_without_network(listener: LoopbackListener) -> None:
    """What `init` and any other static reader uses: a scope of the template, no request made."""
    scope = build_scope(HOSTILE / "sar_nested_by_parameter.yaml")
    assert "Hooks" not in scope.children  # an unknown, not fetched
    assert scope.resources["Hooks"]["Type"] == "AWS::CloudFormation::Stack"
    assert listener.seen == 0


@pytest.mark.parametrize("parameters", [[], ["--parameter", "Stage=prod"]])
def test_an_unreadable_include_is_unverified_with_or_without_parameters(
    parameters: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        (HOSTILE / "include_and_local_definitions.yaml")
        .read_text()
        .replace("      DeploymentPreference:\n        Type: AllAtOnce\n", "")
        + "  Broken:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./fn.yaml}}\n"
    )
    code = cli.main(["check", str(template), "--format", "json", *parameters])
    findings = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in findings] == ["SD053"]
    assert "AWS::Include" in findings[0]["message"] and "./fn.yaml" in findings[0]["message"]
    assert code == 0


def test_a_local_definition_uri_is_not_a_translation_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        [
            "check",
            str(HOSTILE / "include_and_local_definitions.yaml"),
            "--format",
            "json",
            "--parameter",
            "Stage=x",
        ]
    )
    findings = json.loads(capsys.readouterr().out)
    assert code == 0
    assert not any(f["rule"] in ("SD003", "SD053") for f in findings)
    # the finding names the function's own line, not a `Fn::Transform:` key that starts alike
    note = next(f for f in findings if f["rule"] == "SD105")
    assert note["line"] == 24
