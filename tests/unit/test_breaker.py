"""The in-band breaker: its sequential test, its decorator, and that it stops only its own deployment."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import breaker
import pytest
from botocore.stub import Stubber
from safedeploy_core.appspec import parse_appspec, render_appspec

from tests.helpers import APP, GROUP, REVISION, FakeContext, appspec

FN = "safe-deploy-dev-HelloWorldFunction-AbC123"
ENV = {"BREAKER_APPLICATION": APP, "BREAKER_BASELINE_ERROR_PCT": "1"}


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    breaker.reset()
    yield
    breaker.reset()


def test_the_configuration_is_read_once_and_refuses_wrong_values(monkeypatch: pytest.MonkeyPatch) -> None:
    assert breaker.BreakerConfig.from_env({}) is None  # no application: off
    config = breaker.BreakerConfig.from_env(
        {**ENV, "BREAKER_ALPHA_PCT": "1", "BREAKER_MAX_ENVIRONMENTS": "50"}
    )
    assert config is not None and math.isclose(config.alpha, 0.01 / 50) and config.baseline == 0.01
    for name, value in (
        ("BREAKER_BASELINE_ERROR_PCT", ""),
        ("BREAKER_BASELINE_ERROR_PCT", "lots"),
        ("BREAKER_ALPHA_PCT", "20"),
        ("BREAKER_MAX_ENVIRONMENTS", "2.5"),
    ):
        with pytest.raises(breaker.BreakerConfigError, match=name):
            breaker.BreakerConfig.from_env({**ENV, name: value})
    # wrong in the function's environment: off with a log line, and the function keeps serving
    monkeypatch.setenv("BREAKER_APPLICATION", APP)
    monkeypatch.setenv("BREAKER_BASELINE_ERROR_PCT", "lots")
    assert breaker.current().config is None


def test_the_evidence_is_the_weighted_mean_likelihood_ratio() -> None:
    test = breaker.SequentialTest(baseline=0.01, alpha=0.001)
    outcomes = [True] * 3 + [False] * 40
    for error in outcomes:
        test.add(error)
    expected = sum(
        w
        * (min(r * 0.01, breaker.MAX_RATE) / 0.01) ** 3
        * ((1 - min(r * 0.01, breaker.MAX_RATE)) / 0.99) ** 40
        for r, w in zip(breaker.RATIOS, breaker.WEIGHTS, strict=True)
    ) / sum(breaker.WEIGHTS)
    assert math.isclose(test.log_evidence(), math.log(expected))
    assert (test.calls, test.errors) == (43, 3)


def calls_until_fail(test: breaker.SequentialTest, rate: float, rng: random.Random, limit: int) -> int | None:
    for n in range(1, limit + 1):
        if test.add(rng.random() < rate):
            return n
    return None


def test_a_healthy_version_is_stopped_at_most_alpha_of_the_time_and_a_bad_one_soon() -> None:
    rng = random.Random(7)
    runs, alpha = 400, 0.05
    healthy = [calls_until_fail(breaker.SequentialTest(0.01, alpha), 0.01, rng, 3000) for _ in range(runs)]
    # Ville's inequality bounds it by alpha however long it runs; the sample sits well below
    assert sum(n is not None for n in healthy) / runs <= alpha
    bad = [calls_until_fail(breaker.SequentialTest(0.01, alpha), 0.06, rng, 3000) for _ in range(100)]
    stopped = sorted(n for n in bad if n is not None)
    assert len(stopped) >= 95 and stopped[len(stopped) // 2] < 300  # 1 % -> 6 %: a few hundred calls


def test_numerically_safe_at_any_count() -> None:
    test = breaker.SequentialTest(0.01, 1e-6)
    for _ in range(200_000):
        test.add(False)
    assert math.isfinite(test.log_evidence()) and test.log_evidence() < 0
    assert not any(breaker.SequentialTest(0.5, 1e-6).add(True) for _ in range(3))  # capped below 1


def test_its_appspec_reading_is_the_hooks_reading() -> None:
    content = render_appspec(FN, "live", "3", "4", {"BeforeAllowTraffic": "pre"})
    target = parse_appspec(content)
    assert breaker.target_of(content) == (target.function_name, target.target_version) == (FN, "4")
    assert breaker.target_of("not json") is None and breaker.target_of('{"Resources": []}') is None


class CodeDeploy:
    def __init__(self) -> None:
        self.client = boto3.client("codedeploy", region_name="us-east-1")
        self.stub = Stubber(self.client)
        self.stub.activate()

    def groups(self, *names: str) -> None:
        self.stub.add_response(
            "list_deployment_groups",
            {"applicationName": APP, "deploymentGroups": list(names)},
            {"applicationName": APP},
        )

    def in_progress(self, group: str, *ids: str) -> None:
        self.stub.add_response(
            "list_deployments",
            {"deployments": list(ids)},
            {"applicationName": APP, "deploymentGroupName": group, "includeOnlyStatuses": ["InProgress"]},
        )

    def deployment(self, deployment_id: str, group: str, function: str, target: str) -> None:
        info = {"deploymentId": deployment_id, "applicationName": APP, "deploymentGroupName": group}
        self.stub.add_response(
            "get_deployment",
            {"deploymentInfo": {**info, "revision": REVISION}},
            {"deploymentId": deployment_id},
        )
        self.stub.add_response(
            "get_application_revision",
            {
                "applicationName": APP,
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": appspec(function, "1", target), "sha256": "abc"},
                },
            },
            {"applicationName": APP, "revision": REVISION},
        )

    def stops(self, deployment_id: str) -> None:
        self.stub.add_response(
            "stop_deployment",
            {"status": "Pending", "statusMessage": "stop requested"},
            {"deploymentId": deployment_id, "autoRollbackEnabled": True},
        )


def test_it_stops_only_the_deployment_that_shifts_to_its_own_function_and_version() -> None:
    cd = CodeDeploy()
    cd.groups("other-group", GROUP)
    cd.in_progress("other-group", "d-OTHER")
    cd.deployment("d-OTHER", "other-group", "safe-deploy-dev-EchoFunction-X", "2")  # another function
    cd.in_progress(GROUP, "d-OLD", "d-MINE")
    cd.deployment("d-OLD", GROUP, FN, "3")  # this function, another version
    cd.deployment("d-MINE", GROUP, FN, "2")
    cd.stops("d-MINE")
    assert breaker.stop_own_deployment(cd.client, APP, FN, "2") == "d-MINE"
    cd.stub.assert_no_pending_responses()
    # nothing shifting to it: nothing stopped
    cd.groups(GROUP)
    cd.in_progress(GROUP)
    assert breaker.stop_own_deployment(cd.client, APP, FN, "2") is None
    cd.stub.assert_no_pending_responses()


def bad_handler(event: Any, context: Any) -> dict[str, Any]:
    if event.get("raise"):
        raise RuntimeError("boom")
    return {"statusCode": event.get("status", 200)}


def test_the_decorator_counts_exceptions_and_5xx_per_version_and_trips_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in {**ENV, "BREAKER_ALPHA_PCT": "1", "BREAKER_MAX_ENVIRONMENTS": "1"}.items():
        monkeypatch.setenv(key, value)
    cd = CodeDeploy()
    breaker.reset(lambda: cd.client)
    handler = breaker.in_band_breaker(bad_handler)
    new, old = (
        FakeContext(function_name=FN, function_version="2"),
        FakeContext(function_name=FN, function_version="1"),
    )
    latest = replace(new, function_version="$LATEST")
    # the old version fails too: it trips for version 1, whose environments find no deployment
    # shifting to version 1 and stop nothing; $LATEST is never counted
    cd.groups(GROUP)
    cd.in_progress(GROUP, "d-MINE")
    cd.deployment("d-MINE", GROUP, FN, "2")
    for _ in range(50):
        assert handler({"status": 502}, old)["statusCode"] == 502
        handler({"status": 502}, latest)
    assert breaker.current().stopped == {"1": None}
    assert not [k for k in breaker.current().tests if k.startswith("$LATEST")]
    cd.stub.assert_no_pending_responses()
    cd.groups(GROUP)
    cd.in_progress(GROUP, "d-MINE")
    cd.deployment("d-MINE", GROUP, FN, "2")
    cd.stops("d-MINE")
    # a healthy-looking start, then every call fails, by exception or by a 5xx
    for _ in range(100):
        handler({}, new)
    for i in range(20):
        if i % 2:
            with pytest.raises(RuntimeError):
                handler({"raise": True}, new)
        else:
            assert handler({"status": 503}, new)["statusCode"] == 503
    assert breaker.current().stopped["2"] == "d-MINE" and breaker.current().tests["2/stream"].calls < 120
    cd.stub.assert_no_pending_responses()  # one stop, no second call after the trip
    for _ in range(20):
        handler({"status": 503}, new)
    cd.stub.assert_no_pending_responses()


def test_a_failing_stop_never_fails_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**ENV, "BREAKER_MAX_ENVIRONMENTS": "1", "BREAKER_ALPHA_PCT": "5"}.items():
        monkeypatch.setenv(key, value)
    cd = CodeDeploy()
    cd.stub.add_client_error("list_deployment_groups", "AccessDeniedException", "not allowed")
    breaker.reset(lambda: cd.client)
    handler = breaker.in_band_breaker(bad_handler)
    context = FakeContext(function_name=FN, function_version="2")
    answers = [handler({"status": 500}, context)["statusCode"] for _ in range(10)]
    assert answers == [500] * 10 and "2" in breaker.current().stopped
    cd.stub.assert_no_pending_responses()


def test_the_tripping_call_waits_at_most_its_budget() -> None:
    cd = CodeDeploy()
    cd.groups(GROUP)
    cd.in_progress(GROUP, "d-MINE")
    ticks = iter([0.0, 0.5, 1.0, 2.5])  # the third CodeDeploy call would start past the 2-s budget
    with pytest.raises(TimeoutError, match="before get_deployment"):
        breaker.stop_own_deployment(cd.client, APP, FN, "2", clock=lambda: next(ticks))


def test_each_codedeploy_call_is_tried_once_with_short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = breaker._codedeploy().meta.config
    # botocore's `max_attempts` counts retries: {"max_attempts": 1} would have meant two tries
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (config.connect_timeout, config.read_timeout) == (1, 1)


class Hung:
    """A CodeDeploy client whose first call never answers until released; records the thread that
    built it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.built_on: str | None = None
        self.calls = 0

    def factory(self) -> Hung:
        self.built_on = threading.current_thread().name
        return self

    def list_deployment_groups(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        self.release.wait(30)
        return {"deploymentGroups": []}


def tripping_breaker(client: Any, **kw: Any) -> breaker.Breaker:
    config = breaker.BreakerConfig(APP, 0.01, 0.05)
    return breaker.Breaker(config, client, **kw)


def test_the_tripping_call_does_not_wait_for_a_codedeploy_that_never_answers() -> None:
    hung = Hung()
    b = tripping_breaker(hung.factory, budget_s=0.05)
    context = FakeContext(function_name=FN, function_version="2")
    for _ in range(40):  # all errors: trips within a few calls
        b.record(True, context)
    stop = b.stops["2"]
    # the call came back while the stop is still hanging on its worker, which built its own client
    assert stop.worker is not None and stop.worker.is_alive() and hung.calls == 1
    assert hung.built_on == "breaker-stop" and not stop.done
    b.record(True, context)
    assert hung.calls == 1  # one stop in flight at a time
    hung.release.set()
    stop.worker.join(5)
    assert stop.done and stop.deployment is None


def test_a_failed_stop_is_tried_again_later_with_a_growing_jittered_delay() -> None:
    now = [100.0]
    attempts: list[float] = []

    def factory() -> Any:
        class Client:
            def list_deployment_groups(self, **params: Any) -> dict[str, Any]:
                attempts.append(now[0])
                if len(attempts) < 3:
                    raise ConnectionError("no route to CodeDeploy")
                return {"deploymentGroups": []}

        return Client()

    b = tripping_breaker(factory, clock=lambda: now[0], jitter=lambda: 0.5)
    context = FakeContext(function_name=FN, function_version="2")
    while "2" not in b.stops:
        b.record(True, context)
    assert attempts == [100.0] and b.stops["2"].due_at == 105.0  # 5 s x (0.5 + 0.5)
    now[0] = 104.0
    b.record(False, context)
    assert attempts == [100.0]  # not due yet
    now[0] = 105.0
    b.record(False, context)
    assert attempts == [100.0, 105.0] and b.stops["2"].due_at == 115.0  # then 10 s
    now[0] = 115.0
    b.record(False, context)
    assert b.stops["2"].done and attempts == [100.0, 105.0, 115.0]
    now[0] = 1000.0
    b.record(True, context)
    assert len(attempts) == 3  # stopped once: never again


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ({"statusCode": "abc"}, False),
        ({"statusCode": None}, False),
        ({"statusCode": True}, False),
        ({"statusCode": [500]}, False),
        ({"statusCode": "503"}, True),
        ({"statusCode": 500.0}, True),
        ([1, 2], False),
        ("plain text", False),
        (None, False),
    ],
)
def test_any_response_shape_is_data(monkeypatch: pytest.MonkeyPatch, response: Any, error: bool) -> None:
    assert breaker.failed(response) is error
    wrapped = breaker.in_band_breaker(lambda event, context: response)
    context = FakeContext(function_name=FN, function_version="2")
    assert wrapped({}, context) == response  # breaker off (no BREAKER_APPLICATION): untouched
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    breaker.reset()
    assert wrapped({}, context) == response  # and on


def test_a_breaker_bug_never_becomes_the_callers_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(breaker.Breaker, "record", broken)
    wrapped = breaker.in_band_breaker(lambda event, context: {"statusCode": 200})
    assert wrapped({}, FakeContext(function_name=FN, function_version="2")) == {"statusCode": 200}
