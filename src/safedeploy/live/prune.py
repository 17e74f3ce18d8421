"""`safedeploy prune`: the account side. `gather` reads, per function, the facts that
live/retention.py decides on; `delete_versions` makes the only changes.

Recent invocations: Lambda publishes per-version counts only as `{FunctionName, Resource=fn:alias,
ExecutedVersion=N}` (AWS/Lambda metrics documentation; aws-cdk's generated LambdaMetrics lists no
`{ExecutedVersion}`-only set), so the series that exist are found with ListMetrics and summed with
GetMetricData; a `Resource=fn:N` series, were one published for a direct call of a version, counts
too. While a deployment is in progress CodeDeploy owns the alias: prune refuses to run.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from safedeploy_core.appspec import parse_appspec
from safedeploy_core.codedeploy import appspec_content

from safedeploy.errors import UserError
from safedeploy.live.aws import (
    THROTTLED,
    active_deployments,
    aws_errors,
    codedeploy_of,
    denied,
    stack_resources,
)
from safedeploy.live.retention import Decision, Facts, PublishedVersion, decide, version_before
from safedeploy.live.route import weights

# ---------------------------------------------------------------- reading the account


@dataclass(frozen=True)
class Target:
    """One function to prune, with its CodeDeploy group when a stack says which."""

    name: str
    logical_id: str | None = None
    application: str | None = None
    group: str | None = None


def stack_targets(cloudformation: Any, stack: str) -> list[Target]:
    resources = stack_resources(cloudformation, stack)
    application, groups = codedeploy_of(resources)
    targets = [
        Target(
            r["PhysicalResourceId"], r["LogicalResourceId"], application, groups.get(r["LogicalResourceId"])
        )
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
    ]
    if not targets:
        raise UserError(f"stack {stack!r} has no Lambda function")
    return targets


STACK_TAG = "aws:cloudformation:stack-name"  # CloudFormation tags every function it creates


def function_target(lambda_client: Any, cloudformation: Any, name: str) -> Target:
    """The function by name or ARN; its plain name is what mappings' and URLs' ARNs are matched on.
    A function of a CloudFormation stack gets its stack's CodeDeploy group (in-progress deployments,
    the last known-good), found through the stack tag."""
    try:
        conf = lambda_client.get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise UserError(f"function {name!r} not found") from exc
        raise
    plain = str(conf["FunctionName"])
    arn = str(conf["FunctionArn"]).removesuffix(":$LATEST")
    stack = (lambda_client.list_tags(Resource=arn).get("Tags") or {}).get(STACK_TAG)
    if stack:
        with aws_errors(cloudformation):
            found = [t for t in stack_targets(cloudformation, stack) if t.name == plain]
        if found:
            return found[0]
    return Target(plain)


def _pages(call: Callable[..., Any], key: str, marker: str = "Marker", **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        page = call(**kwargs)
        items.extend(page.get(key, []))
        token = page.get(f"Next{marker}")
        if not token:
            return items
        kwargs[marker] = token


def _qualifier(arn: str, name: str) -> str | None:
    """The qualifier of a function ARN (`…:function:NAME:QUALIFIER`), None when unqualified."""
    parts = arn.split(":")
    if len(parts) >= 8 and parts[6] == name:
        return parts[7]
    return None


def _versions_of(qualifier: str | None, aliases: dict[str, dict[str, float]]) -> list[str]:
    if qualifier is None or qualifier == "$LATEST":
        return []
    if qualifier.isdigit():
        return [qualifier]
    return list(aliases.get(qualifier, {}))


def published(lambda_client: Any, name: str) -> list[PublishedVersion]:
    return [
        PublishedVersion(str(v["Version"]), int(v.get("CodeSize") or 0), str(v.get("LastModified") or ""))
        for v in _pages(lambda_client.list_versions_by_function, "Versions", FunctionName=name)
        if str(v["Version"]).isdigit()
    ]


def aliases_of(lambda_client: Any, name: str) -> list[dict[str, Any]]:
    return _pages(lambda_client.list_aliases, "Aliases", FunctionName=name)


def alias_weights(lambda_client: Any, name: str) -> dict[str, dict[str, float]]:
    return {str(a["Name"]): weights(a) for a in aliases_of(lambda_client, name)}


def known_good(codedeploy: Any, target: Target) -> dict[str, str] | None:
    """Both versions of the newest Succeeded deployment of the function's group; None without one."""
    if not (target.application and target.group):
        return None
    ids = _pages(
        codedeploy.list_deployments,
        "deployments",
        marker="Token",
        applicationName=target.application,
        deploymentGroupName=target.group,
        includeOnlyStatuses=["Succeeded"],
    )
    if not ids:
        return None
    infos = [codedeploy.get_deployment(deploymentId=d)["deploymentInfo"] for d in ids]
    newest = max(infos, key=lambda i: i["createTime"])
    revision = codedeploy.get_application_revision(
        applicationName=target.application, revision=newest["revision"]
    )
    spec = parse_appspec(appspec_content(revision["revision"]))
    deployment = newest["deploymentId"]
    return {
        spec.current_version: f"last known-good ({spec.alias} before {deployment}, which succeeded)",
        spec.target_version: f"target of the last successful deployment {deployment}",
    }


