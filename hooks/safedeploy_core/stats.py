"""Exact and rank tests in pure Python (no scipy: this runs inside a Lambda package).

Pinned against scipy.stats.fisher_exact / mannwhitneyu / binomtest in the unit tests.
"""

from __future__ import annotations

import math
from functools import lru_cache


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _sum_exp(logs: list[float]) -> float:
    if not logs:
        return 0.0
    top = max(logs)
    return math.exp(top) * math.fsum(math.exp(x - top) for x in logs)


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact test on [[a, b], [c, d]]: P(X >= a), odds ratio > 1.

    Rows are (canary, baseline), columns (errors, successes): small p = the canary fails more often.
    Same as scipy.stats.fisher_exact([[a, b], [c, d]], alternative="greater").
    """
    if min(a, b, c, d) < 0:
        raise ValueError("counts must be non-negative")
    row1, col1, total = a + b, a + c, a + b + c + d
    if total == 0 or row1 == 0 or col1 == 0:
        return 1.0
    hi = min(row1, col1)
    denom = _log_comb(total, row1)
    logs = [_log_comb(col1, x) + _log_comb(total - col1, row1 - x) - denom for x in range(a, hi + 1)]
    return min(1.0, _sum_exp(logs))


def binom_greater(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the canary's errors exceed an SLO rate p."""
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    logs = [_log_comb(n, x) + x * math.log(p) + (n - x) * math.log1p(-p) for x in range(k, n + 1)]
    return min(1.0, _sum_exp(logs))


def _ranks(values: list[float]) -> tuple[list[float], list[int]]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@lru_cache(maxsize=256)
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of arrangements giving each U (0..n1*n2) under H0, by the classic recurrence."""
    # f(i, j) counts over U; f(i, j)[u] = f(i-1, j)[u - j] + f(i, j-1)[u]
    table: list[list[list[int]]] = [[[1] for _ in range(n2 + 1)] for _ in range(n1 + 1)]
    for i in range(1, n1 + 1):
        for j in range(1, n2 + 1):
            size = i * j + 1
            cur = [0] * size
            left = table[i - 1][j]
            for u, count in enumerate(left):
                cur[u + j] += count
            for u, count in enumerate(table[i][j - 1]):
                cur[u] += count
            table[i][j] = cur
    return tuple(table[n1][n2])


def mann_whitney_greater(x: list[float], y: list[float]) -> tuple[float, float, str]:
    """One-sided Mann-Whitney U test that x tends to be larger than y: (U of x, p-value, method).

    Exact distribution when there are no ties and both samples are small (as scipy's 'auto' does
    below 8 per side, extended here to 20), else the normal approximation with tie and continuity
    correction (scipy's 'asymptotic').
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    ranks, ties = _ranks(list(x) + list(y))
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    if not ties and n1 <= 20 and n2 <= 20:
        counts = _u_counts(n1, n2)
        total = math.comb(n1 + n2, n1)
        start = math.ceil(u1 - 1e-9)
        return u1, sum(counts[start:]) / total, "exact"
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return u1, 1.0, "asymptotic"
    z = (u1 - n1 * n2 / 2 - 0.5) / sigma
    return u1, 0.5 * math.erfc(z / math.sqrt(2)), "asymptotic"
