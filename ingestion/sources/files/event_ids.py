"""The event ids a run has already carried, kept as 128-bit pairs in sorted numpy runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.sources.files.settings import EVENT_ID_HASH_KEYS


class SeenEventIds:
    """The event ids already handed to dlt in this run, to drop repeats before the load.

    The ``insert-only`` merge never inserts a key the table already has, but rows of one load
    that share a key would all be inserted: a run must therefore carry each ``event_id`` once
    (the same file delivered twice under two names arrives in one run). Each id is kept as a
    128-bit pair in sorted numpy runs that are merged as they grow: 16 bytes per event, no
    Python object per row.

    Ids are compared as text. A canonical lower-case UUID (``8-4-4-4-12`` hex digits, as
    the trackers send) is decoded exactly into its 128 bits straight from the Arrow buffers
    (``uuid_bits``), which is several times faster than hashing Python strings and cannot
    collide. Any other id (upper case, braces, free text, null) is kept as two keyed 64-bit
    SipHashes (a false match among 10^9 ids has a chance below 10^-20) in a separate store:
    the two kinds of id never share a text, so they never need comparing with each other.
    """

    def __init__(self) -> None:
        self._uuids = _PairSet()
        self._hashed = _PairSet()

    def first_seen(self, event_ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Mask of the rows whose id is new to this run (first occurrence); remembers them."""
        ids = event_ids.combine_chunks() if isinstance(event_ids, pa.ChunkedArray) else event_ids
        if ids.type != pa.string():
            ids = ids.cast(pa.string())
        canonical, high, low = uuid_bits(ids)
        if canonical.all():
            return self._uuids.first_seen(*_spread(high, low))
        mask = np.empty(len(ids), dtype=bool)
        mask[canonical] = self._uuids.first_seen(*_spread(high, low))
        others = ~canonical
        values = ids.filter(pa.array(others)).to_numpy(zero_copy_only=False)
        hashes = (
            pd.util.hash_array(values, hash_key=key, categorize=False) for key in EVENT_ID_HASH_KEYS
        )
        mask[others] = self._hashed.first_seen(*hashes)
        return mask


_UUID_LENGTH = 36
_UUID_DASHES = np.array([8, 13, 18, 23])
_UUID_HEX = np.setdiff1d(np.arange(_UUID_LENGTH), _UUID_DASHES)
_NIBBLE = np.full(256, 0xFF, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
"""ASCII byte -> hex digit value; 0xFF for anything but ``0-9a-f`` (upper case is not canonical)."""


def uuid_bits(ids: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which ids of a string array are canonical lower-case UUIDs, and their exact bits.

    Returns ``(canonical, high, low)``: a mask over ``ids``, and the high and low 64 bits of
    each canonical id, in order. Read with numpy from the array's offsets and data buffers;
    no Python string is made.
    """
    count = len(ids)
    empty = np.zeros(0, dtype=np.uint64)
    _, offsets_buffer, data_buffer = ids.buffers()
    if count == 0 or data_buffer is None:
        return np.zeros(count, dtype=bool), empty, empty
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[ids.offset : ids.offset + count + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    start = int(offsets[0])
    if int(offsets[-1]) - start == _UUID_LENGTH * count and ids.null_count == 0:
        # every id 36 bytes long (the usual case): the bytes are a (count, 36) matrix as is
        candidate = np.ones(count, dtype=bool)
        text = data[start : start + _UUID_LENGTH * count].reshape(count, _UUID_LENGTH)
    else:
        candidate = np.diff(offsets) == _UUID_LENGTH
        if ids.null_count:
            candidate &= ids.is_valid().to_numpy(zero_copy_only=False)
        text = data[offsets[:-1][candidate, None] + np.arange(_UUID_LENGTH)]
    nibbles = _NIBBLE[text[:, _UUID_HEX]]
    good = (nibbles != 0xFF).all(axis=1) & (text[:, _UUID_DASHES] == ord("-")).all(axis=1)
    if not good.all():
        candidate[np.flatnonzero(candidate)[~good]] = False
        nibbles = nibbles[good]
    octets = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    halves = np.ascontiguousarray(octets).view(">u8").astype(np.uint64)
    return candidate, halves[:, 0].copy(), halves[:, 1].copy()


def _spread(high: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(high ^ mix(low), low)``: a one-to-one remapping of exact 128-bit ids.

    ``_PairSet`` looks ids up by their first half; UUIDs made from a counter share it (all
    zero), so it is spread with the ``splitmix64`` finaliser of the second half. The map is
    reversible, so distinct ids stay distinct.
    """
    with np.errstate(over="ignore"):
        mixed = low ^ (low >> np.uint64(30))
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(27)
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(31)
    return high ^ mixed, low


class _PairSet:
    """A growing set of 128-bit ``(high, low)`` pairs in sorted numpy runs."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def first_seen(self, high: np.ndarray, low: np.ndarray) -> np.ndarray:
        """Mask of the pairs new to the set (first occurrence in the batch); remembers them."""
        order = np.lexsort((low, high))
        high, low = high[order], low[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (high[1:] != high[:-1]) | (low[1:] != low[:-1])
        for run_high, run_low in self._runs:
            new &= ~_contains(run_high, run_low, high, low)
        self._remember(high[new], low[new])
        mask = np.empty(len(order), dtype=bool)
        mask[order] = new
        return mask

    def _remember(self, high: np.ndarray, low: np.ndarray) -> None:
        self._runs.append((high, low))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            # one array at a time, each input released as soon as it is copied: the merge of
            # the largest runs is the run's memory peak (4 arrays of 8 bytes an id, not 7)
            (high_a, low_a), (high_b, low_b) = self._runs.pop(), self._runs.pop()
            high = np.concatenate([high_b, high_a])
            del high_a, high_b
            low = np.concatenate([low_b, low_a])
            del low_a, low_b
            # two sorted runs: the stable sort (timsort) merges them in linear time; ids are
            # looked up by ``high`` then compared on ``low``, so ties need no order
            order = np.argsort(high, kind="stable")
            high = high[order]
            low = low[order]
            del order
            self._runs.append((high, low))


def _contains(
    run_high: np.ndarray, run_low: np.ndarray, high: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """Whether each (high, low) pair is in the sorted run (vectorised; exact)."""
    first = np.searchsorted(run_high, high, side="left")
    last = np.searchsorted(run_high, high, side="right")
    found = np.zeros(len(high), dtype=bool)
    single = last - first == 1
    found[single] = run_low[first[single]] == low[single]
    for row in np.flatnonzero(last - first > 1):
        found[row] = bool((run_low[first[row] : last[row]] == low[row]).any())
    return found
