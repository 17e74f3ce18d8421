"""The nested applications are publishable to the Serverless Application Repository."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from safedeploy.template.loader import load_template, translate
from safedeploy.template.samconfig import environment_settings
from safedeploy.template.scope import build_scope
from tests.template.conftest import ROOT

# The SAR developer guide's "List of Supported AWS Resources", kept as data with its source and the
# date it was read.
SUPPORTED_LIST = json.loads((Path(__file__).parent / "sar_supported_resources.json").read_text())
SAR_SUPPORTED = frozenset(SUPPORTED_LIST["types"])
# Resource policies a consumer must acknowledge with CAPABILITY_RESOURCE_POLICY (SAR developer guide,
# "Using AWS SAM with the AWS Serverless Application Repository").
RESOURCE_POLICIES = {
    "AWS::Lambda::LayerVersionPermission",
    "AWS::Lambda::Permission",
    "AWS::Events::EventBusPolicy",
    "AWS::IAM::Policy",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
}
REQUIRED = (
    "Name",
    "Description",
    "Author",
    "SpdxLicenseId",
    "LicenseUrl",
    "ReadmeUrl",
    "Labels",
    "HomePageUrl",
    "SemanticVersion",
    "SourceCodeUrl",
)
NESTED = ("hooks/template.yaml", "alarms/template.yaml")


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k == "Ref" or k.startswith("Fn::") or _has_intrinsic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False


@pytest.mark.parametrize("path", [*NESTED, "template.yaml"])
def test_sar_metadata_is_complete(path: str) -> None:
    template = load_template(ROOT / path)
    meta = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert [k for k in REQUIRED if not meta.get(k)] == []
    assert not _has_intrinsic(meta)
    assert isinstance(meta["Labels"], list) and all(isinstance(x, str) for x in meta["Labels"])
    assert meta["SemanticVersion"].count(".") == 2
    for key in ("LicenseUrl", "ReadmeUrl"):
        assert (ROOT / path).parent.joinpath(meta[key]).resolve().is_file(), key


def test_the_supported_list_names_its_source() -> None:
    assert SUPPORTED_LIST["url"].startswith("https://docs.aws.amazon.com/serverlessrepo/")
    assert SUPPORTED_LIST["source"] and SUPPORTED_LIST["read"]
    assert "AWS::Lambda::EventInvokeConfig" in SAR_SUPPORTED
    assert "AWS::CloudWatch::CompositeAlarm" not in SAR_SUPPORTED


@pytest.mark.parametrize("path", NESTED)
def test_nested_apps_use_only_sar_supported_resources(path: str) -> None:
    template = load_template(ROOT / path)
    cfn = translate(template)
    sam_types = {r["Type"] for r in template["Resources"].values()}
    cfn_types = {r["Type"] for r in cfn["Resources"].values()}
    assert not {t for t in sam_types | cfn_types if t.startswith("AWS::CodeDeploy::")}
    # with its default parameters the app creates only resources SAR supports; anything else sits
    # behind a condition the consumer must turn on
    scope = build_scope(ROOT / path, _required_parameters(template))
    created = {r["Type"] for logical, r in scope.resources.items() if scope.active(logical)}
    assert created - SAR_SUPPORTED == set()
    assert (sam_types - {"AWS::CloudWatch::CompositeAlarm"}) - SAR_SUPPORTED == set()


def test_the_composite_alarm_is_optional_and_off_by_default() -> None:
    template = load_template(ROOT / "alarms/template.yaml")
    params = _required_parameters(template)
    off = build_scope(ROOT / "alarms/template.yaml", params)
    on = build_scope(ROOT / "alarms/template.yaml", {**params, "CreateServiceHealthAlarm": "true"})
    composites = [k for k, r in off.resources.items() if r["Type"] == "AWS::CloudWatch::CompositeAlarm"]
    assert composites and not any(off.active(k) for k in composites)
    assert all(on.active(k) for k in composites)


def test_consumers_acknowledge_the_hooks_resource_policy() -> None:
    hooks = translate(load_template(ROOT / "hooks/template.yaml"))
    assert {r["Type"] for r in hooks["Resources"].values()} & RESOURCE_POLICIES
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "staging", "prod"):
        assert "CAPABILITY_RESOURCE_POLICY" in environment_settings(config, env)["capabilities"].split()
    assert "CAPABILITY_RESOURCE_POLICY" in (ROOT / "hooks/README.md").read_text()


def _required_parameters(template: dict[str, Any]) -> dict[str, Any]:
    return {
        name: "x" if decl.get("Type") != "CommaDelimitedList" else "arn:aws:lambda:us-east-1:1:function:x"
        for name, decl in template.get("Parameters", {}).items()
        if "Default" not in decl
    }
