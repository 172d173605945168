"""Errors a person can act on: raised with a message that says what to do."""


class DatabaseError(RuntimeError):
    """The database could not be reached, started or used; the message says why."""


class WarehouseNotBuiltError(RuntimeError):
    """The warehouse has not been built yet (no marts, no quality metrics); the message says
    what to run."""
