"""The new rules on real templates from the public corpora (skipped without ../shared/corpus)."""

from __future__ import annotations

import pytest

from safedeploy.rules import Finding, check
from safedeploy.template.scope import build_scope
from tests.corpus.test_public_templates import CORPUS, MANIFESTS, listed

MORE = CORPUS / "more"
pytestmark = pytest.mark.skipif(not MORE.is_dir(), reason=f"no public template corpus at {MORE}")


def findings(file: str) -> list[Finding]:
    """check on a template of the second corpus, with the parameter values its manifest records."""
    (entry,) = [e for e in listed(MANIFESTS[1]) if e["file"] == f"more/{file}"]
    return check(build_scope(MORE / file, entry.get("parameters") or {}))


def test_a_misspelt_deployment_type_among_a_parameter_s_allowed_values() -> None:
    # watersofoblivion/dataless: AllowedValues lists Linear10PercentEvery1Minutes (no such predefined type)
    found = [
        f for f in findings("watersofoblivion__dataless/svc/advertising/service.yaml") if f.rule == "SD108"
    ]
    assert [(f.resource, f.severity) for f in found] == [("DeploymentPreference", "warning")]
    assert "'Linear10PercentEvery1Minutes'" in found[0].message
    assert "did you mean 'Linear10PercentEvery1Minute'?" in found[0].message


def test_event_source_mappings_bound_to_the_unqualified_function() -> None:
    # govuk-one-login/ipvreturn-api: two hand-written mappings name the function, not its alias
    found = findings("govuk-one-login__ipvreturn-api/deploy/template.yaml")
    mappings = sorted(f.resource for f in found if f.rule == "SD110" and "EventSourceMapping" in f.message)
    assert mappings == ["PostEventFunctionSourceMapping", "SessionEventsTableStream"]
    # a permission beside one on the alias (ipv-cri-common-lambdas has both) sends no traffic
    common = findings("govuk-one-login__ipv-cri-common-lambdas/infrastructure/lambda/template.yaml")
    assert not [f for f in common if f.rule == "SD110"]


def test_a_control_template_gets_the_note_that_nothing_is_gradual() -> None:
    found = [f for f in findings("singledigit__kinesis-fan-out-sam/template.yaml") if f.rule == "SD109"]
    assert len(found) == 1 and found[0].severity == "info" and found[0].details["functions"]


def test_a_parameter_s_finding_points_at_the_parameter_not_a_property_of_its_name() -> None:
    (found,) = [
        f for f in findings("watersofoblivion__dataless/svc/advertising/service.yaml") if f.rule == "SD108"
    ]
    text = (MORE / "watersofoblivion__dataless/svc/advertising/service.yaml").read_text().splitlines()
    assert (
        text[found.line - 1].strip() == "DeploymentPreference:" and text[found.line].strip() == "Type: String"
    )
