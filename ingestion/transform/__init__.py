"""Running dbt from the CLI: the profile it reads and the commands it runs."""
