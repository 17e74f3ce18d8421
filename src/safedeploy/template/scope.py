"""One translated template with its parameter values, and intrinsics evaluated as far as it allows.

Parameters, conditions, Sub, Join, Split, Select, If and nested-application outputs are evaluated;
values that only CloudFormation knows become readable placeholders: `<Fn>` for a function's name,
`<Fn.Version>` for its new version number, an ARN around `<Fn>` for GetAtt Arn. Rules and the
rehearsal match on those strings; the rehearsal replaces them with real values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from safedeploy.errors import TemplateError, UserError
from safedeploy.template.loader import (
    PLACEHOLDER_BUCKET,
    is_repository_application,
    load_template,
    translate,
)
from safedeploy.template.samconfig import check_declared
from safedeploy.template.structure import check_structure

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "<stack>",
}
NESTED_PREFIX = f"https://{PLACEHOLDER_BUCKET}.s3.amazonaws.com/"
MAX_NESTING = 3
# Distinct (template, parameters) pairs one command translates: well above a real tree (this project
# has 3), low enough that no template can make a check take long.
MAX_TEMPLATES = 50


@dataclass
class Scope:
    """One (translated) template with the parameter values it was given."""

    path: Path
    cfn: dict[str, Any]
    sam: dict[str, Any]
    params: dict[str, Any]
    children: dict[str, Scope] = field(default_factory=dict)
    name: str = ""  # logical ID of the nested application in its parent ("" for the root)
    forced: dict[str, bool] = field(default_factory=dict)  # conditions fixed for one scenario

    def qualified(self, logical_id: str) -> str:
        """`Hooks/PreTrafficHook` for a resource of a nested application, `Fn` at the root."""
        return f"{self.name}/{logical_id}" if self.name else logical_id

    @property
    def resources(self) -> dict[str, Any]:
        return self.cfn.get("Resources", {})  # type: ignore[no-any-return]

    @property
    def sam_resources(self) -> dict[str, Any]:
        return self.sam.get("Resources", {})  # type: ignore[no-any-return]

    def condition(self, name: str) -> bool | None:
        if name in self.forced:
            return self.forced[name]
        expr = self.cfn.get("Conditions", {}).get(name)
        if expr is None:
            return None
        key = (id(self.cfn), name)  # per template: a nested app may use the same condition names
        if key in _EVALUATING:
            chain = " -> ".join([n for k, n in _EVALUATING if k == id(self.cfn)] + [name])
            raise TemplateError(f"circular Conditions: {chain}", "SD002")
        _EVALUATING.append(key)
        try:
            return evaluate_condition(self, expr)
        finally:
            _EVALUATING.pop()

    def resolve(self, value: Any) -> Any:
        return resolve(self, value)

    def active(self, logical_id: str) -> bool:
        """False when the resource's Condition is known to be false for these parameters."""
        condition = self.resources.get(logical_id, {}).get("Condition")
        return condition is None or self.condition(condition) is not False

    def output(self, name: str) -> Any:
        """The unresolved Value of one of this template's Outputs (None when there is no such output)."""
        found = self.cfn.get("Outputs", {}).get(name)
        return found.get("Value") if isinstance(found, dict) else None


# ---------------------------------------------------------------- conditions
def evaluate_condition(scope: Scope, expr: Any) -> bool | None:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, args),) = expr.items()
        if fn == "Fn::Equals":
            a, b = (scope.resolve(x) for x in args)
            if known(a) and known(b):
                return str(a) == str(b)
            # a name or ARN CloudFormation makes (<Topic>, "/<stack>/url") is never empty
            return False if "" in (a, b) and any(_never_empty(v) for v in (a, b)) else None
        if fn == "Fn::Not":
            inner = evaluate_condition(scope, args[0])
            return None if inner is None else not inner
        if fn in ("Fn::And", "Fn::Or"):
            values = [evaluate_condition(scope, x) for x in args]
            if None in values:
                return None
            return all(values) if fn == "Fn::And" else any(values)
        if fn == "Condition":
            return scope.condition(args)
    return None


_PLACEHOLDER = re.compile(r"<[A-Za-z0-9_.:]+>")
UNKNOWN = "<unknown>"  # a value that depends on something not decided here (an open condition)
# The chain of conditions being evaluated, per template (a cycle is a template error).
_EVALUATING: list[tuple[int, str]] = []


def _never_empty(value: Any) -> bool:
    """A string with a literal character or a value CloudFormation makes (<Topic>, <stack>: never
    empty); only an <unknown> part may be anything."""
    return isinstance(value, str) and value.replace(UNKNOWN, "") != ""


