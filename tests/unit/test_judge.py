"""The judge's decisions and its input validation."""

from __future__ import annotations

import pytest
from safedeploy_core.judge import JudgeInputError, Policy, VersionSample, judge, parse_judge_input

BASE = VersionSample(27000, 270, (200, 210, 205, 198, 202), (50, 52, 51, 49, 50))


def test_regression_from_1_to_3_percent_fails() -> None:
    verdict = judge(BASE, VersionSample(1000, 30, (201, 209, 204, 199, 203), (50,) * 5))
    assert verdict.verdict == "FAIL"
    err = verdict.metrics[0]
    assert (
        err.name == "error_rate" and err.result == "FAIL" and err.p_value is not None and err.p_value < 0.01
    )


def test_same_error_rate_passes() -> None:
    verdict = judge(BASE, VersionSample(3000, 30, (201, 209, 204, 199, 203), (50,) * 5))
    assert verdict.verdict == "PASS"


def test_significant_but_tiny_error_increase_passes() -> None:
    policy = Policy(error_min_increase_pp=2.0)
    verdict = judge(BASE, VersionSample(3000, 75, (200,) * 5, (50,) * 5), policy)  # 1 % -> 2.5 %
    assert verdict.verdict == "PASS" and "minimum effect" in verdict.metrics[0].reason


def test_slower_p99_fails_and_small_slowdown_does_not() -> None:
    slow = judge(BASE, VersionSample(3000, 30, (280, 275, 290, 285, 279), (50,) * 5))
    assert slow.verdict == "FAIL" and slow.metrics[1].result == "FAIL"
    slight = judge(BASE, VersionSample(3000, 30, (215, 220, 218, 216, 221), (50,) * 5))
    assert slight.verdict == "PASS" and "minimum effect" in slight.metrics[1].reason


def test_p50_is_not_critical_by_default() -> None:
    verdict = judge(BASE, VersionSample(3000, 30, (200,) * 5, (90, 95, 92, 91, 93)))
    assert verdict.verdict == "PASS" and verdict.metrics[2].result == "FAIL"
    assert "non-critical" in verdict.reason
    assert (
        judge(
            BASE,
            VersionSample(3000, 30, (200,) * 5, (90, 95, 92, 91, 93)),
            Policy(critical=("error_rate", "latency_p50")),
        ).verdict
        == "FAIL"
    )


def test_too_few_canary_invocations_is_nodata() -> None:
    assert judge(BASE, VersionSample(20, 10)).verdict == "NODATA"


def test_too_few_latency_points_is_inconclusive() -> None:
    verdict = judge(BASE, VersionSample(3000, 30, (200, 210), (50, 51)))
    assert verdict.verdict == "INCONCLUSIVE" and verdict.metrics[1].result == "INCONCLUSIVE"


def test_no_baseline_falls_back_to_the_static_slo() -> None:
    none = VersionSample(0, 0)
    assert judge(none, VersionSample(3000, 3)).verdict == "PASS"
    bad = judge(none, VersionSample(3000, 90))
    assert bad.verdict == "FAIL" and "SLO" in bad.metrics[0].reason
    slo = Policy(slo_p99_ms=250)
    assert judge(none, VersionSample(3000, 3, (300, 310, 305)), slo).verdict == "FAIL"


def test_markdown_lists_every_metric() -> None:
    text = judge(BASE, VersionSample(1000, 30, (200,) * 5, (50,) * 5)).markdown()
    assert text.startswith("**Canary verdict: FAIL**")
    assert "| error_rate | 1.00 | 3.00 | 2.00 |" in text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"canary": {}}, "lacks 'baseline'"),
        (
            {"baseline": {"invocations": 1}, "canary": {"invocations": 1, "errors": 0}},
            "baseline.errors is missing",
        ),
        (
            {"baseline": {"invocations": -1, "errors": 0}, "canary": {"invocations": 1, "errors": 0}},
            "baseline.invocations must not be negative",
        ),
        (
            {"baseline": {"invocations": 5, "errors": 6}, "canary": {"invocations": 1, "errors": 0}},
            "baseline.errors (6) exceeds baseline.invocations (5)",
        ),
        (
            {"baseline": {"invocations": 5, "errors": 0}, "canary": {"invocations": 1.5, "errors": 0}},
            "canary.invocations must be an integer",
        ),
        (
            {
                "baseline": {"invocations": 5, "errors": 0, "duration_p99_ms": ["x"]},
                "canary": {"invocations": 1, "errors": 0},
            },
            "duration_p99_ms must be a list",
        ),
        (
            {
                "baseline": {"invocations": 5, "errors": 0},
                "canary": {"invocations": 1, "errors": 0},
                "policy": {"confidance": 0.9},
            },
            "unknown key(s): confidance",
        ),
        (
            {
                "baseline": {"invocations": 5, "errors": 0},
                "canary": {"invocations": 1, "errors": 0},
                "policy": {"confidence": 1.5},
            },
            "confidence must be within",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(document: object, message: str) -> None:
    with pytest.raises(JudgeInputError) as info:
        parse_judge_input(document)
    assert message in str(info.value)
