"""Hook configuration, read from the environment at call time into a frozen dataclass."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from safedeploy_core.appspec import function_name_of
from safedeploy_core.errors import ConfigError
from safedeploy_core.judge import Policy
from safedeploy_core.metrics import EmfSource
from safedeploy_core.timing import STEP_LOOK_S

VERDICT_POLICIES = ("fail", "pass")
MAX_LAMBDA_TIMEOUT_S = 900.0
MAX_WORKERS = 100
MAX_POLICY_CHARS = 4096
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _number(
    env: Mapping[str, str], name: str, default: str, low: float, high: float, *, integer: bool = False
) -> float:
    """A number within (low, high] (integers: [low, high]); anything else is a ConfigError."""
    raw = env.get(name) or default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = math.nan
    ok = math.isfinite(value) and value <= high and (low <= value if integer else low < value)
    if not ok:
        kind = "an integer" if integer else "a number"
        bound = f"[{low:g}" if integer else f"({low:g}"
        raise ConfigError(f"{name} must be {kind} within {bound}, {high:g}], got {raw!r}")
    return value


def _logger_settings(env: Mapping[str, str]) -> None:
    """Powertools reads these at import; the hooks fall back to INFO so they still import and report,
    and the configuration says what is wrong."""
    for name in ("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        level = env.get(name)
        if level and level.upper() not in LOG_LEVELS:
            raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    rate = env.get("POWERTOOLS_LOGGER_SAMPLE_RATE")
    if rate:
        try:
            ok = 0.0 <= float(rate) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"POWERTOOLS_LOGGER_SAMPLE_RATE must be a number within [0, 1], got {rate!r}")


@dataclass(frozen=True)
class HookConfig:
    allowed_functions: frozenset[str]
    smoke_case_location: str = "smoke_cases"
    api_url_parameter: str | None = None
    environment: str = "dev"
    # Seconds kept back for the status report; None: scaled to the hook's timeout (deadline.Reserve).
    deadline_margin_s: float | None = None
    max_workers: int = 10
    notification_topic_arn: str | None = None
    # What an INCONCLUSIVE or NODATA verdict does: "fail" (closed) or "pass" (with a warning).
    undecided_verdict: str = "pass"
    judge_enabled: bool = True
    # How long the post-traffic judge may wait for metrics it cannot see yet (NODATA/INCONCLUSIVE).
    judge_wait_s: float = 120.0
    emf_namespace: str | None = None
    emf_service: str | None = None
    judge_policy: Policy = field(default_factory=Policy)
    # The step judge's look interval within one scheduled invocation (safedeploy_core.step_gate).
    step_look_s: float = STEP_LOOK_S
    deployment_application: str | None = None
    function_arns: Mapping[str, str] = field(default_factory=dict)  # allow-listed name -> ARN
    own_arn: str | None = None  # this hook's ARN, from its Lambda context (set at call time)

    def function_arn(self, name: str) -> str:
        """The unqualified ARN of an allow-listed function: as ALLOWED_FUNCTIONS gave it, else in this
        hook's own account, region and partition."""
        if name in self.function_arns:
            return self.function_arns[name]
        if self.own_arn and self.own_arn.count(":") >= 6:
            return ":".join([*self.own_arn.split(":")[:6], name])
        raise ConfigError(f"no ARN known for {name}: list it in ALLOWED_FUNCTIONS as an ARN")

    @property
    def emf(self) -> EmfSource | None:
        if self.emf_namespace and self.emf_service:
            return EmfSource(self.emf_namespace, self.emf_service)
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HookConfig:
        env = os.environ if env is None else env
        raw = [x.strip() for x in env.get("ALLOWED_FUNCTIONS", "").split(",") if x.strip()]
        allowed = frozenset(function_name_of(x) for x in raw)
        arns = {function_name_of(x): ":".join(x.split(":")[:7]) for x in raw if x.startswith("arn:")}
        if not allowed:
            raise ConfigError("ALLOWED_FUNCTIONS is empty: the hook serves no function")
        environment = env.get("ENVIRONMENT_NAME", "dev") or "dev"
        undecided = env.get("UNDECIDED_VERDICT") or ("fail" if environment == "prod" else "pass")
        if undecided not in VERDICT_POLICIES:
            raise ConfigError(f"UNDECIDED_VERDICT must be one of {VERDICT_POLICIES}, got {undecided!r}")
        margin = (
            _number(env, "DEADLINE_MARGIN_S", "", 0.0, MAX_LAMBDA_TIMEOUT_S)
            if env.get("DEADLINE_MARGIN_S", "").strip()
            else None
        )
        judge_wait = _number(env, "JUDGE_WAIT_S", "120", 0, MAX_LAMBDA_TIMEOUT_S, integer=True)
        workers = int(_number(env, "SMOKE_CONCURRENCY", "10", 1, MAX_WORKERS, integer=True))
        look = _number(env, "STEP_LOOK_S", f"{STEP_LOOK_S:g}", 1, 30, integer=True)
        _logger_settings(env)
        raw_policy = env.get("JUDGE_POLICY") or "null"
        if len(raw_policy) > MAX_POLICY_CHARS:
            raise ConfigError(f"JUDGE_POLICY is longer than {MAX_POLICY_CHARS} characters")
        try:
            policy = Policy.from_dict(json.loads(raw_policy))
        # JSONDecodeError and JudgeInputError are ValueErrors; deep nesting is a RecursionError
        except (ValueError, TypeError, RecursionError) as exc:
            raise ConfigError(f"JUDGE_POLICY is not a valid judge policy: {exc}") from exc
        return cls(
            allowed_functions=allowed,
            function_arns=arns,
            smoke_case_location=env.get("SMOKE_CASE_LOCATION", "smoke_cases") or "smoke_cases",
            api_url_parameter=env.get("API_URL_PARAMETER") or None,
            environment=environment,
            deadline_margin_s=margin,
            max_workers=max(workers, 1),
            notification_topic_arn=env.get("NOTIFICATION_TOPIC_ARN") or None,
            undecided_verdict=undecided,
            judge_enabled=(env.get("JUDGE_ENABLED", "true").lower() != "false"),
            judge_wait_s=judge_wait,
            emf_namespace=env.get("EMF_NAMESPACE") or None,
            emf_service=env.get("EMF_SERVICE") or None,
            judge_policy=policy,
            step_look_s=look,
            deployment_application=env.get("DEPLOYMENT_APPLICATION") or None,
        )
