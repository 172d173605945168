"""Spark, the second engine: the local session's configuration and state folders, shared by the
dbt profile's `spark` output and by Python readers of the tables dbt builds there; and the
parity check that compares its marts with Postgres' by checksum."""
