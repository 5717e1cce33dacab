"""The variant page's balance chart: its time ranges, the steps it draws in one, and what it says in
words (for screen readers and browsers without JavaScript). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DAY_MS = 86_400_000
ChartRange = Literal["7d", "30d", "all"]
CHART_RANGES: dict[ChartRange, int | None] = {"7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "all": None}
RANGE_LABELS: dict[ChartRange, str] = {"7d": "7 days", "30d": "30 days", "all": "All"}
DEFAULT_RANGE: ChartRange = "30d"


def chart_range(raw: str) -> ChartRange:
    """The range a query parameter asks for; anything else is the default."""
    return next((r for r in CHART_RANGES if r == raw), DEFAULT_RANGE)


@dataclass(frozen=True)
class BalancePoint:
    at_ms: int
    units: int


PointKind = Literal["start", "movement", "now"]


@dataclass(frozen=True)
class ChartPoint:
    at_ms: int
    units: int
    kind: PointKind  # the range's first value, the balance after a movement, or the balance now


@dataclass(frozen=True)
class ChartSeries:
    points: list[ChartPoint]  # oldest first; empty when the store never had a movement of it
    start_ms: int  # the time axis runs from here…
    end_ms: int  # …to here (now)
    movements: int  # movements inside the range
    complete: bool  # False: older movements were not read, the line starts at the oldest one read

    @property
    def lowest(self) -> ChartPoint | None:
        return min(self.points, key=lambda p: (p.units, p.at_ms), default=None)

    @property
    def highest(self) -> ChartPoint | None:
        return max(self.points, key=lambda p: (p.units, -p.at_ms), default=None)


def chart_series(
    history: list[BalancePoint], *, range_ms: int | None, now_ms: int, complete: bool
) -> ChartSeries:
    """The steps to draw over a range ending now, from `history`: the balance just before the oldest
    movement read (at that movement's time), then the balance after each movement, oldest first.

    The line starts at the range's start with the balance then (carried over from the last movement
    before it), steps at each movement inside the range, and runs on to now. "All" starts at the
    first movement. When `complete` is False the movements before the oldest one read are unknown:
    if the range reaches further back, the line starts at that movement instead."""
    if not history:
        return ChartSeries([], now_ms - (range_ms or 0), now_ms, 0, complete)
    history = _in_time_order(history)
    before_oldest, after_each = history[0], history[1:]
    since = before_oldest.at_ms if range_ms is None else now_ms - range_ms
    earlier = [p for p in after_each if p.at_ms < since]
    inside = [p for p in after_each if p.at_ms >= since]
    if earlier:
        start = ChartPoint(since, earlier[-1].units, "start")
    elif complete or range_ms is None:
        start = ChartPoint(since, before_oldest.units, "start")
    else:
        start = ChartPoint(before_oldest.at_ms, before_oldest.units, "start")
    current = history[-1].units
    points = [start, *(ChartPoint(p.at_ms, p.units, "movement") for p in inside)]
    points.append(ChartPoint(max(now_ms, points[-1].at_ms), current, "now"))
    return ChartSeries(points, since, max(now_ms, points[-1].at_ms), len(inside), complete)


def _in_time_order(history: list[BalancePoint]) -> list[BalancePoint]:
    """The ledger's order with times that never go back: movements are numbered in commit order, but
    each server process stamps them with its own clock, and a time axis must not run backwards."""
    ordered: list[BalancePoint] = []
    for point in history:
        at_ms = max(point.at_ms, ordered[-1].at_ms) if ordered else point.at_ms
        ordered.append(BalancePoint(at_ms, point.units))
    return ordered
