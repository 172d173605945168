"""Running the dlt pipelines: one pipeline per source, audit rows, accounting and summaries."""
