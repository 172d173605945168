"""Data quality outside dbt's own tests: project rules, alerts."""
