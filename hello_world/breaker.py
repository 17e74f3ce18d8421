"""In-band breaker: the new version counts its own outcomes and stops its own deployment.

Each execution environment of the function runs a one-sample sequential test on its own calls: a
mixture (weighted by WEIGHTS) of likelihood ratios, Binomial(r x p0) against Binomial(p0) for r in
RATIOS, where p0 is the error rate the user declares for a healthy version
(BREAKER_BASELINE_ERROR_PCT). For a version whose error rate is p0 or lower the mixture is a
nonnegative supermartingale, so by Ville's inequality it ever reaches 1/a with probability at most
a, however often it is looked at — every call. The deployment's budget BREAKER_ALPHA_PCT is shared
out over BREAKER_MAX_ENVIRONMENTS environments (a union bound): a = alpha / environments each. (An
environment cannot know how many came before it without shared state, so the split is even.)

When the test says FAIL the environment stops, once, the one deployment that is shifting traffic to
exactly this function and version: it lists the in-progress deployments of the CodeDeploy
application (BREAKER_APPLICATION) and calls StopDeployment(autoRollbackEnabled) only for the one whose
AppSpec names this function (context.function_name) with this version (context.function_version) as
TargetVersion. An old version's environments, a `$LATEST` call and a function whose deployment is
over stop nothing. The role grants StopDeployment on this function's own deployment group only.

On the request path it costs a few float operations per call (about 3 µs, benchmarks/breaker_bench.py).
The stop runs on a worker thread that builds its own client, so the call that trips the breaker waits
for it at most STOP_BUDGET_S (2 s), whatever the network does; a stop that failed or did not finish in
time is tried again on a later call of the same version, after a growing delay with jitter (5 s, 10 s,
20 s ... up to a minute), until one works or the deployment is over. It never changes the function's
answer or raises, whatever the handler returns.

One file with boto3 as its only dependency, so that it can be copied into any Python function; the
hooks' full AppSpec reader is safedeploy_core.appspec (a test keeps the two readings equal).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RATIOS = (1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0, 100.0)
# The mixture's prior over RATIOS (it sums to 1, so Ville's bound holds as with equal weights). A
# ratio of 20x or more is caught within a few calls by any component, so its weight buys little; the
# calls are spent on 2x-10x, which get most of it. Against equal weights, by simulation
# (benchmarks/breaker_bench.py's model): 1 % -> 5 % at 10 calls/s per environment, median 18.9 s
# instead of 19.8 s and p95 36.6 s instead of 39.4 s; 1 % -> 3 %, 76.6 s instead of 79.2 s.
WEIGHTS = (1.0, 2.0, 3.0, 3.0, 3.0, 2.0, 1.0, 0.5, 0.5)
LOG_WEIGHTS = tuple(math.log(w / sum(WEIGHTS)) for w in WEIGHTS)
MAX_RATE = 0.999  # r x p0 capped below 1, so a success keeps a finite likelihood ratio
logger = logging.getLogger("breaker")


class BreakerConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BreakerConfig:
    application: str
    baseline: float  # p0, a fraction
    alpha: float  # per environment

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BreakerConfig | None:
        """None when the breaker is not configured (no BREAKER_APPLICATION); BreakerConfigError for a
        value that is set but wrong."""
        env = dict(os.environ if env is None else env)
        application = env.get("BREAKER_APPLICATION", "").strip()
        if not application:
            return None
        baseline = _number(env, "BREAKER_BASELINE_ERROR_PCT", None, 0.001, 50.0) / 100
        alpha = _number(env, "BREAKER_ALPHA_PCT", 0.5, 0.0001, 10.0) / 100
        environments = _number(env, "BREAKER_MAX_ENVIRONMENTS", 100, 1, 100_000)
        if environments != int(environments):
            raise BreakerConfigError(f"BREAKER_MAX_ENVIRONMENTS must be a whole number, got {environments}")
        return cls(application, baseline, alpha / environments)


def _number(env: dict[str, str], name: str, default: float | None, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        if default is None:
            raise BreakerConfigError(f"{name} is required when BREAKER_APPLICATION is set")
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise BreakerConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise BreakerConfigError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value


@dataclass
class SequentialTest:
    """The mixture likelihood ratio of one environment's calls, in log space (numerically safe at any
    count)."""

    baseline: float
    alpha: float
    calls: int = 0
    errors: int = 0
    _log_lr: list[float] = field(default_factory=list, repr=False)
    _steps: list[tuple[float, float]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        p0 = self.baseline
        for r in RATIOS:
            p1 = min(r * p0, MAX_RATE)
            self._steps.append((math.log(p1 / p0), math.log((1 - p1) / (1 - p0))))
        self._log_lr = [0.0] * len(RATIOS)
        self._threshold = math.log(1 / self.alpha)

    def add(self, error: bool) -> bool:
        """Count one call; True when the evidence reaches 1/alpha (a FAIL)."""
        self.calls += 1
        self.errors += error
        index = 0 if error else 1
        logs = self._log_lr
        for i, step in enumerate(self._steps):
            logs[i] += step[index]
        return self.log_evidence() >= self._threshold

    def log_evidence(self) -> float:
        """log of the likelihood ratio averaged over RATIOS with WEIGHTS."""
        values = [v + w for v, w in zip(self._log_lr, LOG_WEIGHTS, strict=True)]
        top = max(values)
        return top + math.log(sum(math.exp(v - top) for v in values))


def target_of(appspec: str) -> tuple[str, str] | None:
    """(function name, TargetVersion) of a Lambda AppSpec (JSON, as CloudFormation writes it)."""
    try:
        doc = json.loads(appspec)
        (body,) = doc["Resources"][0].values()
        props = body["Properties"]
        return str(props["Name"]), str(props["TargetVersion"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


STOP_BUDGET_S = 2.0  # the tripping call waits at most this long for CodeDeploy (then gives up)


def stop_own_deployment(
    codedeploy: Any,
    application: str,
    function: str,
    version: str,
    budget_s: float = STOP_BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Stop (with rollback) the in-progress deployment of `application` that shifts `function` to
    `version`; its id, or None when there is none. TimeoutError once `budget_s` is spent."""
    deadline = clock() + budget_s

    def call(operation: str, **params: Any) -> Any:
        if clock() > deadline:
            raise TimeoutError(f"breaker: {budget_s:g} s spent before {operation}")
        return getattr(codedeploy, operation)(**params)

    name = function.partition(":")[0]
    for group in call("list_deployment_groups", applicationName=application).get("deploymentGroups", []):
        listed = call(
            "list_deployments",
            applicationName=application,
            deploymentGroupName=group,
            includeOnlyStatuses=["InProgress"],
        )
        for deployment_id in listed.get("deployments", []):
            info = call("get_deployment", deploymentId=deployment_id)["deploymentInfo"]
            revision = call(
                "get_application_revision", applicationName=application, revision=info["revision"]
            )
            content = revision["revision"].get("appSpecContent") or revision["revision"].get("string") or {}
            if target_of(str(content.get("content", ""))) == (name, version):
                call("stop_deployment", deploymentId=deployment_id, autoRollbackEnabled=True)
                return str(deployment_id)
    return None


