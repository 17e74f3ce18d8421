"""The nested applications are publishable to the Serverless Application Repository."""

from __future__ import annotations

from typing import Any

import pytest

from safedeploy.template.loader import load_template, translate
from tests.template.conftest import ROOT

# The SAR developer guide's "List of Supported AWS Resources" (types this project uses, all on it;
# read from awsdocs/aws-serverlessrepo-developer-guide, doc_source/list-supported-resources.md).
SAR_SUPPORTED = {
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Events::Rule",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SSM::Parameter",
    "AWS::Serverless::Function",
    "AWS::Serverless::Application",
}
# Newer than the list we could check offline; named here so nobody adds more without looking.
UNVERIFIED = {"AWS::CloudWatch::CompositeAlarm"}
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


@pytest.mark.parametrize("path", NESTED)
def test_nested_apps_use_only_sar_supported_resources(path: str) -> None:
    template = load_template(ROOT / path)
    sam_types = {r["Type"] for r in template["Resources"].values()}
    cfn_types = {r["Type"] for r in translate(template)["Resources"].values()}
    assert not {t for t in sam_types | cfn_types if t.startswith("AWS::CodeDeploy::")}
    assert (sam_types | cfn_types) - SAR_SUPPORTED - UNVERIFIED == set()
