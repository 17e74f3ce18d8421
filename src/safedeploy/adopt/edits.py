"""The settings `init` adds to a template, as edits of a round-trip `Document`.

Everything is added only where it is missing: a value the user already set is kept (and said so), so a
second run finds nothing to do. The plain template (`loader.load_template`) is read to decide; the
round-trip document is what gets edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safedeploy_core.case_source import SMOKE_TAG
from safedeploy_core.timing import PREDEFINED

from safedeploy.adopt.document import Document
from safedeploy.adopt.functions import Target
from safedeploy.adopt.kit import ALARMS_DIR, HOOKS_DIR

ALIAS = "live"
ENV_PARAMETER = "SafeDeployEnvironment"
TYPE_PARAMETER = "SafeDeployDeploymentType"
ENVIRONMENTS = ("dev", "staging", "prod")
HOOKS_ID = "Hooks"
API_URL_ID = "ApiUrlParameter"
# The post-traffic hook reads the API's base URL from this SSM parameter at run time: a Ref from the
# hooks app to the API would close a cycle (alias -> UpdatePolicy -> hooks -> API -> alias).
API_URL_NAME = "/${AWS::StackName}/api-url"
API_URL_ID = "ApiUrlParameter"
# The post-traffic hook reads the API's base URL from this SSM parameter at run time: a Ref from the
# hooks app to the API would close a cycle (alias -> UpdatePolicy -> hooks -> API -> alias).
API_URL_NAME = "/${AWS::StackName}/api-url"
# The alarm pack's gate outputs, all of which name alarms on the new version only.
GATE_OUTPUTS = ("ErrorRateGateAlarm", "LatencyGateAlarm", "TimeoutGateAlarm", "ThrottleGateAlarm")
# Raw resources that invoke a function directly, and where they name it.
EVENT_SOURCE_TYPES = {
    "AWS::Lambda::EventSourceMapping": "FunctionName",
}
REPORTED_SOURCE_TYPES = {
    "AWS::Lambda::Permission": "FunctionName",
    "AWS::Lambda::Url": "TargetFunctionArn",
}


@dataclass(frozen=True)
class Source:
    """Where the nested apps come from: the vendored folders, or SAR at a version."""

    kind: str = "vendor"
    hooks_application_id: str = ""
    alarms_application_id: str = ""
    version: str = ""

    def location(self, doc: Document, folder: str) -> Any:
        if self.kind == "vendor":
            return f"{folder}/template.yaml"
        app = self.hooks_application_id if folder == HOOKS_DIR else self.alarms_application_id
        return doc.mapping({"ApplicationId": app, "SemanticVersion": self.version})


@dataclass
class EditReport:
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # cannot be done: exit 2
    warnings: list[str] = field(default_factory=list)  # done, but the user must look
    typed: list[str] = field(default_factory=list)  # functions whose Type is the template parameter

    @property
    def uses_type(self) -> bool:
        return bool(self.typed)


def alarms_id(function_id: str) -> str:
    return f"{function_id}Alarms"


def _names(value: Any, target: str) -> bool:
    """Whether a plain-template value names `target`'s unqualified function."""
    if value == {"Ref": target} or value in (
        {"Fn::GetAtt": [target, "Arn"]},
        {"Fn::GetAtt": f"{target}.Arn"},
    ):
        return True
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return isinstance(text, str) and text in (f"${{{target}}}", f"${{{target}.Arn}}")
    return False


