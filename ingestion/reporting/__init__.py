"""`shopflow report`: a static, self-contained HTML report of the marts and data quality.

``queries`` reads the warehouse, ``datasets`` holds a chart's figures, ``svg`` and ``charts``
draw inline SVG, ``page`` lays out the HTML, ``sections`` says what each chart shows and
``report`` writes the file.
"""

from ingestion.reporting.report import summary_line, write_report

__all__ = ["summary_line", "write_report"]
