"""The pure-Python tests pinned against scipy (a test-only dependency, never in a Lambda package)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from safedeploy_core.stats import binom_greater, fisher_greater, mann_whitney_greater
from scipy import stats as sp


@pytest.mark.parametrize(
    "table",
    [
        (3, 997, 27, 26973),
        (30, 970, 270, 26730),
        (0, 100, 0, 900),
        (5, 5, 0, 10),
        (1, 0, 0, 1),
        (12, 2988, 30, 26970),
        (90, 2910, 270, 26730),
        (0, 3000, 5, 26995),
    ],
)
def test_fisher_matches_scipy(table: tuple[int, int, int, int]) -> None:
    a, b, c, d = table
    expected = sp.fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
    assert fisher_greater(a, b, c, d) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_fisher_matches_scipy_on_random_tables() -> None:
    rng = random.Random(1)
    for _ in range(200):
        a, b, c, d = (rng.randint(0, 60) for _ in range(4))
        expected = sp.fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
        assert fisher_greater(a, b, c, d) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("k", "n", "p"), [(0, 10, 0.01), (3, 100, 0.01), (15, 1000, 0.01), (40, 3000, 0.01)])
def test_binomial_tail_matches_scipy(k: int, n: int, p: float) -> None:
    expected = sp.binomtest(k, n, p, alternative="greater").pvalue if k > 0 else 1.0
    assert binom_greater(k, n, p) == pytest.approx(expected, rel=1e-9)


def test_mann_whitney_exact_matches_scipy() -> None:
    rng = random.Random(2)
    for n1, n2 in [(3, 3), (5, 5), (5, 7), (8, 8), (10, 4), (15, 15)]:
        x = [rng.random() for _ in range(n1)]
        y = [rng.random() + 0.2 for _ in range(n2)]
        u, p, method = mann_whitney_greater(x, y)
        ref = sp.mannwhitneyu(x, y, alternative="greater", method="exact")
        assert method == "exact"
        assert u == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_asymptotic_with_ties_matches_scipy() -> None:
    rng = random.Random(3)
    for n1, n2 in [(5, 5), (12, 30), (30, 30), (25, 8)]:
        x = [float(rng.randint(1, 6)) for _ in range(n1)]
        y = [float(rng.randint(0, 5)) for _ in range(n2)]
        u, p, method = mann_whitney_greater(x, y)
        ref = sp.mannwhitneyu(x, y, alternative="greater", method="asymptotic", use_continuity=True)
        assert method == "asymptotic"
        assert u == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, rel=1e-9)


def test_mann_whitney_rejects_empty_samples() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney_greater([], [1.0])


@pytest.mark.parametrize(
    "table",
    [
        (5_200, 494_800, 50_000, 4_950_000),  # 1.04 % vs 1 %: SD > 500, normal approximation
        (10_400, 989_600, 100_000, 9_900_000),
        (12, 2988, 30, 26970),  # small: still exact
    ],
)
def test_fisher_stays_close_to_scipy_at_large_counts(table: tuple[int, int, int, int]) -> None:
    a, b, c, d = table
    expected = sp.fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
    assert fisher_greater(a, b, c, d) == pytest.approx(expected, rel=5e-3, abs=1e-6)


@pytest.mark.parametrize(("k", "n", "p"), [(10_300, 1_000_000, 0.01), (101_000, 10_000_000, 0.01)])
def test_binomial_tail_stays_close_to_scipy_at_large_counts(k: int, n: int, p: float) -> None:
    expected = sp.binomtest(k, n, p, alternative="greater").pvalue
    assert binom_greater(k, n, p) == pytest.approx(expected, rel=5e-3, abs=1e-6)


def test_a_trillion_invocations_are_judged(tmp_path: Any) -> None:
    # The exact sums were linear in the counts (10^7 took 15 s; 10^12 never ended): now bounded.
    import json
    import subprocess
    import sys

    document = {
        "baseline": {"invocations": 10**12, "errors": 10**10},
        "canary": {"invocations": 10**11, "errors": 2 * 10**9},
    }
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(document))
    proc = subprocess.run(
        [sys.executable, "-m", "safedeploy", "judge", "--input", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # 1 % -> 2 %: FAIL
    assert json.loads(proc.stdout)["verdict"] == "FAIL"
