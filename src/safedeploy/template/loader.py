"""Reading SAM templates and translating them to CloudFormation offline (aws-sam-translator)."""

from __future__ import annotations

import copy
import datetime
import functools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedeploy.errors import TemplateError, UserError
from safedeploy.inputs import NotReadable, TooLarge, read_text
from safedeploy.template.structure import check_structure

PLACEHOLDER_BUCKET = "safedeploy-offline"
# Beyond what CloudFormation takes (a 1 MB template from S3, 500 resources; CloudFormation quotas),
# with room for SAM's own expansion: reading more would only make every command slow.
MAX_TEMPLATE_BYTES = 2**20
MAX_RESOURCES = 2000
# Maps and lists inside one another: a template (inline state machines and policies included) needs a
# few dozen levels; every reader after this one may then recurse safely.
MAX_DEPTH = 100
# Where a nested application from the Serverless Application Repository points once read: a name that
# no resolver will fetch (`.invalid` is reserved, RFC 2606).
REPOSITORY_PLACEHOLDER = "https://serverlessrepo.invalid/"


def is_repository_application(location: Any) -> bool:
    """`Location: {ApplicationId, SemanticVersion}`: an application of the Serverless Application
    Repository, whose template only SAR can give (at deploy time)."""
    return isinstance(location, dict) and "ApplicationId" in location


def load_template(path: str | Path, *, structure: bool = True) -> dict[str, Any]:
    """Parse YAML or JSON with CloudFormation's short tags (!Ref, !Sub...) into plain dicts, of the
    shape CloudFormation requires (`structure=False`: the caller checks it after SAM has had its say)."""
    from cfnlint.decode import cfn_yaml

    p = Path(path)
    try:
        text = source_text(p)
    except NotReadable as exc:  # a directory, a FIFO, a device, no permission: the template is the finding
        raise TemplateError(str(exc), "SD002") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(
            f"{p}: not a UTF-8 text file ({exc.reason} at byte {exc.start})", "SD002"
        ) from exc
    try:
        doc: Any = (
            json.loads(text, object_pairs_hook=_unique_keys)
            if text.lstrip().startswith("{")
            else cfn_yaml.loads(text, str(p))
        )
    except TemplateError:
        raise
    except RecursionError as exc:
        raise TemplateError(f"{p}: nested more deeply than any template can be", "SD002") from exc
    except Exception as exc:
        raise _unparsable(p, exc) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{p}: not a CloudFormation/SAM template (no Resources)", "SD002")
    if len(doc["Resources"]) > MAX_RESOURCES:
        raise UserError(
            f"{p}: {len(doc['Resources'])} resources; CloudFormation accepts at most 500 per template "
            "(CloudFormation quotas): not read"
        )
    if depth(doc) > MAX_DEPTH:
        raise TemplateError(f"{p}: nested more than {MAX_DEPTH} levels deep: not read", "SD002")
    plain: dict[str, Any] = _plain(doc)
    if structure:
        check_structure(plain)
    return plain


def _unparsable(path: Path, exc: Exception) -> TemplateError:
    """The parser's complaint on one line, at the place it names (YAML's marks, JSON's position)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:  # yaml.MarkedYAMLError: context ("while parsing …"), problem, where
        said = "; ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x)
        at: tuple[int, int] | None = (mark.line + 1, mark.column + 1)
    elif isinstance(exc, json.JSONDecodeError):
        said, at = exc.msg, (exc.lineno, exc.colno)
    else:
        said, at = (str(exc).splitlines() or [type(exc).__name__])[0], None
    where = f" (line {at[0]}, column {at[1]})" if at else ""
    if "Unicode character escape" in said:
        # a surrogate-pair escape such as "\uD800\uDC00": libyaml refuses it, a UTF-16 parser (as
        # CloudFormation's may be) reads one character; not proven unreadable to CloudFormation
        return TemplateError(
            f"{path}: not read here: {said}{where}; CloudFormation's parser may accept it", "SD052", at=at
        )
    return TemplateError(f"{path}: not a valid YAML/JSON template: {said}{where}", "SD002", at=at)


def depth(value: Any) -> int:
    """How deeply maps and lists nest in `value` (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:  # deeper is already too deep: no need to walk it
                stack.extend((child, level + 1) for child in children)
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when a key repeats: JSON parsers keep the last value silently, so a second
    `DeploymentPreference` would hide the first; cfn-lint's YAML loader refuses duplicates, and so
    does this one for JSON."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise TemplateError(
                f"duplicate key {key!r} in a JSON object: which one counts is undefined", "SD002"
            )
        seen[key] = value
    return seen


