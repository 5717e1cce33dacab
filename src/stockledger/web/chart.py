"""The balance chart of the variant page: the data its script draws (static/chart.js with the vendored
uPlot, on a real time axis) and the sentence that says the same for screen readers and for browsers
without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stockledger.domain.balance_chart import ChartSeries
from stockledger.domain.quantity import format_units

UNITS_PER_ITEM = 1000  # balances are thousandths


def chart_data(series: ChartSeries) -> dict[str, Any]:
    """What static/chart.js reads: times in seconds (uPlot's unit), balances as numbers to draw and
    as exact text to show, the kind of each point, and the axis's range."""
    return {
        "x": [p.at_ms / 1000 for p in series.points],
        "y": [p.units / UNITS_PER_ITEM for p in series.points],
        "labels": [format_units(p.units) for p in series.points],
        "kinds": [p.kind for p in series.points],
        "min": series.start_ms / 1000,
        "max": series.end_ms / 1000,
    }


def day(ms: int) -> str:
    """1 May 2024 (UTC): the day a point falls on, in words."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{moment.day} {moment:%b %Y}"


def chart_summary(series: ChartSeries, range_label: str) -> str:
    """The chart in one or two sentences: now, how many movements, lowest and highest."""
    now = format_units(series.points[-1].units)
    scope = "in all" if range_label == "All" else f"in the last {range_label}"
    if not series.movements:
        return f"Balance now {now}: no movements {scope}."
    lowest, highest = series.lowest, series.highest
    assert lowest is not None and highest is not None
    moves = "1 movement" if series.movements == 1 else f"{series.movements} movements"
    text = (
        f"Balance now {now}. {moves.capitalize()} {scope}; lowest {format_units(lowest.units)} "
        f"({day(lowest.at_ms)}), highest {format_units(highest.units)} ({day(highest.at_ms)})."
    )
    if not series.complete:
        text += " Older movements are not drawn."
    return text
