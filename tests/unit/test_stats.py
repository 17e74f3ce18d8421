"""The pure-Python tests pinned against scipy (a test-only dependency, never in a Lambda package)."""

from __future__ import annotations

import random

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
