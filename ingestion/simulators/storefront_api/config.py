"""How one storefront API server behaves: its key, its rate limit and the faults it injects.

Every field can come from an environment variable (names below, as in
docs/source-systems.md); all faults are off by default. The API key is generated when none
is given, so no key is ever written in code.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ingestion.settings import ConnectionSettings

ENV_API_KEY = "STOREFRONT_API_KEY"
ENV_RATE_LIMIT = "STOREFRONT_RATE_LIMIT"
ENV_ERROR_RATE = "STOREFRONT_FAULT_ERROR_RATE"
ENV_SLOW_RATE = "STOREFRONT_FAULT_SLOW_RATE"
ENV_SLOW_SECONDS = "STOREFRONT_FAULT_SLOW_SECONDS"
ENV_MALFORMED_RATE = "STOREFRONT_FAULT_MALFORMED_RATE"
ENV_EXTRA_FIELD = "STOREFRONT_FAULT_EXTRA_FIELD"
ENV_DUPLICATES = "STOREFRONT_FAULT_DUPLICATES"
ENV_MISSING_DATA_RATE = "STOREFRONT_FAULT_MISSING_DATA_RATE"
ENV_EMPTY_PAGE_RATE = "STOREFRONT_FAULT_EMPTY_PAGE_RATE"
ENV_LOST_RECORD_RATE = "STOREFRONT_FAULT_LOST_RECORD_RATE"
ENV_SEED = "STOREFRONT_FAULT_SEED"

DEFAULT_RATE_LIMIT_PER_SECOND = 20
DEFAULT_SLOW_SECONDS = 5.0
DEFAULT_SEED = 42

RATE_FIELDS = (
    "error_rate",
    "slow_rate",
    "malformed_rate",
    "missing_data_rate",
    "empty_page_rate",
    "lost_record_rate",
)
"""The fields that are shares between 0 and 1."""

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def generate_api_key() -> str:
    """A fresh random API key for a local run."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ApiConfig:
    """Settings of one storefront API server.

    ``connection`` names the Postgres server and ``ops_database`` whose ``storefront``
    schema is served; ``None`` means the settings in force (``connection_settings()``).
    Rates are shares between 0 and 1, drawn from a ``random.Random(seed)``. The page faults
    answer ``200`` with a broken list page: ``missing_data_rate`` leaves out the data key
    (``products``/``sales``), ``empty_page_rate`` empties a page that had records (the
    pointers to the next page and the total stay), ``lost_record_rate`` silently drops one
    record of a page, so the pages no longer add up to the announced ``total``.
    """

    api_key: str = field(default_factory=generate_api_key, repr=False)
    rate_limit_per_second: int = DEFAULT_RATE_LIMIT_PER_SECOND
    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    malformed_rate: float = 0.0
    extra_field: bool = False
    duplicates: bool = False
    missing_data_rate: float = 0.0
    empty_page_rate: float = 0.0
    lost_record_rate: float = 0.0
    seed: int = DEFAULT_SEED
    connection: ConnectionSettings | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if self.rate_limit_per_second < 1:
            raise ValueError(f"rate_limit_per_second={self.rate_limit_per_second} is below 1")
        for name in RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} is outside 0-1")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds={self.slow_seconds} is negative")

    @property
    def faults_enabled(self) -> bool:
        """Whether any fault is switched on."""
        return bool(
            self.error_rate
            or self.slow_rate
            or self.malformed_rate
            or self.extra_field
            or self.duplicates
            or self.missing_data_rate
            or self.empty_page_rate
            or self.lost_record_rate
        )

    def with_connection(self, connection: ConnectionSettings) -> ApiConfig:
        """The same configuration serving another server or database."""
        return replace(self, connection=connection)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ApiConfig:
        """Build a configuration from ``STOREFRONT_*`` variables; keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        readers: dict[str, tuple[str, Any]] = {
            "api_key": (ENV_API_KEY, str),
            "rate_limit_per_second": (ENV_RATE_LIMIT, int),
            "error_rate": (ENV_ERROR_RATE, float),
            "slow_rate": (ENV_SLOW_RATE, float),
            "slow_seconds": (ENV_SLOW_SECONDS, float),
            "malformed_rate": (ENV_MALFORMED_RATE, float),
            "extra_field": (ENV_EXTRA_FIELD, parse_flag),
            "duplicates": (ENV_DUPLICATES, parse_flag),
            "missing_data_rate": (ENV_MISSING_DATA_RATE, float),
            "empty_page_rate": (ENV_EMPTY_PAGE_RATE, float),
            "lost_record_rate": (ENV_LOST_RECORD_RATE, float),
            "seed": (ENV_SEED, int),
        }
        for name, (variable, convert) in readers.items():
            raw = env.get(variable)
            if raw is None or (raw.strip() == "" and convert is not parse_flag):
                continue
            try:
                values[name] = convert(raw.strip())
            except ValueError as exc:
                raise ValueError(f"{variable}={raw!r} is not valid: {exc}") from exc
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown ApiConfig fields: {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def parse_flag(raw: str) -> bool:
    """Read an on/off environment value (``1/true/yes/on`` or ``0/false/no/off``)."""
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"{raw!r} is not one of 1/0, true/false, yes/no, on/off")
