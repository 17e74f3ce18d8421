"""Rules on the template as a whole: can it be read, translated, and is it a SAM template at all."""

from __future__ import annotations

from collections.abc import Iterator

from safedeploy.errors import UserError
from safedeploy.rules.base import Finding, Rule
from safedeploy.template.loader import is_sam
from safedeploy.template.samconfig import environment_settings, environments, read_samconfig
from safedeploy.template.scope import Scope

SD001 = Rule(
    "SD001",
    "error",
    "template",
    "AWS::Serverless resources without the SAM Transform: CloudFormation rejects the "
    "template, and nothing else is checked",
)
SD004 = Rule(
    "SD004",
    "warning",
    "template",
    "a samconfig.toml environment whose capabilities lack CAPABILITY_AUTO_EXPAND for a template with "
    "nested applications",
)
# SD002 and SD003 are raised by the loader (a TemplateError carries its rule id) and reported as findings.
SD002 = Rule(
    "SD002",
    "error",
    "template",
    "not a readable template (YAML/JSON, UTF-8, a Resources section)",
    twinned=True,
)
SD003 = Rule(
    "SD003",
    "error",
    "template",
    "SAM cannot translate the template (the translator's own message)",
    twinned=True,
)

SERVERLESS = "AWS::Serverless::"


def rule_not_translated(scope: Scope) -> Iterator[Finding]:
    """AWS::Serverless::* resources without the SAM transform: CloudFormation rejects the template, and
    nothing here can be checked on a translation that will not happen."""
    if is_sam(scope.sam):
        return
    serverless = sorted(
        k for k, r in scope.sam_resources.items() if str(r.get("Type", "")).startswith(SERVERLESS)
    )
    if serverless:
        yield SD001.finding(
            serverless[0],
            f"{len(serverless)} AWS::Serverless resource(s) ({', '.join(serverless[:3])}"
            f"{', …' if len(serverless) > 3 else ''}) but no `Transform: AWS::Serverless-2016-10-31`: "
            "CloudFormation rejects the template, and its deployments cannot be checked untranslated",
        )


AUTO_EXPAND = "CAPABILITY_AUTO_EXPAND"


def rule_samconfig_capabilities(scope: Scope) -> Iterator[Finding]:
    """Nested applications need CAPABILITY_AUTO_EXPAND (Serverless Application Repository developer
    guide, "Application capabilities"): a samconfig environment that lists capabilities without it
    makes `sam deploy` fail for this template unless the command line adds it."""
    apps = sorted(
        k for k, r in scope.sam_resources.items() if r.get("Type") == "AWS::Serverless::Application"
    )
    if not apps:
        return
    try:
        config = read_samconfig(scope.path.parent / "samconfig.toml")
    except UserError:
        return  # not ours to report: `--config-env` says so when it is used
    for env in environments(config):
        try:
            capabilities = environment_settings(config, env).get("capabilities")
        except UserError:
            continue
        if capabilities is None:
            continue
        listed = capabilities.split() if isinstance(capabilities, str) else [str(c) for c in capabilities]
        if AUTO_EXPAND not in listed:
            yield SD004.finding(
                apps[0],
                f"samconfig.toml environment {env!r} deploys with capabilities "
                f"{' '.join(listed) or '(none)'}, without {AUTO_EXPAND}, which nested applications "
                f"({', '.join(apps)}) need: `sam deploy` fails with 'Requires capabilities : "
                f"[{AUTO_EXPAND}]'; add it to capabilities",
            )
