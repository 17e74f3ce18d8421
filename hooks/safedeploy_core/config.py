"""Hook configuration, read from the environment at call time into a frozen dataclass."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from safedeploy_core.appspec import function_name_of
from safedeploy_core.errors import ConfigError
from safedeploy_core.judge import Policy
from safedeploy_core.metrics import EmfSource

VERDICT_POLICIES = ("fail", "pass")


@dataclass(frozen=True)
class HookConfig:
    allowed_functions: frozenset[str]
    smoke_case_location: str = "smoke_cases"
    api_url_parameter: str | None = None
    environment: str = "dev"
    deadline_margin_s: float = 25.0
    max_workers: int = 10
    notification_topic_arn: str | None = None
    # What an INCONCLUSIVE or NODATA verdict does: "fail" (closed) or "pass" (with a warning).
    undecided_verdict: str = "pass"
    judge_enabled: bool = True
    emf_namespace: str | None = None
    emf_service: str | None = None
    judge_policy: Policy = field(default_factory=Policy)
    deployment_application: str | None = None

    @property
    def emf(self) -> EmfSource | None:
        if self.emf_namespace and self.emf_service:
            return EmfSource(self.emf_namespace, self.emf_service)
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HookConfig:
        env = os.environ if env is None else env
        raw = env.get("ALLOWED_FUNCTIONS", "")
        allowed = frozenset(function_name_of(x.strip()) for x in raw.split(",") if x.strip())
        if not allowed:
            raise ConfigError("ALLOWED_FUNCTIONS is empty: the hook serves no function")
        environment = env.get("ENVIRONMENT_NAME", "dev") or "dev"
        undecided = env.get("UNDECIDED_VERDICT") or ("fail" if environment == "prod" else "pass")
        if undecided not in VERDICT_POLICIES:
            raise ConfigError(f"UNDECIDED_VERDICT must be one of {VERDICT_POLICIES}, got {undecided!r}")
        try:
            margin = float(env.get("DEADLINE_MARGIN_S", "25"))
            workers = int(env.get("SMOKE_CONCURRENCY", "10"))
        except ValueError as exc:
            raise ConfigError(f"DEADLINE_MARGIN_S/SMOKE_CONCURRENCY must be numbers: {exc}") from exc
        try:
            policy = Policy.from_dict(json.loads(env.get("JUDGE_POLICY") or "null"))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and JudgeInputError are ValueErrors
            raise ConfigError(f"JUDGE_POLICY is not a valid judge policy: {exc}") from exc
        return cls(
            allowed_functions=allowed,
            smoke_case_location=env.get("SMOKE_CASE_LOCATION", "smoke_cases") or "smoke_cases",
            api_url_parameter=env.get("API_URL_PARAMETER") or None,
            environment=environment,
            deadline_margin_s=margin,
            max_workers=max(workers, 1),
            notification_topic_arn=env.get("NOTIFICATION_TOPIC_ARN") or None,
            undecided_verdict=undecided,
            judge_enabled=(env.get("JUDGE_ENABLED", "true").lower() != "false"),
            emf_namespace=env.get("EMF_NAMESPACE") or None,
            emf_service=env.get("EMF_SERVICE") or None,
            judge_policy=policy,
            deployment_application=env.get("DEPLOYMENT_APPLICATION") or None,
        )