def invocations(cloudwatch: Any, name: str, window_s: float, now: datetime) -> dict[str, float]:
    """Invocations per version within the window, from the series Lambda actually published."""
    # ListMetrics' dimension filter matches every series that has these dimensions among others (what
    # CloudWatch exporters' discovery relies on, prometheus/cloudwatch_exporter#139); GetMetricData
    # then needs each series' exact dimensions, which the listing gives.
    metrics = _pages(
        cloudwatch.list_metrics,
        "Metrics",
        marker="Token",
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
    )
    queries: dict[str, tuple[str, dict[str, Any]]] = {}
    for metric in metrics:
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        version = dims.get("ExecutedVersion")
        if version is None:
            resource = dims.get("Resource", "")
            qualifier = resource.rpartition(":")[2] if ":" in resource else ""
            version = qualifier if qualifier.isdigit() else None
        if version is None or dims.get("FunctionName") != name:
            continue
        queries[f"q{len(queries)}"] = (version, metric)
    counts: dict[str, float] = {}
    if not queries:
        return counts
    period = max(60, int(-(-window_s // 60) * 60))
    start = now - timedelta(seconds=period)
    items = list(queries.items())
    for i in range(0, len(items), 500):  # GetMetricData takes at most 500 queries a call
        batch = items[i : i + 500]
        results = _pages(
            cloudwatch.get_metric_data,
            "MetricDataResults",
            marker="Token",
            MetricDataQueries=[
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {k: metric[k] for k in ("Namespace", "MetricName", "Dimensions")},
                        "Period": period,
                        "Stat": "Sum",
                    },
                }
                for qid, (_, metric) in batch
            ],
            StartTime=start,
            EndTime=now,
        )
        for result in results:
            version = queries[result["Id"]][0]
            counts[version] = counts.get(version, 0.0) + float(sum(result.get("Values", [])))
    return counts


def refuse_if_deploying(codedeploy: Any, target: Target) -> None:
    if target.application and target.group:
        active = active_deployments(codedeploy, target.application, target.group)
        if active:
            raise UserError(
                f"deployment {active[0]} of {target.logical_id or target.name} is in progress: prune "
                "runs when it has ended (its versions are CodeDeploy's until then)"
            )


def gather(
    clients: dict[str, Any], target: Target, window_s: float | None, now: datetime | None = None
) -> Facts:
    lam, cd, cw = clients["lambda"], clients["codedeploy"], clients["cloudwatch"]
    name = target.name
    with aws_errors(cd):
        refuse_if_deploying(cd, target)
        good = known_good(cd, target)
    with aws_errors(lam):
        versions = published(lam, name)
        listed = aliases_of(lam, name)
        aliases = {str(a["Name"]): weights(a) for a in listed}
        primaries = {str(a["Name"]): str(a["FunctionVersion"]) for a in listed}
        provisioned: dict[str, str] = {}
        for config in _pages(
            lam.list_provisioned_concurrency_configs, "ProvisionedConcurrencyConfigs", FunctionName=name
        ):
            qualifier = _qualifier(str(config["FunctionArn"]), name)
            for version in _versions_of(qualifier, aliases):
                provisioned[version] = str(qualifier)
        sources: dict[str, list[str]] = {}
        # Listed unfiltered and matched on FunctionArn: a mapping on a version names the qualified ARN.
        for mapping in _pages(lam.list_event_source_mappings, "EventSourceMappings"):
            qualifier = _qualifier(str(mapping.get("FunctionArn", "")), name)
            for version in _versions_of(qualifier, aliases):
                sources.setdefault(version, []).append(str(mapping["UUID"]))
        urls: dict[str, str] = {}
        for config in _pages(lam.list_function_url_configs, "FunctionUrlConfigs", FunctionName=name):
            qualifier = _qualifier(str(config["FunctionArn"]), name)
            for version in _versions_of(qualifier, aliases):
                urls[version] = str(qualifier)
    invoked: dict[str, float] = {}
    if window_s is not None and versions:
        with aws_errors(cw):
            invoked = invocations(cw, name, window_s, now or datetime.now(UTC))
    return Facts(
        name,
        versions,
        aliases,
        good if good is not None else version_before(versions, primaries.get("live")),
        provisioned,
        sources,
        urls,
        invoked,
        window_s,
    )


@dataclass(frozen=True)
class Storage:
    used: int
    limit: int


def code_storage(lambda_client: Any) -> Storage:
    with aws_errors(lambda_client):
        settings = lambda_client.get_account_settings()
    return Storage(
        int(settings["AccountUsage"]["TotalCodeSize"]), int(settings["AccountLimit"]["TotalCodeSize"])
    )


# ---------------------------------------------------------------- deleting


@dataclass
class Outcome:
    function: str
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    kept_meanwhile: list[str] = field(default_factory=list)  # an alias moved onto it since the plan
    interrupted: bool = False
    bytes_freed: int = 0
    stopped: str | None = None  # why the deletions stopped early


@dataclass
class PruneReport:
    decisions: list[Decision]
    storage: Storage
    window_s: float | None
    keep_newest: int
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def bytes_to_free(self) -> int:
        return sum(d.bytes_to_free for d in self.decisions)

    @property
    def complete(self) -> bool:
        return all(o.stopped is None for o in self.outcomes)

    @property
    def interrupted(self) -> bool:
        return any(o.interrupted for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "keep_newest": self.keep_newest,
            "window_s": self.window_s,
            "code_storage": asdict(self.storage),
            "bytes_to_free": self.bytes_to_free,
            "functions": [
                {
                    "function": d.function,
                    "keep": d.keep,
                    "delete": [asdict(v) for v in d.delete],
                    "bytes_to_free": d.bytes_to_free,
                }
                for d in self.decisions
            ],
            "outcomes": [asdict(o) for o in self.outcomes],
            "complete": self.complete,
        }


class _Deferred:
    """Ctrl-C and SIGTERM wait for the deletion under way: each one is complete or not started."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.signal = signum


@contextlib.contextmanager
def _deferred_interrupts() -> Iterator[_Deferred]:
    deferred = _Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield deferred
        return
    previous = {sig: signal.signal(sig, deferred) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield deferred
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def delete_versions(
    clients: dict[str, Any],
    target: Target,
    decision: Decision,
    interrupted: Callable[[], bool] | None = None,
) -> Outcome:
    """Delete the decided versions, oldest first. Right before, the facts that can change quickly
    (a deployment starting, an alias moving) are read again: a version they now use is not deleted."""
    lam, cd = clients["lambda"], clients["codedeploy"]
    outcome = Outcome(decision.function)
    with aws_errors(cd):
        refuse_if_deploying(cd, target)
    with aws_errors(lam):
        in_use = {v for split in alias_weights(lam, target.name).values() for v in split}
    queue = [v for v in decision.delete if v.version not in in_use]
    outcome.kept_meanwhile = [v.version for v in decision.delete if v.version in in_use]
    with _deferred_interrupts() as deferred:
        for index, version in enumerate(queue):
            if deferred.signal is not None or (interrupted and interrupted()):
                outcome.not_started += [v.version for v in queue[index:]]
                outcome.stopped = f"interrupted before deleting version {version.version}"
                outcome.interrupted = True
                break
            try:
                lam.delete_function(FunctionName=target.name, Qualifier=version.version)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ResourceNotFoundException":  # deleted by someone else meanwhile
                    outcome.already_gone.append(version.version)
                    continue
                outcome.not_started += [v.version for v in queue[index:]]
                outcome.stopped = (
                    f"version {version.version} not deleted: {_denied(exc, 'lambda:DeleteFunction')}"
                )
                break
            outcome.deleted.append(version.version)
            outcome.bytes_freed += version.code_size
    return outcome


def _denied(exc: ClientError, action: str) -> str:
    err = exc.response.get("Error", {})
    code, message = err.get("Code", ""), err.get("Message", "")
    if denied(code):
        return f"no permission for {action} ({message})"
    if code in THROTTLED:
        return f"still throttled after the client's retries ({code}); run prune again later"
    return f"{code}: {message}"


def plan(
    clients: dict[str, Any],
    targets: list[Target],
    keep_newest: int,
    window_s: float | None,
    dry_run: bool,
    now: datetime | None = None,
) -> tuple[PruneReport, list[Target]]:
    """Read every target's facts and decide; changes nothing. Functions without published versions
    (hooks, for example) are left out."""
    if keep_newest < 1:
        raise UserError("--keep must be at least 1: the newest version is the one a deployment ships next")
    decisions, kept_targets = [], []
    for target in targets:
        facts = gather(clients, target, window_s, now)
        if facts.versions:
            decisions.append(decide(facts, keep_newest))
            kept_targets.append(target)
    if not decisions:
        names = ", ".join(t.name for t in targets)
        raise UserError(f"no published version to prune ({names})")
    storage = code_storage(clients["lambda"])
    return PruneReport(decisions, storage, window_s, keep_newest, dry_run), kept_targets


def execute(
    clients: dict[str, Any],
    report: PruneReport,
    targets: list[Target],
    interrupted: Callable[[], bool] | None = None,
) -> PruneReport:
    """Delete what `plan` decided, function by function; stops at the first that did not finish."""
    stopped = False
    for target, decision in zip(targets, report.decisions, strict=True):
        if not decision.delete:
            continue
        if stopped:
            report.outcomes.append(
                Outcome(
                    decision.function,
                    not_started=[v.version for v in decision.delete],
                    stopped="not started: the deletions stopped at an earlier function",
                )
            )
            continue
        try:
            outcome = delete_versions(clients, target, decision, interrupted)
        except UserError as exc:  # a deployment started meanwhile, a refused or throttled read
            outcome = Outcome(decision.function, not_started=[v.version for v in decision.delete])
            outcome.stopped = str(exc)
        report.outcomes.append(outcome)
        stopped = outcome.stopped is not None
    return report
