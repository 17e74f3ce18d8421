"""`plan`'s cost section as text, laid out for 80 columns (the JSON is `CostReport.as_dict`)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from safedeploy.cli.inert import value as v

if TYPE_CHECKING:
    from rich.console import Console

    from safedeploy.planning.cost import CostReport, Part


def usd(value: float) -> str:
    if value == 0:
        return "$0"
    if value < 0.0001:
        return "<$0.0001"
    return f"${value:,.2f}" if value >= 0.1 else f"${value:.4f}"


def _lines(console: Console, title: str, part: Part) -> None:
    console.print(f"    {title}: [bold]{usd(part.usd)}[/]", highlight=False)
    width = max(console.width - 18, 40)
    for line in part.lines:
        wrapped = textwrap.wrap(line.what, width) or [""]
        console.print(f"      {v(wrapped[0]):<{width}} {usd(line.usd):>9}", highlight=False)
        for more in wrapped[1:]:
            console.print(f"        {v(more)}", highlight=False)


def print_cost(console: Console, cost: CostReport) -> None:
    from safedeploy.planning.prices import READ

    book = cost.book
    where = v(book.region if book.priced_as == book.region else f"{book.region}, priced as {book.priced_as}")
    console.print()
    console.print(f"  [bold]What the kit's machinery costs[/] (USD list prices, {where}, read {READ})")
    for f in cost.functions:
        console.print(f"  [bold]{v(f.function)}[/]")
        _lines(console, "standing, per month", f.standing)
        if f.with_traffic.lines:
            _lines(console, "per month once it serves traffic", f.with_traffic)
        _lines(console, "one deployment", f.per_deployment)
        _lines(console, "per million requests", f.per_million_requests)
        for note in f.notes:
            console.print(f"      [yellow]{v(note)}[/]", highlight=False)
    console.print("  [bold]the stack (shared)[/]")
    _lines(console, "standing, per month", cost.stack)
    per_function = cost.standing_per_function_usd
    summary = f"  standing: {usd(cost.standing_usd)} a month"
    if per_function is not None:
        summary += f", {usd(per_function)} per protected function ({len(cost.functions)})"
    console.print(f"[bold]{summary}[/]", highlight=False)
    for note in cost.notes:
        console.print(f"  [yellow]{v(note)}[/]", highlight=False)
    if book.overridden:
        console.print(f"  [dim]--prices: {v(', '.join(book.overridden))}[/]", highlight=False)
    console.print("  [dim]free tiers not deducted (except the dashboards'); JSON: `cost`[/]")
