"""Business time as epoch seconds (int64) inside the simulator, ISO-8601 at its edges."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

NEVER = np.iinfo(np.int64).max
"""Stands for "does not happen" in arrays of milestone times."""


def iso_seconds(epoch: np.ndarray) -> np.ndarray:
    """Epoch seconds -> ``YYYY-MM-DDTHH:MM:SSZ`` strings (vectorised)."""
    values = np.asarray(epoch, dtype=np.int64).astype("datetime64[s]")
    return np.char.add(np.datetime_as_string(values, unit="s"), "Z")


def iso_or_empty(epoch: np.ndarray) -> np.ndarray:
    """Like :func:`iso_seconds`, with ``NEVER`` turned into an empty string (NULL in COPY)."""
    values = np.asarray(epoch, dtype=np.int64)
    never = values == NEVER
    text = iso_seconds(np.where(never, 0, values)).astype(object)
    text[never] = ""
    return text


def iso_dates(epoch: np.ndarray) -> np.ndarray:
    """Epoch seconds -> ``YYYY-MM-DD`` strings (vectorised)."""
    values = np.asarray(epoch, dtype=np.int64).astype("datetime64[s]").astype("datetime64[D]")
    return np.datetime_as_string(values, unit="D")


def compact_date(epoch: int) -> str:
    """One epoch instant as ``YYYYMMDD`` (the date part of landing file names)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y%m%d")


def to_datetime(epoch: int) -> datetime:
    """Epoch seconds -> an aware UTC datetime."""
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def to_epoch(moment: datetime) -> int:
    """An aware datetime -> epoch seconds."""
    return int(moment.timestamp())


def with_iso_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """A copy of ``frame`` with epoch-second ``columns`` as ISO strings (``NEVER`` -> NULL)."""
    out = frame.copy()
    for column in columns:
        out[column] = iso_or_empty(out[column].to_numpy())
    return out
