"""Benchmarks: the ingest benchmark (`scripts/benchmark`), whole pipeline runs at growing scale
and Spark against Postgres, and the docs sections they write."""
