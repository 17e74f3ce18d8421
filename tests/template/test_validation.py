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
    checkov = validate.ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        if os.environ.get("CI"):
            pytest.fail("checkov is not installed (make venv installs it into .venv-checkov)")
        pytest.skip("checkov not installed: run `make test` (it installs .venv-checkov)")
    for template in validate.TEMPLATES:
        validate.translate_to_file(template)
    code, out = validate.checkov(str(checkov))
    assert code == 0, out


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
