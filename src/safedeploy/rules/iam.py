"""IAM rules: who may invoke whom, and the grants a hook needs (the role's statements as the
translated template has them)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from safedeploy.rules.base import Finding, Rule
from safedeploy.template.deployments import FunctionDeployment
from safedeploy.template.scope import PSEUDO, UNKNOWN, Scope, locate

HOOK_PREFIX = "CodeDeployHook_"

SD201 = Rule(
    "SD201",
    "error",
    "hook",
    "CodeDeploy's role may not invoke the hook (CodeDeployHook_ naming vs DeploymentPreference.Role)",
    twinned=True,
)
SD203 = Rule(
    "SD203",
    "error",
    "hook",
    "hook role lacks codedeploy:PutLifecycleEventHookExecutionStatus (one-hour hang)",
    twinned=True,
)
SD204 = Rule("SD204", "error", "hook", "pre-traffic hook may not invoke the target's versions", twinned=True)
SD205 = Rule(
    "SD205", "error", "hook", "LambdaInvokePolicy given a version/alias (builds a wrong ARN)", twinned=True
)
SD208 = Rule(
    "SD208",
    "error",
    "function",
    "DeploymentPreference.Role that CodeDeploy may not assume, or that may not make its calls for the "
    "deployment (GetAlias/UpdateAlias on the function, provisioned concurrency, the gate alarms, "
    "trigger topics), as IAM evaluates it",
    twinned=True,
)


def statements_of_role(scope: Scope, role_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(Allow statements of a role: inline policies and AWS::IAM::Policy attached to it, managed ARNs)."""
    role = scope.resources[role_id].get("Properties", {})
    documents = [(p or {}).get("PolicyDocument", {}) for p in scope.resolve(role.get("Policies", [])) or []]
    for res in scope.resources.values():
        if res.get("Type") == "AWS::IAM::Policy" and {"Ref": role_id} in res.get("Properties", {}).get(
            "Roles", []
        ):
            documents.append(scope.resolve(res["Properties"].get("PolicyDocument", {})))
    statements: list[dict[str, Any]] = []
    for doc in documents:
        raw = doc.get("Statement", [])
        statements.extend(s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict))
    managed = [str(m) for m in role.get("ManagedPolicyArns", []) or []]
    return [s for s in statements if s.get("Effect") == "Allow"], managed


def role_statements(scope: Scope, function_logical: str) -> tuple[list[dict[str, Any]], bool]:
    """(Allow statements of the function's role, whether the role is fully visible in the template)."""
    found = locate(scope, scope.resources.get(function_logical, {}).get("Properties", {}).get("Role"))
    if not found:
        return [], False
    statements, managed = statements_of_role(*found)
    unknown = [m for m in managed if "AWSLambdaBasicExecutionRole" not in m and "AWSLambdaVPCAccess" not in m]
    return statements, not unknown and not opaque(statements)


def opaque(statements: list[dict[str, Any]]) -> bool:
    """Whether some statement's actions or resources depend on values not known here (an open
    condition, a nested output): then a missing grant is not proven missing."""
    return any(_undecided(s.get(key)) for s in statements for key in ("Action", "Resource") if key in s)


def _undecided(value: Any) -> bool:
    """An intrinsic left unresolved, or a value an open condition chooses (placeholders such as
    <Fn> are CloudFormation's own names and match a grant as the real name would)."""
    if isinstance(value, dict):
        return True
    if isinstance(value, list):
        return any(_undecided(v) for v in value)
    return isinstance(value, str) and UNKNOWN in value


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for st in statements:
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        resources = st.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, str(r)) for r in resources if r is not None
        ):
            return True
    return False


def _version_arn(function_logical: str) -> str:
    """The new version's ARN as the translated template names it (`!Ref Fn.Version`)."""
    return f"arn:aws:lambda:us-east-1:123456789012:function:<{function_logical}>:<{function_logical}.Version>"


_PARTLY_VISIBLE = (
    "not verified: the hook's role has grants or managed policies not known here, and what is visible lacks"
)


# What AWSCodeDeployRoleForLambda (the policy of the role SAM generates) lets CodeDeploy invoke.
CODEDEPLOY_MANAGED_INVOKE = {
    "Effect": "Allow",
    "Action": "lambda:InvokeFunction",
    "Resource": f"arn:aws:lambda:*:*:function:{HOOK_PREFIX}*",
}