def _plain(value: Any) -> Any:
    """cfn-lint returns dict/str subclasses with line marks; translate and compare on plain types.
    YAML reads an unquoted `2010-09-09` (AWSTemplateFormatVersion, an IAM policy's Version) as a
    date; CloudFormation reads the string, and so do we."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class _NoManagedPolicies:
    """The translator resolves managed policy names to ARNs via IAM; offline we resolve none."""

    def load(self) -> dict[str, str]:
        return {}


# Properties that name a local file `sam package` uploads to S3 (SAM CLI's packageable resources): a
# static check reads none of them, and the translator only accepts the S3 form.
LOCAL_DEFINITIONS = {
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::GraphQLApi": "SchemaUri",
}


# An API whose DefinitionBody AWS::Include inserts: an empty document of the kind SAM expects stands in
# for it (SAM adds the paths of the functions' Api events to it, as it would to the real one).
INCLUDED_DEFINITION: dict[str, dict[str, Any]] = {
    "AWS::Serverless::Api": {"swagger": "2.0", "info": {"title": "included", "version": "1"}, "paths": {}},
    "AWS::Serverless::HttpApi": {
        "openapi": "3.0.1",
        "info": {"title": "included", "version": "1"},
        "paths": {},
    },
}


def _included(value: Any) -> bool:
    return isinstance(value, dict) and bool(includes({"Resources": {}, "Body": value}))


class _NoRepository:
    """A Serverless Application Repository client that never calls it: checks are static."""

    def __getattr__(self, name: str) -> Any:
        raise TemplateError(
            f"a nested application from the Serverless Application Repository ({name}) is not fetched "
            "by a static check: not verified",
            "SD053",
        )


def _offline_locations(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri / nested Location -> S3 placeholders, as `sam package` would rewrite them."""
    doc = copy.deepcopy(template)
    for logical_id, resource in doc.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            key = "CodeUri" if kind.endswith("Function") else "ContentUri"
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
            if (
                kind.endswith("Function")
                and key not in props
                and "InlineCode" not in props
                and props.get("PackageType") != "Image"
            ):
                props[key] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
        if (
            kind == "AWS::Serverless::Function"
            and props.get("PackageType") == "Image"
            and "ImageUri" not in props
        ):  # `sam build` builds the image from the function's Metadata (DockerContext, Dockerfile)
            props["ImageUri"] = (
                f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{PLACEHOLDER_BUCKET}:{logical_id}"
            )
        if kind in INCLUDED_DEFINITION and _included(props.get("DefinitionBody")):
            # What the include inserts is unknown here; SAM only needs a document of the right kind
            props["DefinitionBody"] = copy.deepcopy(INCLUDED_DEFINITION[str(kind)])
        uri_key = LOCAL_DEFINITIONS.get(str(kind))
        if uri_key and isinstance(props.get(uri_key), str) and not props[uri_key].startswith("s3://"):
            props[uri_key] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.{uri_key}"
        if kind == "AWS::Serverless::Application":
            loc = props.get("Location")
            if isinstance(loc, str) and not loc.startswith("https://"):
                props["Location"] = f"https://{PLACEHOLDER_BUCKET}.s3.amazonaws.com/{loc}"
            elif is_repository_application(loc):
                # The translator would ask the Serverless Application Repository for the template
                # (serverlessrepo:CreateCloudFormationTemplate, with whatever credentials are at hand);
                # a static check does not: the application is an unknown (its outputs unverified).
                props["Location"] = f"{REPOSITORY_PLACEHOLDER}{logical_id}"
        resource["Properties"] = props
    globals_fn = doc.get("Globals", {}).get("Function", {})
    if isinstance(globals_fn.get("CodeUri"), str):
        globals_fn["CodeUri"] = f"s3://{PLACEHOLDER_BUCKET}/globals.zip"
    return doc


@functools.lru_cache(maxsize=4)
def _session(region: str) -> Any:
    """An explicit session, once per region: the translator needs a region for pseudo parameters, and
    none is configured here (building one costs ~20 ms, and a check translates every nested app)."""
    import boto3

    return boto3.session.Session(region_name=region)


def translate(
    template: dict[str, Any], parameters: dict[str, Any] | None = None, region: str = "us-east-1"
) -> dict[str, Any]:
    """The CloudFormation that `sam deploy` would submit (code locations replaced by placeholders)."""
    if not is_sam(template):
        return copy.deepcopy(template)
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # feature-toggle and metrics chatter
    values = dict(parameters or {})
    # No SAR application reaches the translator (`_offline_locations`); should one slip through, the
    # plugin asks this client, which refuses, instead of building a signed one of its own.
    no_repository = ServerlessAppPlugin(sar_client=_NoRepository())
    translator = Translator(None, Parser(), plugins=[no_repository], boto_session=_session(region))
    try:
        fragment = _offline_locations(template)
        to_py27_compatible_template(fragment, values)  # validates too: `Condition: true` fails here
        out = translator.translate(
            fragment, parameter_values=values, get_managed_policy_map=_NoManagedPolicies().load
        )
        return undo_mark_unicode_str_in_template(out)  # type: ignore[no-any-return]
    except InvalidDocumentException as exc:
        raise _not_translated(template, values, "; ".join(str(c) for c in exc.causes) or str(exc)) from exc
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # The translator on input it did not expect: the template's shape says where, when it is wrong
        check_structure(template)
        said = "it stopped on a value of a kind it did not expect (SAFEDEPLOY_DEBUG=1 shows where)"
        raise _not_translated(template, values, said) from exc


