"""The report as one self-contained HTML page: a header, one ``<section>`` per chart with its
figures and the table of the figures' values. Styles are inlined; nothing is fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ingestion.reporting.datasets import Dataset, data_value, display_value
from ingestion.reporting.svg import esc

TABLE_OPEN_MAX_ROWS = 15
"""Longer tables start folded (``<details>``) so the charts stay in view."""

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: #1f2933;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #102a43; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: #d9e2ec; }
nav { padding: 10px 40px; background: #fff; border-bottom: 1px solid #d9e2ec; }
nav a { margin-right: 18px; color: #0b5cad; text-decoration: none; }
main { max-width: 1080px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px;
  margin: 24px 0; padding: 20px 28px; }
section h2 { margin: 0 0 4px; font-size: 20px; }
section p.summary { margin: 0 0 12px; color: #52606d; }
figure { margin: 0 0 12px; }
figcaption { font-size: 13px; color: #52606d; }
svg.chart { width: 100%; height: auto; display: block; }
p.no-data { padding: 24px; background: #f0f4f8; border-radius: 6px; color: #52606d; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { padding: 3px 12px; border-bottom: 1px solid #e4e7eb; }
thead th { text-align: right; } thead th:first-child, tbody th { text-align: left; }
td { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: #0b5cad; font-size: 13px; }
p.stale { margin: 12px 0 0; padding: 8px 12px; background: #fff3c4; color: #513c06;
  border-radius: 6px; }
footer { text-align: center; color: #7b8794; font-size: 13px; padding-bottom: 32px; }
"""


@dataclass(frozen=True)
class Section:
    """One chart of the report: its anchor, title, what it shows, where the figures come from."""

    section_id: str
    title: str
    summary: str
    source: str
    figures: tuple[str, ...]
    table: Dataset


def render_table(section_id: str, dataset: Dataset, caption: str) -> str:
    """The values behind a chart: one row per key, one column per series."""
    head = "".join(f'<th scope="col">{esc(s.name)}</th>' for s in dataset.series)
    rows = []
    for index, key in enumerate(dataset.keys):
        cells = "".join(
            f'<td data-series="{esc(s.name)}" data-key="{esc(key)}"'
            f' data-value="{data_value(s.values[index], s.kind)}">'
            f"{esc(display_value(s.values[index], s.kind))}</td>"
            for s in dataset.series
        )
        rows.append(f'<tr><th scope="row">{esc(key)}</th>{cells}</tr>')
    table = (
        f'<table class="chart-data" data-chart="{esc(section_id)}">'
        f"<caption>{esc(caption)}</caption>"
        f'<thead><tr><th scope="col">{esc(dataset.key_label)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    if len(dataset.keys) > TABLE_OPEN_MAX_ROWS:
        return (
            f"<details><summary>Show the {len(dataset.keys)} rows behind the chart</summary>"
            f"{table}</details>"
        )
    return table


def render_section(section: Section) -> str:
    heading = f"{section.section_id}-title"
    figures = "".join(
        f"<figure>{figure}<figcaption>Source: {esc(section.source)}</figcaption></figure>"
        for figure in section.figures
    )
    table = (
        ""
        if section.table.is_empty
        else render_table(section.section_id, section.table, f"{section.title}: the figures")
    )
    return (
        f'<section id="{esc(section.section_id)}" aria-labelledby="{esc(heading)}">'
        f'<h2 id="{esc(heading)}">{esc(section.title)}</h2>'
        f'<p class="summary">{esc(section.summary)}</p>{figures}{table}</section>'
    )


def render_page(
    sections: list[Section],
    generated_at: datetime,
    latest_business_date: date | None,
    warehouse: str,
    stale_notice: str = "",
) -> str:
    """The whole page, self-contained: no script, no external stylesheet, font or image.
    ``stale_notice`` says which models the last run could not rebuild (shown in the header)."""
    business_date = (
        f'<time id="latest-business-date" datetime="{latest_business_date.isoformat()}">'
        f"{latest_business_date.isoformat()}</time>"
        if latest_business_date
        else '<span id="latest-business-date">none yet</span>'
    )
    stamp = generated_at.strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{esc(s.section_id)}">{esc(s.title)}</a>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>ShopFlow Analytics report</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>ShopFlow Analytics report</h1>"
        f'<p>Generated <time id="generated-at" datetime="{generated_at.isoformat()}">'
        f"{stamp}</time> from warehouse <code>{esc(warehouse)}</code>"
        f" · latest business date {business_date}</p>"
        + (f'<p id="stale-models" class="stale">{esc(stale_notice)}</p>' if stale_notice else "")
        + "</header>"
        f'<nav aria-label="Charts">{nav}</nav>'
        f"<main>{''.join(render_section(s) for s in sections)}</main>"
        "<footer>Figures read from the dbt marts and the pipeline's audit tables. "
        "Money in USD, rounded to the cent.</footer>"
        "</body></html>\n"
    )
