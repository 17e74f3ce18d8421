"""Exact and rank tests in pure Python (no scipy: this runs inside a Lambda package).

Pinned against scipy.stats.fisher_exact / mannwhitneyu / binomtest in the unit tests. The count tests
are exact while their tails are short (standard deviation up to EXACT_MAX_SD) and normal
approximations beyond, so a judge of 10^12 invocations takes as long as one of 10^3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _sum_exp(logs: list[float]) -> float:
    if not logs:
        return 0.0
    top = max(logs)
    return math.exp(top) * math.fsum(math.exp(x - top) for x in logs)


# Above this standard deviation a tail has tens of thousands of non-negligible terms, and the normal
# approximation (with continuity correction) is within ~1/SD of the exact value: the work stays
# bounded at any count, and small counts — where approximations fail — stay exact.
EXACT_MAX_SD = 500.0
NEGLIGIBLE = 1e-18  # a term this much smaller than the sum so far no longer changes it


def _upper_tail(log_term: Callable[[int], float], start: int, end: int, mode: float) -> float:
    """sum(exp(log_term(x)) for x in start..end), stopping once past the mode the terms are negligible
    (they only shrink from there)."""
    logs: list[float] = []
    best = -math.inf
    for x in range(start, end + 1):
        value = log_term(x)
        logs.append(value)
        best = max(best, value)
        if x > mode and value < best + math.log(NEGLIGIBLE):
            break
    return _sum_exp(logs)


def _normal_upper(k: int, mean: float, sd: float) -> float:
    """P(X >= k) by the normal approximation with continuity correction."""
    z = (k - 0.5 - mean) / sd
    return 0.5 * math.erfc(z / math.sqrt(2))


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
    mean = row1 * col1 / total
    var = mean * (total - row1) * (total - col1) / (total * (total - 1)) if total > 1 else 0.0
    if math.sqrt(var) > EXACT_MAX_SD:
        return min(1.0, _normal_upper(a, mean, math.sqrt(var)))
    denom = _log_comb(total, row1)

    def term(x: int) -> float:
        return _log_comb(col1, x) + _log_comb(total - col1, row1 - x) - denom

    return min(1.0, _upper_tail(term, a, hi, mean))


def binom_greater(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the canary's errors exceed an SLO rate p."""
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    sd = math.sqrt(n * p * (1 - p))
    if sd > EXACT_MAX_SD:
        return min(1.0, _normal_upper(k, n * p, sd))
    log_p, log_q = math.log(p), math.log1p(-p)

    def term(x: int) -> float:
        return _log_comb(n, x) + x * log_p + (n - x) * log_q

    return min(1.0, _upper_tail(term, k, n, n * p))


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
