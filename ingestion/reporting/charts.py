"""The report's chart types as inline SVG: stacked bars, lines and ranked horizontal bars.

Each function takes a ``Dataset`` and returns one ``<svg>`` element (or, for an empty
dataset, a sentence saying there is nothing to draw yet). Bars carry ``data-series``,
``data-key`` and ``data-value`` attributes and a tooltip; the exact figures are also in the
table the page puts under each chart.
"""

from __future__ import annotations

import math

from ingestion.reporting.datasets import Dataset, data_value, display_value
from ingestion.reporting.svg import (
    AXIS_COLOUR,
    HEIGHT,
    WIDTH,
    attrs,
    colour,
    esc,
    fmt,
    legend,
    multiline_text,
    nice_ticks,
    svg_open,
    text,
    value_axis,
)

LEFT, RIGHT, TOP, BOTTOM = 72, 16, 40, 52
MAX_AXIS_LABELS = 13
MAX_BAR_WIDTH = 64
KEY_LINE_SEPARATOR = " · "
"""Axis labels break onto a second line here (a run's time, then its id)."""


def no_data(message: str) -> str:
    """What a chart section shows when its mart or audit table has no rows yet."""
    return f'<p class="no-data">{esc(message)}</p>'


def _label_step(count: int) -> int:
    return max(1, math.ceil(count / MAX_AXIS_LABELS))


def stacked_bar_chart(
    chart_id: str,
    title: str,
    description: str,
    dataset: Dataset,
    empty: str,
    all_zero: str | None = None,
    height: int = HEIGHT,
) -> str:
    """One bar per key, its series stacked bottom-up in order, with the total on hover.

    ``all_zero`` is written across the plot when every value is 0 (no bar to see).
    """
    if dataset.is_empty:
        return no_data(empty)
    kind = dataset.series[0].kind
    totals = [sum(float(s.values[i]) for s in dataset.series) for i in range(len(dataset.keys))]
    ticks = nice_ticks(max(totals))
    bottom, top = height - BOTTOM, TOP
    scale = (bottom - top) / ticks[-1]

    def y_of(value: float) -> float:
        return bottom - value * scale

    band = (WIDTH - LEFT - RIGHT) / len(dataset.keys)
    bar = min(band * 0.7, MAX_BAR_WIDTH)
    parts = [svg_open(chart_id, title, description, height=height)]
    if all_zero and not any(totals):
        parts.append(text(WIDTH / 2, (top + bottom) / 2, all_zero, anchor="middle", size=15))
    parts.append(value_axis(ticks, LEFT, WIDTH - RIGHT, y_of, kind))
    if len(dataset.series) > 1:
        parts.append(legend([s.name for s in dataset.series], LEFT, 18))
    step = _label_step(len(dataset.keys))
    for index, key in enumerate(dataset.keys):
        x = LEFT + index * band + (band - bar) / 2
        base = 0.0
        marks = []
        for series_index, series in enumerate(dataset.series):
            value = series.values[index]
            bar_height = float(value) * scale
            tooltip = f"{key}, {series.name}: {display_value(value, series.kind)}"
            marks.append(
                f'<rect x="{fmt(x)}" y="{fmt(y_of(base) - bar_height)}" width="{fmt(bar)}"'
                f' height="{fmt(bar_height)}" fill="{colour(series_index)}"'
                f"{attrs(data_series=series.name, data_key=key)}"
                f"{attrs(data_value=data_value(value, series.kind))}>"
                f"<title>{esc(tooltip)}</title></rect>"
            )
            base += float(value)
        parts.append(f'<g class="bar">{"".join(marks)}</g>')
        if index % step == 0:
            parts.append(multiline_text(x + bar / 2, bottom + 16, key.split(KEY_LINE_SEPARATOR)))
    parts.append(_baseline(bottom))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(chart_id: str, title: str, description: str, dataset: Dataset, empty: str) -> str:
    """One line per series over the keys (days), for many points."""
    if dataset.is_empty:
        return no_data(empty)
    kind = dataset.series[0].kind
    ticks = nice_ticks(max(float(v) for s in dataset.series for v in s.values))
    bottom, top = HEIGHT - BOTTOM, TOP
    scale = (bottom - top) / ticks[-1]
    count = len(dataset.keys)
    span = WIDTH - LEFT - RIGHT

    def x_of(index: int) -> float:
        return LEFT + (span / 2 if count == 1 else index * span / (count - 1))

    def y_of(value: float) -> float:
        return bottom - value * scale

    parts = [svg_open(chart_id, title, description)]
    parts.append(value_axis(ticks, LEFT, WIDTH - RIGHT, y_of, kind))
    parts.append(legend([s.name for s in dataset.series], LEFT, 18))
    for series_index, series in enumerate(dataset.series):
        points = " ".join(
            f"{fmt(x_of(i))},{fmt(y_of(float(v)))}" for i, v in enumerate(series.values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour(series_index)}"'
            f' stroke-width="1.6" stroke-linejoin="round"{attrs(data_series=series.name)}/>'
        )
    step = _label_step(count)
    for index in range(0, count, step):
        parts.append(text(x_of(index), bottom + 18, dataset.keys[index], anchor="middle", size=11))
    parts.append(_baseline(bottom))
    parts.append("</svg>")
    return "".join(parts)


def ranked_bar_chart(
    chart_id: str, title: str, description: str, dataset: Dataset, empty: str
) -> str:
    """Horizontal bars of the first series, one per key from the top, with value labels."""
    if dataset.is_empty:
        return no_data(empty)
    series = dataset.series[0]
    row, label_width, value_width = 30, 190, 110
    height = TOP + row * len(dataset.keys) + 12
    longest = max(float(v) for v in series.values) or 1.0
    scale = (WIDTH - label_width - value_width - RIGHT) / longest
    parts = [svg_open(chart_id, title, description, height=height)]
    for index, key in enumerate(dataset.keys):
        value = series.values[index]
        y = TOP + index * row
        length = float(value) * scale
        parts.append(text(label_width - 10, y + 19, key, anchor="end", size=13, fill="#1f2933"))
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{fmt(length)}" height="{row - 8}"'
            f' rx="2" fill="{colour(0)}"'
            f"{attrs(data_series=series.name, data_key=key)}"
            f"{attrs(data_value=data_value(value, series.kind))}>"
            f"<title>{esc(f'{key}: {display_value(value, series.kind)}')}</title></rect>"
        )
        parts.append(
            text(label_width + length + 8, y + 19, display_value(value, series.kind), size=12)
        )
    parts.append(text(label_width, 20, series.name, size=12, fill="#1f2933"))
    parts.append("</svg>")
    return "".join(parts)


def _baseline(y: float) -> str:
    return (
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{fmt(y)}" y2="{fmt(y)}"'
        f' stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