def known(value: Any) -> bool:
    """Whether a resolved value is fully known here (no intrinsic left, no placeholder inside)."""
    if isinstance(value, dict):
        return False
    if isinstance(value, list):
        return all(known(v) for v in value)
    return not (isinstance(value, str) and _PLACEHOLDER.search(value))


# ---------------------------------------------------------------- intrinsics, one function each
def placeholder(scope: Scope, logical: str, attr: str | None = None) -> str:
    """A readable stand-in for a value only CloudFormation knows: <Fn>, <Fn.Version>, an ARN."""
    kind = scope.resources.get(logical, {}).get("Type")
    if attr is None and kind == "AWS::Lambda::Version":  # Ref of a version is its ARN
        owner = scope.resources[logical].get("Properties", {}).get("FunctionName", {})
        if isinstance(owner, dict) and "Ref" in owner:
            fn = owner["Ref"]
            region, account = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
            return f"arn:aws:lambda:{region}:{account}:function:<{fn}>:<{fn}.Version>"
    if attr is None:
        return f"<{logical}>"
    if attr == "Arn" and kind == "AWS::Lambda::Function":
        return f"arn:aws:lambda:{PSEUDO['AWS::Region']}:{PSEUDO['AWS::AccountId']}:function:<{logical}>"
    if attr == "Version" and kind == "AWS::Lambda::Version":
        owner = scope.resources[logical].get("Properties", {}).get("FunctionName", {})
        if isinstance(owner, dict) and "Ref" in owner:
            return f"<{owner['Ref']}.Version>"
    if attr == "Arn" and kind == "AWS::IAM::Role":
        return f"arn:aws:iam::{PSEUDO['AWS::AccountId']}:role/<{logical}>"
    return f"<{logical}.{attr}>"


def _getatt_parts(args: Any) -> tuple[str, str]:
    logical, attr = args.split(".", 1) if isinstance(args, str) else args
    return str(logical), str(attr)


def _ref(scope: Scope, name: Any) -> Any:
    if name in scope.params:
        return scope.params[name]
    if name in PSEUDO:
        return PSEUDO[name]
    if name == "AWS::NoValue":
        return None
    return placeholder(scope, name)


def _sub(scope: Scope, args: Any) -> Any:
    template, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
    values = {k: resolve(scope, v) for k, v in variables.items()}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return _text(values[name])
        if name in scope.params or name in PSEUDO:
            return _text(_ref(scope, name))
        if "." in name:
            return _text(_getatt(scope, name))
        return placeholder(scope, name)

    return re.sub(r"\$\{([^}!]+)\}", one, template)


def _if(scope: Scope, args: Any) -> Any:
    if not isinstance(args, list) or len(args) != 3:
        return UNKNOWN  # malformed; cfn-lint and the translator report it
    cond = scope.condition(args[0])
    if cond is not None:
        return resolve(scope, args[1] if cond else args[2])
    yes, no = resolve(scope, args[1]), resolve(scope, args[2])
    if yes == no:
        return yes
    # Either value, scalar or structure: nothing can be proven about it. (The deployment group's and
    # alias's Fn::If are enumerated as scenarios before this, in deployments.py.)
    return UNKNOWN


