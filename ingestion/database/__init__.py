"""The Postgres server behind the warehouse: the local embedded one, or an external one."""
