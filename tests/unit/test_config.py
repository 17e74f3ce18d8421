"""Hook configuration: every value validated when it is read, and the hooks import whatever it holds."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from safedeploy_core.config import HookConfig
from safedeploy_core.errors import ConfigError
from safedeploy_core.judge import JudgeInputError, Policy

from tests.helpers import ROOT, CodeDeployStub, FakeContext, load_event

BASE = {"ALLOWED_FUNCTIONS": "fn"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEADLINE_MARGIN_S": "-1000"}, "DEADLINE_MARGIN_S must be a number within (0, 900]"),
        ({"DEADLINE_MARGIN_S": "nan"}, "DEADLINE_MARGIN_S must be a number"),
        ({"DEADLINE_MARGIN_S": "1e9"}, "DEADLINE_MARGIN_S must be a number"),
        ({"JUDGE_WAIT_S": "-1"}, "JUDGE_WAIT_S must be an integer within [0, 900]"),
        ({"JUDGE_WAIT_S": "2 min"}, "JUDGE_WAIT_S must be an integer"),
        ({"SMOKE_CONCURRENCY": "0"}, "SMOKE_CONCURRENCY must be an integer within [1, 100]"),
        ({"SMOKE_CONCURRENCY": "many"}, "SMOKE_CONCURRENCY must be an integer"),
        ({"STEP_LOOK_S": "0"}, "STEP_LOOK_S must be an integer within [1, 30]"),
        ({"STEP_LOOK_S": "60"}, "STEP_LOOK_S must be an integer within [1, 30]"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of DEBUG, INFO"),
        (
            {"POWERTOOLS_LOGGER_SAMPLE_RATE": "abc"},
            "POWERTOOLS_LOGGER_SAMPLE_RATE must be a number within [0, 1]",
        ),
        ({"JUDGE_POLICY": "[" * 3000 + "]" * 3000}, "JUDGE_POLICY is longer than 4096 characters"),
        (
            {"JUDGE_POLICY": "[" * 2000 + "]" * 2000},
            "JUDGE_POLICY is not a valid judge policy",
        ),  # RecursionError
        ({"JUDGE_POLICY": '{"slo_p99_ms": 0}'}, "policy.slo_p99_ms must be a number within (0"),
        (
            {"JUDGE_POLICY": '{"error_min_increase_pp": "half"}'},
            "policy.error_min_increase_pp must be a number",
        ),
        (
            {"JUDGE_POLICY": '{"min_canary_invocations": 1.5}'},
            "policy.min_canary_invocations must be an integer",
        ),
        ({"JUDGE_POLICY": '{"confidence": true}'}, "policy.confidence must be a number"),
        ({"JUDGE_POLICY": '{"critical": [["error_rate"]]}'}, "policy.critical must be a list"),
    ],
)
def test_a_bad_value_is_a_configuration_error_naming_it(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        HookConfig.from_env({**BASE, **env})
    assert message in str(info.value)


def test_sound_values_are_accepted() -> None:
    config = HookConfig.from_env(
        {
            **BASE,
            "DEADLINE_MARGIN_S": "30",
            "SMOKE_CONCURRENCY": "4",
            "STEP_LOOK_S": "10",
            "LOG_LEVEL": "debug",
            "POWERTOOLS_LOGGER_SAMPLE_RATE": "0.1",
            "JUDGE_POLICY": '{"slo_p99_ms": 800, "error_min_increase_pp": 1}',
        }
    )
    assert (config.deadline_margin_s, config.max_workers, config.judge_policy.slo_p99_ms) == (30.0, 4, 800)
    assert config.step_look_s == 10


def test_a_judge_policy_with_a_string_for_a_number_is_refused_by_the_judge_too() -> None:
    with pytest.raises(JudgeInputError, match=r"policy\.latency_min_relative must be a number"):
        Policy.from_dict({"latency_min_relative": "20%"})


@pytest.mark.parametrize(
    "env", [{"LOG_LEVEL": "LOUD"}, {"POWERTOOLS_LOGGER_SAMPLE_RATE": "abc"}, {"POWERTOOLS_LOG_LEVEL": "x"}]
)
def test_the_hooks_import_whatever_the_environment_holds(env: dict[str, str]) -> None:
    # Powertools' Logger() raises on these at import time: the module must still load and report
    code = "import pre_traffic, post_traffic, step_judge; print('imported')"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT / "hooks",
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "hooks")},
        check=False,
    )
    assert proc.returncode == 0 and "imported" in proc.stdout, proc.stderr


def test_a_bad_log_level_is_reported_as_failed_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import hook_support
    import pre_traffic

    monkeypatch.setenv("ALLOWED_FUNCTIONS", "hello-fn")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    cd = CodeDeployStub()
    cd.report("Failed")
    hook_support.use_clients({"codedeploy": cd.client})
    try:
        out: dict[str, Any] = pre_traffic.lambda_handler(load_event("pre_traffic.json"), FakeContext())
    finally:
        hook_support.use_clients(None)
    cd.done()
    assert out["status"] == "Failed" and "LOG_LEVEL must be one of" in out["reason"]