def _ensure_parameters(
    doc: Document, plain: dict[str, Any], dev_type: str, uses_type: bool, report: EditReport
) -> None:
    params = doc.data.get("Parameters")
    if params is None:
        params = doc.mapping()
        keys = list(doc.data)
        position = keys.index("Resources") if "Resources" in keys else len(keys)
        if doc.is_json:
            doc.data = {
                **{k: doc.data[k] for k in keys[:position]},
                "Parameters": params,
                **{k: doc.data[k] for k in keys[position:]},
            }
        else:
            doc.data.insert(position, "Parameters", params)
    declared = plain.get("Parameters") or {}
    if ENV_PARAMETER not in declared:
        doc.append(
            params,
            ENV_PARAMETER,
            doc.mapping(
                {
                    "Type": "String",
                    "Default": "dev",
                    "AllowedValues": doc.sequence(list(ENVIRONMENTS), flow=True),
                    "Description": "Environment of this stack (samconfig.toml sets it per --config-env).",
                }
            ),
        )
        report.added.append(f"Parameters.{ENV_PARAMETER}")
    if uses_type and TYPE_PARAMETER not in declared:
        doc.append(
            params,
            TYPE_PARAMETER,
            doc.mapping(
                {
                    "Type": "String",
                    "Default": dev_type,
                    "AllowedValues": doc.sequence(list(PREDEFINED)),
                    "Description": "CodeDeploy deployment type (per environment in samconfig.toml), chosen "
                    "so that the gate alarms can stop the first traffic step (safedeploy plan shows it).",
                }
            ),
        )
        report.added.append(f"Parameters.{TYPE_PARAMETER} (default {dev_type})")


def _api_base(plain: dict[str, Any], api: str) -> str | None:
    """The base URL of one REST API as a Sub string (None when its stage is not known)."""
    props = ((plain.get("Resources") or {}).get(api) or {}).get("Properties") or {}
    stage = "Prod" if api == "ServerlessRestApi" else props.get("StageName")
    if isinstance(stage, dict) and isinstance(stage.get("Ref"), str) and len(stage) == 1:
        stage = f"${{{stage['Ref']}}}"  # a parameter (or pseudo parameter): Sub resolves it
    elif isinstance(stage, dict) and isinstance(stage.get("Fn::Sub"), str) and len(stage) == 1:
        stage = stage["Fn::Sub"]  # its text goes into the URL's own Sub
    if not isinstance(stage, str):
        return None
    return f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"


def _api_url(doc: Document, plain: dict[str, Any], targets: list[Target], report: EditReport) -> bool:
    """The SSM parameter with the base URL of the one API the request cases go through after the
    shift; whether the hooks need its name."""
    apis = {api for t in targets if t.routes for api in t.apis}
    if not apis:
        return False
    named = {api for api in apis if api is not None}
    if len(named) != 1 or None in apis:
        shown = ", ".join(sorted(a[1] for a in apis if a)) or "one named by an intrinsic function"
        report.problems.append(
            f"the functions' routes are on several APIs or on one named by an intrinsic ({shown}): the "
            "post-traffic hook sends its request cases through one API; choose the functions of one API "
            "with --function"
        )
        return False
    ((_, api),) = named
    url = _api_base(plain, api)
    if url is None:
        report.problems.append(f"{api}: its StageName is not a literal: the API URL cannot be written")
        return False
    existing = (plain.get("Resources") or {}).get(API_URL_ID)
    if existing is not None:
        if existing.get("Type") != "AWS::SSM::Parameter":
            report.problems.append(f"{API_URL_ID}: a {existing.get('Type')} of that name exists")
        return True
    properties = doc.mapping({"Name": doc.sub(API_URL_NAME), "Type": "String", "Value": doc.sub(url)})
    doc.append(
        doc.data["Resources"],
        API_URL_ID,
        doc.mapping({"Type": "AWS::SSM::Parameter", "Properties": properties}),
    )
    report.added.append(f"{API_URL_ID} (the {api} URL for the post-traffic hook)")
    return True


