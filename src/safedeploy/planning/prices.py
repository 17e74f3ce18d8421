"""AWS list prices (USD) that the kit's machinery is billed at, and the assumptions `plan` prices
with, as data: each with its unit and source. One home for every figure; `--prices FILE` overrides.

Sources, read 2026-12-04 (public list prices; the free tiers are left out except the dashboards',
which is per account and decides whether a dashboard costs anything at all):
- Amazon CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/ (Alarms: per alarm metric,
  standard resolution 60 s and high resolution 10 s, a metric-math alarm billed per metric it reads;
  composite alarms; Dashboards: per dashboard per month, 3 free per account; Metrics: custom metrics per
  metric-month, GetMetricData per 1,000 metrics requested; Logs: ingestion per GB).
- AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/ (requests per million; duration per
  GB-second, x86 and Arm, first tier).
Prices differ by region; only US East (N. Virginia) is kept here. Another region is priced at these
figures and `plan` says so: give that region's prices with `--prices`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from safedeploy.errors import UserError
from safedeploy.inputs import read_text

CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
READ = "2026-12-04"
HOURS_PER_MONTH = 730  # AWS's pricing pages count a month as 730 hours
GIB = 1024**3


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str


PRICED_REGION = "us-east-1"
LIST_PRICES: dict[str, dict[str, Price]] = {
    PRICED_REGION: {
        "alarm_metric_standard": Price(0.10, "per alarm metric-month, 60-s period", CLOUDWATCH_PRICING),
        "alarm_metric_high_resolution": Price(
            0.30, "per alarm metric-month, period under 60 s", CLOUDWATCH_PRICING
        ),
        "composite_alarm": Price(0.50, "per composite alarm-month", CLOUDWATCH_PRICING),
        "dashboard": Price(3.00, "per dashboard-month beyond the free ones", CLOUDWATCH_PRICING),
        "custom_metric": Price(0.30, "per custom metric-month (first 10,000)", CLOUDWATCH_PRICING),
        "get_metric_data_per_1000": Price(0.01, "per 1,000 metrics requested", CLOUDWATCH_PRICING),
        "logs_ingestion_per_gb": Price(0.50, "per GB ingested (standard log class)", CLOUDWATCH_PRICING),
        "lambda_requests_per_million": Price(0.20, "per million requests", LAMBDA_PRICING),
        "lambda_gb_second_x86_64": Price(0.0000166667, "per GB-second, x86", LAMBDA_PRICING),
        "lambda_gb_second_arm64": Price(0.0000133334, "per GB-second, Arm", LAMBDA_PRICING),
    }
}


@dataclass(frozen=True)
class Assumption:
    value: float
    why: str


ASSUMPTIONS: dict[str, Assumption] = {
    "free_dashboards": Assumption(
        3, "dashboards free per account (CloudWatch free tier); 0 if the account already has three"
    ),
    "idle_run_s": Assumption(
        0.1, "billed time of a scheduled run that finds nothing to do, its AWS calls aside"
    ),
    "list_call_s": Assumption(
        0.05,
        "one CodeDeploy list call; a step-judge run with no deployment makes one per deployment group "
        "and one to list the groups",
    ),
    "idle_log_bytes": Assumption(350, "log bytes of such a run (Lambda's START/END/REPORT lines)"),
    "emf_metrics": Assumption(
        3,
        "custom metrics a function's EMF line publishes per version (the sample's Requests, Errors, Latency)",
    ),
    "emf_bytes_per_request": Assumption(
        440, "bytes of the sample's EMF line per call (431 measured with Powertools, and a newline)"
    ),
    "breaker_us_per_call": Assumption(3.15, "the in-band breaker's time per call (make bench-breaker)"),
    "post_judge_reads": Assumption(
        7, "GetMetricData reads of the post-traffic judge (once, then every 20 s for JUDGE_WAIT_S=120)"
    ),
}


@dataclass(frozen=True)
class PriceBook:
    region: str
    priced_as: str  # the region whose list prices are used
    prices: dict[str, Price]
    assumptions: dict[str, Assumption]
    overridden: tuple[str, ...] = ()

    def usd(self, key: str) -> float:
        return self.prices[key].usd

    def assume(self, key: str) -> float:
        return self.assumptions[key].value

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "priced_as": self.priced_as,
            "read": READ,
            "prices": {k: {"usd": p.usd, "unit": p.unit, "source": p.source} for k, p in self.prices.items()},
            "assumptions": {k: {"value": a.value, "why": a.why} for k, a in self.assumptions.items()},
            "overridden": list(self.overridden),
        }


def price_book(region: str | None, overrides: Path | None = None) -> PriceBook:
    """The list prices for `region` (US East's where no list is kept), with a TOML file's `[prices]`
    and `[assumptions]` tables over them: `alarm_metric_standard = 0.1`, `free_dashboards = 0`."""
    region = region or PRICED_REGION
    priced_as = region if region in LIST_PRICES else PRICED_REGION
    book = PriceBook(region, priced_as, dict(LIST_PRICES[priced_as]), dict(ASSUMPTIONS))
    return _override(book, overrides) if overrides is not None else book


def _override(book: PriceBook, path: Path) -> PriceBook:
    try:
        data = tomllib.loads(read_text(path, 64 * 1024, "--prices file"))  # a regular file: a few lines
    except OSError as exc:
        raise UserError(f"--prices: cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"--prices: {path} is not TOML: {exc}") from exc
    unknown_tables = sorted(set(data) - {"prices", "assumptions"})
    if unknown_tables:
        raise UserError(
            f"--prices: {path}: unknown table(s) {', '.join(unknown_tables)} (have: prices, assumptions)"
        )
    prices = {k: replace(v, usd=n) for k, v, n in _numbers(data, "prices", book.prices, path)}
    assumptions = {
        k: replace(v, value=n) for k, v, n in _numbers(data, "assumptions", book.assumptions, path)
    }
    changed = tuple([f"prices.{k}" for k in prices] + [f"assumptions.{k}" for k in assumptions])
    return replace(
        book,
        prices={**book.prices, **prices},
        assumptions={**book.assumptions, **assumptions},
        overridden=changed,
    )


def _numbers(
    data: dict[str, Any], table: str, known: dict[str, Any], path: Path
) -> list[tuple[str, Any, float]]:
    values = data.get(table, {})
    if not isinstance(values, dict):
        raise UserError(f"--prices: {path}: [{table}] must be a table")
    out = []
    for key, value in values.items():
        if key not in known:
            raise UserError(f"--prices: {path}: unknown {table} key {key!r} (have: {', '.join(known)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise UserError(f"--prices: {path}: {table}.{key} must be a number >= 0, got {value!r}")
        out.append((key, known[key], float(value)))
    return out
