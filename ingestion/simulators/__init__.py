"""The simulated outside world: the storefront API, the operations DB and landing-zone files.

Nothing under `ingestion.sources` may import this package: ingestion meets these systems
only over their real interfaces (HTTP, a Postgres connection, files on disk).
"""
