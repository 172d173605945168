"""Small building blocks for inline SVG charts: escaping, elements, a value axis, a legend.

Charts are drawn in a fixed coordinate system (``viewBox``) and scale with the page; every
text is escaped, so a label such as ``Toys & <Games>`` is shown as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from ingestion.reporting.datasets import ValueKind, axis_value

WIDTH = 960
HEIGHT = 340
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies."""
AXIS_COLOUR = "#5f6b7a"
GRID_COLOUR = "#e3e7ec"


def esc(text: object) -> str:
    """Text or attribute value, escaped for HTML and SVG."""
    return escape(str(text), quote=True)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def attrs(**values: object) -> str:
    """`` name="value"`` pairs; ``data_value`` becomes ``data-value``; None is left out."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for name, value in values.items()
        if value is not None
    )


def fmt(number: float) -> str:
    """A coordinate with at most two decimals."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (1, 2, 2.5 or 5 times a power of 10)."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw_step = maximum / count
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw_step)
    ticks = [0.0]
    while ticks[-1] < maximum:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def svg_open(chart_id: str, title: str, description: str, height: int = HEIGHT) -> str:
    """The ``<svg>`` element with an accessible name (``<title>``) and description."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' role="img" aria-labelledby="{esc(chart_id)}-svg-title {esc(chart_id)}-svg-desc"'
        f' class="chart" style="{FONT}">'
        f'<title id="{esc(chart_id)}-svg-title">{esc(title)}</title>'
        f'<desc id="{esc(chart_id)}-svg-desc">{esc(description)}</desc>'
    )


def text(
    x: float,
    y: float,
    content: str,
    anchor: str = "start",
    size: int = 12,
    fill: str = AXIS_COLOUR,
    **extra: object,
) -> str:
    return (
        f'<text x="{fmt(x)}" y="{fmt(y)}" text-anchor="{anchor}" font-size="{size}"'
        f' fill="{fill}"{attrs(**extra)}>{esc(content)}</text>'
    )


def multiline_text(x: float, y: float, lines: Sequence[str], size: int = 11) -> str:
    """Centred text over several lines (an axis label such as a run's time and id)."""
    spans = "".join(
        f'<tspan x="{fmt(x)}" dy="{0 if i == 0 else size + 2}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{fmt(x)}" y="{fmt(y)}" text-anchor="middle" font-size="{size}"'
        f' fill="{AXIS_COLOUR}">{spans}</text>'
    )


def value_axis(
    ticks: list[float], left: float, right: float, y_of: Callable[[float], float], kind: ValueKind
) -> str:
    """Horizontal grid lines with their labels on the left."""
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{fmt(left)}" x2="{fmt(right)}" y1="{fmt(y)}" y2="{fmt(y)}"'
            f' stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        parts.append(text(left - 8, y + 4, axis_value(tick, kind), anchor="end", size=11))
    return f'<g class="axis" aria-hidden="true">{"".join(parts)}</g>'


def legend(names: Sequence[str], x: float, y: float) -> str:
    """Coloured swatches with series names, in one row."""
    parts = []
    for index, name in enumerate(names):
        parts.append(
            f'<rect x="{fmt(x)}" y="{fmt(y - 10)}" width="12" height="12" rx="2"'
            f' fill="{colour(index)}"/>'
        )
        parts.append(text(x + 18, y, name, size=12, fill="#1f2933"))
        x += 30 + 7.5 * len(name)
    return f'<g class="legend">{"".join(parts)}</g>'
