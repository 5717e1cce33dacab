"""A server-side SVG step chart of a balance over the ledger's movements (no JavaScript, no library)."""

from __future__ import annotations

from markupsafe import Markup, escape

from stockledger.domain.quantity import format_units
from stockledger.service.backoffice import BalancePoint
from stockledger.web.render import format_ms

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36


def balance_chart(points: list[BalancePoint], title: str) -> Markup:
    """One step per movement (x = movement order, so many movements in one second stay readable)."""
    if len(points) < 2:
        return Markup('<p class="muted">No movements in this store yet.</p>')
    low = min(0, *(p.units for p in points))
    high = max(0, *(p.units for p in points))
    if high == low:
        high = low + 1000
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + plot_w * i / (len(points) - 1)

    def y(units: int) -> float:
        return TOP + plot_h * (high - units) / (high - low)

    path = [f"M{x(0):.1f},{y(points[0].units):.1f}"]
    for i in range(1, len(points)):
        path.append(f"H{x(i):.1f}V{y(points[i].units):.1f}")
    last = points[-1]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        ' aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">Balance after each of the last {len(points) - 1} movements; '
        f"now {escape(format_units(last.units))}.</desc>",
        f'<line class="axis" x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>',
    ]
    for units in sorted({low, high, 0}):
        parts.append(
            f'<text class="label" x="{LEFT - 8}" y="{y(units) + 4:.1f}" text-anchor="end">'
            f"{escape(format_units(units))}</text>"
        )
    parts.append(f'<path class="line" d="{" ".join(path)}"/>')
    parts.append(f'<circle class="dot" cx="{x(len(points) - 1):.1f}" cy="{y(last.units):.1f}" r="4"/>')
    parts.append(
        f'<text class="label" x="{LEFT}" y="{HEIGHT - 10}">{escape(format_ms(points[0].at_ms))}</text>'
        f'<text class="label" x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" text-anchor="end">'
        f"{escape(format_ms(last.at_ms))}</text>"
    )
    parts.append("</svg>")
    # Safe: every text in `parts` went through escape(); the rest are numbers we formatted.
    return Markup("".join(parts))  # noqa: S704