def _not_translated(template: dict[str, Any], values: dict[str, Any], said: str) -> TemplateError:
    """SD003 when the template itself is wrong; SD053 (not verified) when the failure may come from
    what a static check cannot know: a parameter without a value, a file AWS::Include inserts."""
    # CloudFormation hands the transform every parameter's value; offline a parameter without a
    # default and without --parameter/--config-env has none, and SAM may fail for that alone.
    missing = sorted(
        name
        for name, decl in _mapping(template.get("Parameters")).items()
        if name not in values and not (isinstance(decl, dict) and "Default" in decl)
    )
    # AWS::Include is expanded by CloudFormation before the SAM transform (AWS::Include transform,
    # CloudFormation Template Reference): what it inserts is not in the file read here.
    included = includes(template)
    unknowns = []
    if included:
        unknowns.append(
            f"what AWS::Include inserts from {', '.join(included[:3])}{', …' if len(included) > 3 else ''} "
            "(expanded by CloudFormation before the SAM transform, not read here)"
        )
    if missing:
        unknowns.append(f"values for {', '.join(missing)} (no default): pass --parameter or --config-env")
    if unknowns:
        return TemplateError(
            f"SAM could not translate the template without {'; and '.join(unknowns)}: not verified. "
            f"The translator said: {said}",
            "SD053",
        )
    return TemplateError(f"SAM translation failed: {said}", "SD003")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


INCLUDE = "AWS::Include"


def includes(template: Any) -> list[str]:
    """The locations of every AWS::Include in the template (top-level Transform and Fn::Transform)."""
    found: list[str] = []
    top = template.get("Transform") if isinstance(template, dict) else None
    stack: list[Any] = [top if isinstance(top, list) else [top], template]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            transform = value.get("Fn::Transform", value if "Name" in value else None)
            for one in transform if isinstance(transform, list) else [transform]:
                if isinstance(one, dict) and one.get("Name") == INCLUDE:
                    location = (one.get("Parameters") or {}).get("Location")
                    found.append(str(location) if isinstance(location, str) else "an unresolved location")
            stack.extend(v for k, v in value.items() if k != "Fn::Transform")
    return sorted(set(found))


SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


def is_sam(template: dict[str, Any]) -> bool:
    """Whether the template names the SAM transform (alone or in a list of transforms)."""
    if "Transform" not in template:
        return False
    transform = template["Transform"]
    names = transform if isinstance(transform, list) else [transform]
    # A transform is a macro's name, or {Name, Parameters} (AWS::Include at the top level)
    names = [n.get("Name") if isinstance(n, dict) else n for n in names]
    if not all(isinstance(n, str) for n in names):
        raise TemplateError(f"Transform must be a name or a list of names, got {transform!r}", "SD003")
    return SAM_TRANSFORM in names


@dataclass(frozen=True)
class LoadedTemplate:
    path: Path
    sam: dict[str, Any]
    cfn: dict[str, Any]


def load_and_translate(path: str | Path, parameters: dict[str, Any] | None = None) -> LoadedTemplate:
    sam = load_template(path)
    return LoadedTemplate(Path(path), sam, translate(sam, parameters))


@functools.lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int) -> str:
    try:
        return read_text(path, MAX_TEMPLATE_BYTES, "template")
    except TooLarge as exc:
        raise UserError(
            f"{path}: larger than 1 MiB, which is more than CloudFormation accepts for a template "
            "(1 MB from S3, CloudFormation quotas): not read"
        ) from exc


def source_text(path: str | Path) -> str:
    """A template's text, read once per command however often it is needed (parse, locations)."""
    try:
        p = Path(path).resolve()
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise UserError(f"template not found: {path}") from exc
    except OSError as exc:
        raise NotReadable(f"template {path}: cannot read it: {exc.strerror}") from exc
    except RuntimeError as exc:  # Python 3.11/3.12 on a symbolic link loop (3.13: OSError)
        raise NotReadable(f"template {path}: cannot read it: a loop of symbolic links") from exc
    return _read(p, mtime)


def resource_position(path: str | Path, logical_id: str) -> tuple[int, int] | None:
    """1-based (line, column) of `logical_id:` in a YAML template (or `"logical_id":` in JSON)."""
    try:
        lines = source_text(path).splitlines()
    except (OSError, UnicodeDecodeError, UserError):
        return None
    yaml_key = re.compile(rf"^(\s+){re.escape(logical_id)}\s*:(\s|$)")
    json_key = re.compile(rf'^(\s*)"{re.escape(logical_id)}"\s*:')
    for number, line in enumerate(lines, start=1):
        match = yaml_key.match(line) or json_key.match(line)
        if match:
            return number, len(match.group(1)) + 1
    return None