def _invocable_by_codedeploy(
    dep: FunctionDeployment, hook_id: str, hook: str, name: Any
) -> Iterator[Finding]:
    """CodeDeploy invokes hooks with the deployment group's service role: it must allow this hook."""
    role_found = locate(dep.scope, dep.role) if dep.role else None
    if role_found is None:
        yield SD201.unverified(
            hook,
            "DeploymentPreference.Role is not defined in this template: check that it may invoke this hook",
        )
        return
    role_id = role_found[1]
    statements, managed = statements_of_role(*role_found)
    generated = any("AWSCodeDeployRoleForLambda" in m for m in managed)
    if generated:
        statements.append(CODEDEPLOY_MANAGED_INVOKE)
    # A name built with !Sub/!Join keeps its literal parts ("CodeDeployHook_<stack>-pre"): the
    # placeholder matches a wildcard in a grant as the real value would.
    arns = [f"arn:aws:lambda:us-east-1:123456789012:function:<{hook_id}>"]
    if isinstance(name, str):
        arns.append(f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
    if not any(allows(statements, "lambda:InvokeFunction", arn) for arn in arns):
        hint = (
            f"the generated CodeDeploy role may only invoke functions named {HOOK_PREFIX}*: name this hook "
            f"{HOOK_PREFIX}... (<= 64 characters) or give DeploymentPreference.Role a role that may invoke it"
            if generated
            else f"DeploymentPreference.Role ({role_id}) may not invoke this hook"
        )
        if opaque(statements):
            yield SD201.unverified(
                hook,
                f"the role's grants depend on values not known here, so whether CodeDeploy may invoke "
                f"this hook is not verified: {hint}",
            )
        elif (
            isinstance(name, str)
            and name.startswith("<")
            and name != f"<{hook_id}>"
            and not _stack_name_rules_out(name, statements)
        ):
            # The name's beginning is only known to CloudFormation: not proven wrong.
            yield SD201.unverified(
                hook,
                f"hook name {name!r} starts with a value only CloudFormation knows, so whether "
                f"CodeDeploy may invoke it is not verified: {hint}",
            )
        else:
            yield SD201.finding(hook, f"{hint}; otherwise the deployment fails at this hook")
    literal = re.sub(r"<[^>]*>", "", name) if isinstance(name, str) else ""
    if len(literal) > 64:
        yield SD201.finding(hook, f"hook name {name!r} is longer than 64 characters")


STACK = PSEUDO["AWS::StackName"]
# CloudFormation API reference, CreateStack: StackName must match [a-zA-Z][-a-zA-Z0-9]* (<= 128 characters).
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")


def _stack_name_rules_out(name: str, statements: list[dict[str, Any]]) -> bool:
    """Whether a name that starts with the stack's name (`${AWS::StackName}-pre`) can match none of the
    role's lambda:InvokeFunction grants, whatever the stack is called. A stack name has no `_`, so
    `<stack>-pre` can never start with `CodeDeployHook_`. Only grants of the form `…function:PREFIX*`
    are decided; any other shape leaves the question open."""
    if not name.startswith(STACK):
        return False
    rest = name[len(STACK) :]
    for st in statements:
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(fnmatch.fnmatchcase("lambda:invokefunction", str(a).lower()) for a in actions):
            continue
        resources = st.get("Resource", [])
        for pattern in resources if isinstance(resources, list) else [resources]:
            prefix = str(pattern).rpartition(":function:")[2] if ":function:" in str(pattern) else None
            if prefix is None or not prefix.endswith("*") or any(c in prefix[:-1] for c in "*?[:"):
                return False  # a shape not decided here
            if _may_start_with(rest, prefix[:-1]):
                return False
    return True


def _may_start_with(rest: str, prefix: str) -> bool:
    """Whether some valid stack name S makes S + rest start with prefix (a `<...>` in rest is unknown)."""
    if not prefix or _STACK_NAME.fullmatch(prefix):
        return True  # S itself can begin with the whole prefix
    head, unknown_after, _ = rest.partition("<")
    for k in range(1, len(prefix)):
        if not _STACK_NAME.fullmatch(prefix[:k]):
            break
        tail = prefix[k:]
        if head.startswith(tail) or (unknown_after and tail.startswith(head)):
            return True
    return False


def _lambda_invoke_policy(scope: Scope, hook_id: str, hook: str) -> Iterator[Finding]:
    sam_props = scope.sam_resources.get(hook_id, {}).get("Properties", {}) or {}
    for policy in sam_props.get("Policies", []) or []:
        if isinstance(policy, dict) and "LambdaInvokePolicy" in policy:
            target = (policy["LambdaInvokePolicy"] or {}).get("FunctionName")
            ref = target.get("Ref") if isinstance(target, dict) else None
            getatt = target.get("Fn::GetAtt") if isinstance(target, dict) else None
            if (
                (isinstance(ref, str) and ref.endswith((".Version", ".Alias")))
                or getatt
                or (isinstance(target, str) and ":" in target)
            ):
                yield SD205.finding(
                    hook,
                    "LambdaInvokePolicy builds arn:...:function:${FunctionName}, so a version or alias "
                    "there yields a wrong ARN: write a statement on arn:...:function:NAME:* instead",
                )


def rule_service_role(dep: FunctionDeployment) -> Iterator[Finding]:
    """safedeploy.iam: the deployment group's role against CodeDeploy's calls (hook invocation: SD201)."""
    from safedeploy.iam.rule import service_role_problems

    for problem in service_role_problems(dep.scope, dep, skip=frozenset({"lambda:InvokeFunction"})):
        yield SD208.proven_if(problem.proven, dep.logical_id, problem.message)