def _ensure_hooks(
    doc: Document, plain: dict[str, Any], targets: list[Target], source: Source, report: EditReport
) -> None:
    resources = doc.data["Resources"]
    existing = (plain.get("Resources") or {}).get(HOOKS_ID)
    arns = [doc.getatt(t.logical_id, "Arn") for t in targets]
    if existing is None:
        parameters = doc.mapping(
            {
                "TargetFunctionArns": doc.join(",", arns),
                "DeploymentApplicationName": doc.ref("ServerlessDeploymentApplication"),
                "EnvironmentName": doc.ref(ENV_PARAMETER),
            }
        )
        if _api_url(doc, plain, targets, report):
            parameters["ApiUrlParameterName"] = doc.sub(API_URL_NAME)
        properties = doc.mapping({"Location": source.location(doc, HOOKS_DIR), "Parameters": parameters})
        doc.append(
            resources,
            HOOKS_ID,
            doc.mapping({"Type": "AWS::Serverless::Application", "Properties": properties}),
        )
        report.added.append(f"{HOOKS_ID} (the nested hooks app)")
        return
    if existing.get("Type") != "AWS::Serverless::Application":
        report.problems.append(
            f"{HOOKS_ID}: a {existing.get('Type')} of that name exists; init nests the hooks app under it"
        )
        return
    # ours from an earlier run: the allow-list must name every protected function
    given = ((existing.get("Properties") or {}).get("Parameters") or {}).get("TargetFunctionArns")
    listed = given.get("Fn::Join", [None, []])[1] if isinstance(given, dict) else None
    if not isinstance(listed, list):
        report.warnings.append(
            f"{HOOKS_ID}.TargetFunctionArns is not a !Join list: check it names every function"
        )
        return
    missing = [t for t in targets if not any(_names(v, t.logical_id) for v in listed)]
    if missing:
        joined = doc.data["Resources"][HOOKS_ID]["Properties"]["Parameters"]["TargetFunctionArns"]
        items = joined["Fn::Join"][1] if doc.is_json else joined[1]
        for t in missing:
            items.append(doc.getatt(t.logical_id, "Arn"))
        report.added.append(f"{HOOKS_ID}.TargetFunctionArns: {', '.join(t.logical_id for t in missing)}")


def _ensure_alarms(
    doc: Document, plain: dict[str, Any], target: Target, alias: str, source: Source, report: EditReport
) -> None:
    lid = alarms_id(target.logical_id)
    existing = (plain.get("Resources") or {}).get(lid)
    if existing is not None:
        if existing.get("Type") != "AWS::Serverless::Application":
            report.problems.append(
                f"{lid}: a {existing.get('Type')} of that name exists; init nests the alarm pack there"
            )
        return
    params = doc.mapping(
        {
            "FunctionName": doc.ref(target.logical_id),
            "AliasName": alias,
            "FunctionVersion": doc.getatt(target.logical_id, "Version.Version"),
            "FunctionTimeoutSeconds": target.timeout_s,
        }
    )
    if target.implicit_rest_api:
        params["ApiName"] = doc.ref("AWS::StackName")  # SAM names the implicit API after the stack
    doc.append(
        doc.data["Resources"],
        lid,
        doc.mapping(
            {
                "Type": "AWS::Serverless::Application",
                "Properties": doc.mapping(
                    {"Location": source.location(doc, ALARMS_DIR), "Parameters": params}
                ),
            }
        ),
    )
    report.added.append(f"{lid} (the nested alarm pack)")


def _ensure_function(
    doc: Document, plain: dict[str, Any], target: Target, report: EditReport
) -> tuple[str, bool]:
    """AutoPublishAlias, DeploymentPreference and the smoke-case tag; returns the alias name and
    whether the function's Type is the template parameter."""
    lid = target.logical_id
    props_plain = plain["Resources"][lid].get("Properties") or {}
    resource = doc.data["Resources"][lid]
    if "Properties" not in resource or resource["Properties"] is None:
        resource["Properties"] = doc.mapping()
    props = resource["Properties"]
    alias = props_plain.get("AutoPublishAlias")
    if alias is None:
        doc.append(props, "AutoPublishAlias", ALIAS)
        report.added.append(f"{lid}.AutoPublishAlias: {ALIAS}")
        alias = ALIAS
    elif alias != ALIAS:
        report.kept.append(f"{lid}.AutoPublishAlias: {alias} (yours)")
    wanted = {
        "Type": doc.ref(TYPE_PARAMETER),
        "Role": doc.getatt(HOOKS_ID, "Outputs.CodeDeployRoleArn"),
        "Alarms": doc.sequence([doc.getatt(alarms_id(lid), f"Outputs.{o}") for o in GATE_OUTPUTS]),
        "Hooks": doc.mapping(
            {
                "PreTraffic": doc.getatt(HOOKS_ID, "Outputs.PreTrafficHookName"),
                "PostTraffic": doc.getatt(HOOKS_ID, "Outputs.PostTrafficHookName"),
            }
        ),
    }
    pref_plain = props_plain.get("DeploymentPreference")
    uses_type = (
        pref_plain is None or "Type" not in pref_plain or pref_plain["Type"] == {"Ref": TYPE_PARAMETER}
    )
    if pref_plain is None:
        doc.append(props, "DeploymentPreference", doc.mapping(wanted))
        report.added.append(f"{lid}.DeploymentPreference (Type, Role, Alarms, Hooks)")
    else:
        pref = props["DeploymentPreference"]
        added = []
        for key, value in wanted.items():
            if key in pref_plain:
                if not _ours(pref_plain[key], lid):
                    report.kept.append(f"{lid}.DeploymentPreference.{key}: {_show(pref_plain[key])} (yours)")
            else:
                doc.append(pref, key, value)
                added.append(key)
        if pref_plain.get("Enabled") in (False, "false", "False"):
            report.kept.append(f"{lid}.DeploymentPreference.Enabled: false (yours): no deployment runs")
        if added:
            report.added.append(f"{lid}.DeploymentPreference: {', '.join(added)}")
    _ensure_tag(doc, props, props_plain, lid, report)
    return str(alias), uses_type


