"""Which published versions to keep, and why: a pure function of plain facts (no AWS here);
`safedeploy prune` reads the facts (live/prune.py) and deletes what `decide` does not keep.

Kept, each with its reason:
- every alias's version and the versions of its routing configuration (a weighted route serves them);
- the last known-good: both versions of the function's newest Succeeded CodeDeploy deployment (its
  AppSpec's CurrentVersion is what `live` pointed to before), or without CodeDeploy history the
  newest version below the primary of `live`;
- the newest N (--keep; the newest one is the target of any deployment about to start);
- versions with provisioned concurrency, or named by an event source mapping or a function URL;
- versions invoked within the recency window (unless it is off: `--older-than 0`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from safedeploy.errors import UserError

DEFAULT_WINDOW_S = 24 * 3600
# ListMetrics returns only metrics with data in the last two weeks (CloudWatch API reference): a
# longer window could not see a version invoked before that, and would delete it.
MAX_WINDOW_S = 14 * 24 * 3600
DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 3600}


def parse_duration(text: str) -> float:
    """`24h`, `90m`, `7d`, `3600s`; a bare number is hours. At most 14 days."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise UserError(f"--older-than {text!r}: give a duration such as 24h, 90m or 7d")
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds > MAX_WINDOW_S:
        raise UserError(
            f"--older-than {text!r} is longer than 14 days: CloudWatch lists no metric older than two "
            "weeks, so prune could not tell whether a version was invoked within it"
        )
    return seconds


@dataclass(frozen=True)
class PublishedVersion:
    version: str
    code_size: int
    last_modified: str = ""


@dataclass
class Facts:
    """What the account says about one function's versions (plain data: `decide` reads nothing else)."""

    name: str
    versions: list[PublishedVersion]
    aliases: dict[str, dict[str, float]]  # alias -> {version: percent}
    known_good: dict[str, str] = field(default_factory=dict)  # version -> why
    provisioned: dict[str, str] = field(default_factory=dict)  # version -> qualifier it is set on
    event_sources: dict[str, list[str]] = field(default_factory=dict)  # version -> mapping UUIDs
    urls: dict[str, str] = field(default_factory=dict)  # version -> qualifier of the URL
    invoked: dict[str, float] = field(default_factory=dict)  # version -> invocations in the window
    window_s: float | None = DEFAULT_WINDOW_S  # None: recency not consulted (--older-than 0)


@dataclass
class Decision:
    function: str
    keep: dict[str, list[str]]  # version -> reasons, oldest first
    delete: list[PublishedVersion]  # oldest first

    @property
    def bytes_to_free(self) -> int:
        return sum(v.code_size for v in self.delete)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def decide(facts: Facts, keep_newest: int) -> Decision:
    """Keep every version something uses or may need; delete the rest. Pure."""
    reasons: dict[str, list[str]] = {}

    def keep(version: str, why: str) -> None:
        reasons.setdefault(version, []).append(why)

    published = {v.version for v in facts.versions}
    for alias, split in sorted(facts.aliases.items()):
        for version, percent in split.items():
            keep(version, f"alias {alias} ({percent:g} %)")
    for version, why in facts.known_good.items():
        keep(version, why)
    ordered = sorted(facts.versions, key=lambda v: int(v.version))
    for v in ordered[-keep_newest:] if keep_newest > 0 else []:
        keep(v.version, f"newest {keep_newest}")
    for version, qualifier in facts.provisioned.items():
        keep(version, f"provisioned concurrency (on {qualifier})")
    for version, uuids in facts.event_sources.items():
        keep(version, "event source mapping " + ", ".join(uuids))
    for version, qualifier in facts.urls.items():
        keep(version, f"function URL (on {qualifier})")
    if facts.window_s is not None:
        for version, count in facts.invoked.items():
            if count > 0:
                keep(version, f"invoked {count:g} times in the last {_hours(facts.window_s)}")
    kept = {v: reasons[v] for v in sorted(reasons, key=_order) if v in published}
    return Decision(facts.name, kept, [v for v in ordered if v.version not in reasons])


def version_before(versions: list[PublishedVersion], primary: str | None) -> dict[str, str]:
    """Without CodeDeploy history, the last known-good is the newest version below `live`'s primary
    (Lambda keeps no alias history; CloudFormation publishes versions in order)."""
    if primary is None or not primary.isdigit():
        return {}
    below = [v.version for v in versions if int(v.version) < int(primary)]
    if not below:
        return {}
    return {max(below, key=int): "last known-good (the version before live's, no CodeDeploy history)"}


def _order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)