def _codedeploy() -> Any:
    import boto3
    from botocore.config import Config

    # One try per call (`total_max_attempts` counts tries; `max_attempts` would count retries) and
    # short timeouts: a stop that does not get through is tried again on a later call instead.
    config = Config(connect_timeout=1, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("codedeploy", config=config)


RETRY_FIRST_S = 5.0  # a stop that failed is tried again after 5 s, then 10, 20, 40, 60, 60 ... (± 50 %)
RETRY_MAX_S = 60.0


@dataclass
class Stop:
    """The stop of one version's deployment: in flight on its worker, done (with the deployment it
    stopped, or None when nothing shifted to the version), or failed and due again at `due_at`."""

    failures: int = 0
    due_at: float = 0.0
    done: bool = False
    deployment: str | None = None
    worker: threading.Thread | None = field(default=None, repr=False)


@dataclass
class Breaker:
    """One execution environment's breaker. Lambda runs one version per environment; the state is
    kept per version and log stream all the same, so that a process that plays several environments
    (the offline rehearsal) counts each apart. A version is stopped once."""

    config: BreakerConfig | None
    client: Callable[[], Any] = _codedeploy
    tests: dict[str, SequentialTest] = field(default_factory=dict)  # "version/log stream" -> its test
    stops: dict[str, Stop] = field(default_factory=dict)  # version -> its stop, once tripped
    budget_s: float = STOP_BUDGET_S
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _made: list[Any] = field(default_factory=list, repr=False)  # the client, once a worker built it

    @property
    def stopped(self) -> dict[str, str | None]:
        """version -> the deployment its stop stopped (None: tripped, nothing stopped yet or at all)."""
        return {version: stop.deployment for version, stop in self.stops.items()}

    def record(self, failed: bool, context: Any) -> None:
        version = str(getattr(context, "function_version", "$LATEST"))
        if self.config is None or version == "$LATEST":
            return  # off, or not a published version (no deployment shifts to it)
        function = str(getattr(context, "function_name", ""))
        stop = self.stops.get(version)
        if stop is not None:  # tripped already: only a stop that failed is tried again, when due
            if not stop.done and stop.worker is None and self.clock() >= stop.due_at:
                self._attempt(stop, function, version)
            return
        # one test per environment: Lambda gives each its own log stream (and its own memory)
        key = f"{version}/{getattr(context, 'log_stream_name', '')}"
        test = self.tests.get(key)
        if test is None:
            test = self.tests[key] = SequentialTest(self.config.baseline, self.config.alpha)
        if not test.add(failed):
            return
        logger.warning("breaker: %d errors in %d calls of version %s", test.errors, test.calls, version)
        stop = self.stops[version] = Stop()
        self._attempt(stop, function, version)

    def _attempt(self, stop: Stop, function: str, version: str) -> None:
        """Start the stop on a worker and wait for it at most the budget; the worker records how it
        ended, however late (a worker left running resumes with the environment's next call)."""
        assert self.config is not None
        application = self.config.application

        def work() -> None:
            try:
                if not self._made:  # built here, inside the budget, once per environment
                    self._made.append(self.client())
                stopped = stop_own_deployment(self._made[0], application, function, version, self.budget_s)
            except Exception as exc:  # never fail the user's call over the breaker
                with self._lock:
                    stop.failures += 1
                    delay = min(RETRY_FIRST_S * 2 ** (stop.failures - 1), RETRY_MAX_S)
                    stop.due_at = self.clock() + delay * (0.5 + self.jitter())
                    stop.worker = None
                logger.warning(
                    "breaker: StopDeployment of version %s failed (%s); trying again in about %.0f s",
                    version,
                    exc,
                    delay,
                )
                return
            with self._lock:
                stop.done, stop.deployment, stop.worker = True, stopped, None
            logger.warning(
                "breaker: version %s: %s",
                version,
                f"stopped deployment {stopped}" if stopped else "no deployment of it in progress",
            )

        worker = threading.Thread(target=work, name="breaker-stop", daemon=True)
        with self._lock:
            stop.worker = worker
        worker.start()
        worker.join(timeout=self.budget_s)


_STATE: dict[str, Breaker] = {}  # this environment's breaker, made at its first call
_CLIENTS: list[Callable[[], Any]] = []  # a CodeDeploy client factory put in by tests or the rehearsal


def current() -> Breaker:
    """This environment's breaker, configured from the environment at its first call (a wrong value
    switches it off with one log line: the function keeps serving)."""
    if "breaker" not in _STATE:
        try:
            config = BreakerConfig.from_env()
        except BreakerConfigError as exc:
            logger.warning("breaker off: %s", exc)
            config = None
        _STATE["breaker"] = Breaker(config, _CLIENTS[-1]) if _CLIENTS else Breaker(config)
    return _STATE["breaker"]


def reset(client: Callable[[], Any] | None = None) -> None:
    """Forget the state, as a new environment would; `client` builds the CodeDeploy client instead of
    boto3's default (None: the default again)."""
    _STATE.clear()
    _CLIENTS.clear()
    if client is not None:
        _CLIENTS.append(client)


def failed(response: Any) -> bool:
    """A 5xx answer (API Gateway proxy shape) counts as an error, like an exception; any other shape,
    or a status that is not a number, is the function's business and counts as a success."""
    status = response.get("statusCode") if isinstance(response, dict) else None
    if isinstance(status, bool):
        return False
    if isinstance(status, str):
        status = status.strip()
        status = int(status) if status.isdigit() else None
    return isinstance(status, int | float) and status >= 500


def in_band_breaker(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Decorate a Lambda handler: every call's outcome goes to this environment's breaker."""

    @functools.wraps(handler)
    def wrapped(event: Any, context: Any) -> Any:
        try:
            response = handler(event, context)
        except Exception:
            _record(True, context)
            raise
        _record(failed(response), context)
        return response

    return wrapped


def _record(error: bool, context: Any) -> None:
    try:
        current().record(error, context)
    except Exception:  # a breaker bug must never become the caller's error
        logger.exception("breaker: could not count the call")