def _ensure_tag(doc: Document, props: Any, props_plain: dict[str, Any], lid: str, report: EditReport) -> None:
    tags_plain = props_plain.get("Tags")
    if tags_plain is None:
        doc.append(props, "Tags", doc.mapping({SMOKE_TAG: lid}))
        report.added.append(f"{lid}.Tags: {SMOKE_TAG}")
    elif SMOKE_TAG in tags_plain:
        if tags_plain[SMOKE_TAG] != lid:
            report.kept.append(f"{lid}.Tags.{SMOKE_TAG}: {tags_plain[SMOKE_TAG]} (yours)")
    else:
        doc.append(props["Tags"], SMOKE_TAG, lid)
        report.added.append(f"{lid}.Tags: {SMOKE_TAG}")


def _ours(value: Any, function_id: str) -> bool:
    """Whether a value is one `init` wrote (it names the kit's parameter or nested apps)."""
    text = str(value)
    return any(name in text for name in (TYPE_PARAMETER, f"'{HOOKS_ID}'", alarms_id(function_id)))


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _event_sources(doc: Document, plain: dict[str, Any], targets: list[Target], report: EditReport) -> None:
    """Resources that invoke a protected function unqualified bypass the canary: point them at the alias."""
    ids = {t.logical_id for t in targets}
    for lid, resource in (plain.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        kind = str(resource.get("Type"))
        props = resource.get("Properties") or {}
        key = EVENT_SOURCE_TYPES.get(kind) or REPORTED_SOURCE_TYPES.get(kind)
        if key is None:
            if kind == "AWS::Events::Rule":
                _rule_targets(lid, props, ids, report)
            continue
        for fn in ids:
            if not _names(props.get(key), fn):
                continue
            if kind in EVENT_SOURCE_TYPES:
                doc.data["Resources"][lid]["Properties"][key] = doc.ref(f"{fn}.Alias")
                report.added.append(f"{lid}.{key}: !Ref {fn}.Alias (was the unqualified function)")
            else:
                report.warnings.append(
                    f"{lid} ({kind}) names {fn} unqualified, so what it serves bypasses the canary: "
                    f"point it (and whatever invokes through it) at !Ref {fn}.Alias"
                )


def _rule_targets(lid: str, props: dict[str, Any], ids: set[str], report: EditReport) -> None:
    for target in props.get("Targets") or []:
        for fn in ids:
            if isinstance(target, dict) and _names(target.get("Arn"), fn):
                report.warnings.append(
                    f"{lid}: its target invokes {fn} unqualified, bypassing the canary: use an "
                    f"`EventBridgeRule` event on {fn}, or point it at !Ref {fn}.Alias with its "
                    "Lambda permission"
                )


def apply(
    doc: Document, plain: dict[str, Any], targets: list[Target], source: Source, dev_type: str
) -> EditReport:
    report = EditReport()
    for target in targets:
        alias, typed = _ensure_function(doc, plain, target, report)
        if typed:
            report.typed.append(target.logical_id)
        _ensure_alarms(doc, plain, target, alias, source, report)
    _ensure_hooks(doc, plain, targets, source, report)
    _event_sources(doc, plain, targets, report)
    _ensure_parameters(doc, plain, dev_type, report.uses_type, report)
    return report
