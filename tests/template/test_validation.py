"""`make validate` as a test: sam validate --lint, cfn-lint and checkov on the translated templates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safedeploy.template.loader import load_and_translate
from tools import validate_templates as validate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("template", validate.TEMPLATES)
def test_sam_validate_lint(template: str) -> None:
    code, out = validate.sam_validate(template)
    assert code == 0, out


@pytest.mark.parametrize("template", validate.TEMPLATES)
def test_cfn_lint_on_the_translated_template(template: str) -> None:
    code, out = validate.cfn_lint(validate.translate_to_file(template))
    assert code == 0, out


def test_checkov_on_the_translated_templates() -> None:
    checkov = _checkov()
    for template in validate.TEMPLATES:
        validate.translate_to_file(template)
    code, out = validate.checkov(str(checkov))
    assert code == 0, out


def _checkov() -> Path:
    checkov = validate.ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        if os.environ.get("CI"):
            pytest.fail("checkov is not installed (make venv installs it into .venv-checkov)")
        pytest.skip("checkov not installed: run `make test` (it installs .venv-checkov)")
    return checkov


def test_checkov_accepts_findings_per_resource_only(tmp_path: Path) -> None:
    # GIVEN the translated hooks template plus one more function, as a new hook would be added
    import json

    document = load_and_translate(validate.ROOT / "hooks" / "template.yaml").cfn
    extra = json.loads(json.dumps(document["Resources"]["PreTrafficHook"]))
    extra["Properties"].pop("DeadLetterConfig", None)
    document["Resources"]["AnotherHook"] = extra
    (tmp_path / "hooks_template.json").write_text(json.dumps(document))
    # WHEN checkov runs with the project's accepted findings
    code, out = validate.checkov(str(_checkov()), tmp_path)
    # THEN the new function's findings are not covered by the old ones' suppressions
    assert code != 0
    assert "AnotherHook" in out and "CKV_AWS_116" in out and "CKV_AWS_115" in out


def test_a_suppression_of_a_resource_that_does_not_exist_fails(tmp_path: Path) -> None:
    import json

    (tmp_path / "hooks_template.json").write_text(json.dumps({"Resources": {}}))
    missing = validate.apply_checkov_skips(tmp_path)
    assert "CKV_AWS_115 hooks_template.json:PreTrafficHook" in missing


def test_cfn_lint_on_the_translated_template_catches_the_api_cycle(tmp_path: Path) -> None:
    # A hook that names the implicit API: fine for `sam validate --lint`, a cycle once translated.
    source = (validate.ROOT / "template.yaml").read_text()
    broken = source.replace(
        'ApiUrlParameterName: !Sub "/${AWS::StackName}/api-url"',
        'ApiUrlParameterName: !Sub "/${ServerlessRestApi}/api-url"',
    )
    assert broken != source
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    for folder in ("hooks", "alarms"):
        (tmp_path / folder).symlink_to(validate.ROOT / folder)
    translated = tmp_path / "translated.json"
    import json

    translated.write_text(json.dumps(load_and_translate(path).cfn))
    code, out = validate.cfn_lint(translated)
    assert code != 0 and "E3004" in out