def _text(value: Any) -> str:
    """A resolved value inside a string, as CloudFormation writes it; a structure is not known here."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, str | int | float) else UNKNOWN


def _join(scope: Scope, args: Any) -> Any:
    parts = resolve(scope, args[1])
    parts = parts if isinstance(parts, list) else [parts]
    return str(args[0]).join(_text(p) for p in parts if p is not None)


def _split(scope: Scope, args: Any) -> Any:
    return _text(resolve(scope, args[1])).split(str(args[0]))


def _select(scope: Scope, args: Any) -> Any:
    index, items = resolve(scope, args[0]), resolve(scope, args[1])
    try:
        return items[int(index)] if isinstance(items, list) else UNKNOWN
    except (TypeError, ValueError, IndexError):
        return UNKNOWN


def _getatt(scope: Scope, args: Any) -> Any:
    logical, attr = _getatt_parts(args)
    if attr.startswith("Outputs.") and logical in scope.children:
        child = scope.children[logical]
        value = child.output(attr.split(".", 1)[1])
        if value is not None:
            return child.resolve(value)
    return placeholder(scope, logical, attr)


INTRINSICS: dict[str, Callable[[Scope, Any], Any]] = {
    "Ref": _ref,
    "Fn::Sub": _sub,
    "Fn::If": _if,
    "Fn::Join": _join,
    "Fn::Split": _split,
    "Fn::Select": _select,
    "Fn::GetAtt": _getatt,
}


def resolve(scope: Scope, value: Any) -> Any:
    """Evaluate intrinsics as far as the template allows; unknown values become placeholders."""
    if isinstance(value, list):
        return [resolve(scope, v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: resolve(scope, v) for k, v in value.items()}
    ((fn, args),) = value.items()
    handler = INTRINSICS.get(fn)
    return handler(scope, args) if handler else {fn: resolve(scope, args)}


def select_branches(scope: Scope, value: Any) -> Any:
    """`value` with every Fn::If whose condition is known replaced by its branch (AWS::NoValue
    dropped); other intrinsics stay as they are. Unknown conditions are left in place."""
    if isinstance(value, list):
        picked = [select_branches(scope, v) for v in value]
        return [v for v in picked if v != {"Ref": "AWS::NoValue"}]
    if not isinstance(value, dict):
        return value
    if (
        len(value) == 1
        and "Fn::If" in value
        and isinstance(value["Fn::If"], list)
        and len(value["Fn::If"]) == 3
    ):
        name, yes, no = value["Fn::If"]
        known = scope.condition(name)
        if known is not None:
            return select_branches(scope, yes if known else no)
        # left open: its branches as they are (an AWS::NoValue branch included)
        return {"Fn::If": [name, _branch(scope, yes), _branch(scope, no)]}
    return {k: select_branches(scope, v) for k, v in value.items() if v != {"Ref": "AWS::NoValue"}}


def _branch(scope: Scope, value: Any) -> Any:
    return value if value == {"Ref": "AWS::NoValue"} else select_branches(scope, value)


def unknown_conditions(scope: Scope, value: Any) -> list[str]:
    """Names of the conditions of Fn::If in `value` that these parameters do not decide."""
    found: list[str] = []
    if isinstance(value, list):
        for v in value:
            found += [c for c in unknown_conditions(scope, v) if c not in found]
    elif isinstance(value, dict):
        if len(value) == 1 and "Fn::If" in value and isinstance(value["Fn::If"], list):
            name = str(value["Fn::If"][0])
            if scope.condition(name) is None and name not in found:
                found.append(name)
        for v in value.values():
            found += [c for c in unknown_conditions(scope, v) if c not in found]
    return found


def locate(scope: Scope, ref: Any) -> tuple[Scope, str] | None:
    """The template and logical ID a reference points at, through nested application outputs."""
    if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in scope.resources:
        return scope, str(ref["Ref"])
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        logical, attr = _getatt_parts(ref["Fn::GetAtt"])
        if attr.startswith("Outputs.") and logical in scope.children:
            child = scope.children[logical]
            value = child.output(attr.split(".", 1)[1])
            return locate(child, value) if value is not None else None
        if logical in scope.resources:
            return scope, logical
    return None


def unread_origin(scope: Scope, ref: Any) -> str:
    """Why a reference's target cannot be read here, when it is an output of a nested application from
    the Serverless Application Repository (its template exists only in SAR, fetched at deploy time)."""
    if not (isinstance(ref, dict) and "Fn::GetAtt" in ref):
        return ""
    try:
        logical, attr = _getatt_parts(ref["Fn::GetAtt"])
    except (TypeError, ValueError):
        return ""
    app = scope.sam_resources.get(logical) or {}
    location = (app.get("Properties") or {}).get("Location") if isinstance(app, dict) else None
    if not (attr.startswith("Outputs.") and is_repository_application(location)):
        return ""
    return (
        f" (an output of {logical}, an application of the Serverless Application Repository: a static "
        "check does not fetch its template, so its outputs are unverified)"
    )


def describe(ref: Any) -> str:
    """How a template names a reference: `App.Outputs.X` for GetAtt, the logical ID for Ref."""
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        args = ref["Fn::GetAtt"]
        return ".".join(args) if isinstance(args, list) else str(args)
    if isinstance(ref, dict) and "Ref" in ref:
        return str(ref["Ref"])
    return str(ref)


# ---------------------------------------------------------------- building the tree
def _nested_path(scope_path: Path, url: Any) -> Path | None:
    if isinstance(url, str) and url.startswith(NESTED_PREFIX):
        return _resolved(scope_path.parent / url[len(NESTED_PREFIX) :])
    return None


def _declared_defaults(cfn: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["Default"]
        for k, v in cfn.get("Parameters", {}).items()
        if isinstance(v, dict) and "Default" in v
    }


@dataclass
class _Reading:
    """One command's reading of a template tree: each (template, parameters) translated once, the
    chain of templates above the one being read (a cycle), how many were read (a limit)."""

    done: dict[tuple[Path, str], Scope] = field(default_factory=dict)
    chain: tuple[Path, ...] = ()
    sams: dict[Path, dict[str, Any]] = field(default_factory=dict)  # each file parsed once

    def sam(self, path: Path) -> dict[str, Any]:
        if path not in self.sams:
            self.sams[path] = load_template(path, structure=False)
        return self.sams[path]


def build_scope(
    path: Path,
    overrides: dict[str, Any] | None = None,
    *,
    sam: dict[str, Any] | None = None,
    depth: int = 0,
    name: str = "",
    reading: _Reading | None = None,
) -> Scope:
    """The template at `path` (already read: `sam`), translated with `overrides`, and the local nested
    applications it names, each with the parameters its parent passes. Each template is translated
    once per set of parameters, at most MAX_TEMPLATES of them, MAX_NESTING deep, and one that nests
    itself (directly or not) is a template error: CloudFormation would nest stacks without end."""
    reading = reading or _Reading()
    key = (_resolved(path), repr(sorted((overrides or {}).items(), key=lambda kv: str(kv[0]))))
    if key in reading.done:  # the same application nested again: one translation, its own name
        return replace(reading.done[key], name=name)
    if len(reading.done) >= MAX_TEMPLATES:
        raise UserError(
            f"{path}: more than {MAX_TEMPLATES} nested applications to read: not read (a template "
            "tree this size is not checked here)"
        )
    scope = _read_scope(path, overrides, sam, depth, name)
    reading.done[key] = scope
    if depth >= MAX_NESTING:
        return scope
    chain = (*reading.chain, _resolved(path))
    for logical_id, res in scope.cfn.get("Resources", {}).items():
        if res.get("Type") != "AWS::CloudFormation::Stack":
            continue
        child_path = _nested_path(path, res.get("Properties", {}).get("TemplateURL"))
        if not (child_path and child_path.is_file()):
            continue
        if child_path in chain:
            names = " -> ".join(p.name for p in (*chain[chain.index(child_path) :], child_path))
            raise TemplateError(
                f"nested application {logical_id} nests a template already above it ({names}): "
                "CloudFormation would nest stacks without end",
                "SD002",
                resource=logical_id if depth == 0 else "template",
            )
        passed = res["Properties"].get("Parameters", {})
        if not (isinstance(passed, dict) and all(not k.startswith("Fn::") for k in passed)):
            passed = scope.resolve(passed)  # the whole map behind an intrinsic (Fn::If)
        child_sam = reading.sam(child_path)
        if isinstance(passed, dict):
            child_params = {k: scope.resolve(v) for k, v in passed.items()}
        else:  # which map is passed depends on an open condition: every value is unknown
            child_params = {k: UNKNOWN for k in child_sam.get("Parameters", {})}
        below = _Reading(reading.done, chain, reading.sams)
        scope.children[logical_id] = build_scope(
            child_path, child_params, sam=child_sam, depth=depth + 1, name=logical_id, reading=below
        )
    return scope


def _resolved(path: Path) -> Path:
    """The real path, or the path as given when it cannot be resolved (reading it then says why)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links (RuntimeError before Python 3.13)
        return path.absolute()


def _read_scope(
    path: Path, overrides: dict[str, Any] | None, sam: dict[str, Any] | None, depth: int, name: str
) -> Scope:
    sam = load_template(path, structure=False) if sam is None else sam
    plain = {k: v for k, v in (overrides or {}).items() if isinstance(v, str | int | float)}
    declared = set(sam.get("Parameters") or {}) if isinstance(sam.get("Parameters"), dict) else set()
    if depth == 0:
        check_declared(path.name, plain, declared)
    # SAM's own message first where it has one (SD003); then the shape everything below relies on
    cfn = translate(sam, {k: v for k, v in plain.items() if k in declared})
    check_structure(sam)
    check_structure(cfn)
    params = {**_declared_defaults(cfn), **(overrides or {})}
    for param, decl in cfn.get("Parameters", {}).items():
        if decl.get("Type") == "CommaDelimitedList" and isinstance(params.get(param), str):
            params[param] = params[param].split(",")
    return Scope(path, cfn, sam, params, name=name)
