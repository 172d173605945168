"""Unit tests of the pure parts of the sources: validation rules, event flattening, readers."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ingestion.sources.files.event_ids import SeenEventIds, uuid_bits
from ingestion.sources.files.helpers import event_chunks
from ingestion.sources.files.quarantine import UnreadableFileError, quarantine_file
from ingestion.sources.files.read_ahead import dlt_ids, utc_timestamp_text
from ingestion.sources.files.settings import EVENT_COLUMN_TYPES, EVENT_ID_HASH_KEYS
from ingestion.sources.files.spend import clean_spend, spend_records
from ingestion.sources.storefront.helpers import clean_product, clean_sale, date_windows
from ingestion.sources.validation import RejectedRecordError, parse_decimal, parse_timestamp

PRODUCT = {
    "id": 17,
    "sku": "SKU-000017",
    "title": "Tent",
    "price": 19.99,
    "is_deleted": False,
    "created_at": "2025-01-03T10:00:00Z",
    "updated_at": "2025-06-01T08:30:00Z",
    "tags": ["outdoor"],
    "images": [],
    "reviews": [{"id": 9, "rating": 4, "date": "2025-05-02T09:00:00Z"}],
}


def test_timestamps_parse_to_utc_and_garbage_is_rejected() -> None:
    assert parse_timestamp("2025-06-01T10:30:00+02:00", "t") == dt.datetime(
        2025, 6, 1, 8, 30, tzinfo=dt.UTC
    )
    with pytest.raises(RejectedRecordError, match="unparseable"):
        parse_timestamp("yesterday", "updated_at")


def test_decimals_accept_numeric_text_and_reject_the_rest() -> None:
    assert parse_decimal("19.99", "price") == Decimal("19.99")
    for bad in ("abc", None, True, "nan"):
        with pytest.raises(RejectedRecordError):
            parse_decimal(bad, "price")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id"),
        ({"price": "twelve"}, "price"),
        ({"price": -3}, "price"),
        ({"updated_at": "not a date"}, "updated_at"),
    ],
)
def test_malformed_products_are_rejected_with_a_reason(change: dict, reason: str) -> None:
    with pytest.raises(RejectedRecordError, match=reason):
        clean_product({**PRODUCT, **change})


def test_a_valid_product_keeps_unknown_fields_for_schema_drift() -> None:
    product = clean_product({**PRODUCT, "sustainability_score": 71})
    assert product["price"] == Decimal("19.99")
    assert product["sustainability_score"] == 71
    assert product["reviews"][0]["date"].tzinfo is not None


def test_sales_need_a_key_and_a_sold_at() -> None:
    sale = {"partner_order_id": "AMZ-1", "quantity": 2, "gross_amount": "39.98"}
    with pytest.raises(RejectedRecordError, match="sold_at"):
        clean_sale(sale)
    assert clean_sale({**sale, "sold_at": "2025-01-02T11:00:00Z"})["quantity"] == 2


def test_date_windows_are_consecutive_and_inclusive() -> None:
    windows = date_windows(dt.date(2025, 1, 1), 31)
    assert [next(windows), next(windows)] == [
        (dt.date(2025, 1, 1), dt.date(2025, 1, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 3, 3)),
    ]


def event(event_id: str | None = "e1", timestamp: str = "2025-03-01T10:00:00Z") -> dict:
    return {
        "event_id": event_id,
        "timestamp": timestamp,
        "event_name": "view",
        "user_identifiers": {"platform": "web", "id": "42"},
        "product_information": {"name": "Tent", "SKU": "SKU-000017"},
        "order_id": None,
    }


def test_events_are_flattened_typed_and_invalid_rows_split_off(tmp_path: Path) -> None:
    path = tmp_path / "events_20250301_1.jsonl"
    lines = [event(), event(event_id=None), event("e3", timestamp="soon")]
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\n")
    [(table, rejects)] = list(event_chunks(path, "clickstream/x.jsonl"))
    assert table.column_names == list(EVENT_COLUMN_TYPES)
    assert table["timestamp"].type == pa.timestamp("us", tz="UTC")
    assert table.num_rows == 1 and len(rejects) == 2
    assert {reason.split(": ", 1)[1].split(":")[0] for reason, _ in rejects} == {
        "event_id",
        "timestamp",
    }


def test_a_truncated_line_is_rejected_and_the_other_lines_load(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event("a")) + "\n" + json.dumps(event("b"))[:30] + "\n")
    chunks = list(event_chunks(path, "clickstream/events.jsonl"))
    assert sum(t.num_rows for t, _ in chunks) == 1
    assert sum(len(r) for _, r in chunks) == 1


def test_an_event_id_is_carried_once_per_run_whatever_the_batch() -> None:
    seen = SeenEventIds()
    first = seen.first_seen(pa.chunked_array([["a", "b", "a", "c"]]))
    assert first.tolist() == [True, True, False, True]
    for number in range(20):  # enough batches to merge the remembered runs several times
        fresh = [f"id-{number}-{i}" for i in range(50)]
        assert seen.first_seen(pa.chunked_array([fresh])).all()
    again = seen.first_seen(pa.chunked_array([["c", "d", "id-3-7", "d", "id-19-49", "e"]]))
    assert again.tolist() == [False, True, False, False, False, True]


def test_row_ids_are_made_in_bulk_and_distinct() -> None:
    ids = dlt_ids(10_000)
    assert len(ids) == 10_000 and ids.type == pa.string()
    assert len(set(ids.to_pylist())) == 10_000
    assert {len(i) for i in ids.to_pylist()} == {16}


def test_a_file_without_any_readable_line_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\x00\xff garbage\nmore garbage\n")
    with pytest.raises(UnreadableFileError):
        list(event_chunks(path, "clickstream/events.jsonl"))


def test_spend_with_wrong_columns_is_unreadable_and_bad_rows_are_rejected(
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "spend_1.csv"
    wrong.write_text("day,channel,cost\n2025-01-01,web,3\n")
    with pytest.raises(UnreadableFileError, match="wrong columns"):
        spend_records(wrong)
    good = tmp_path / "spend_2.csv"
    good.write_text(
        "date,channel,campaign,spend,currency,impressions,clicks\n"
        "2025-02-30,web,brand,1.5,USD,10,1\n"
    )
    [(where, record)] = spend_records(good)
    assert where == "line 2"
    with pytest.raises(RejectedRecordError, match="date"):
        clean_spend(record, "marketing_spend/spend_2.csv")


def test_quarantine_moves_the_file_beside_its_reason(tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "marketing_spend"
    landing.mkdir(parents=True)
    source = landing / "spend_1.csv"
    source.write_text("x")
    target = quarantine_file(source, "marketing_spend/spend_1.csv", tmp_path / "q", "bad")
    assert not source.exists() and target.read_text() == "x"
    assert target.with_name("spend_1.csv.reason").read_text() == "bad\n"


def test_timestamps_become_utc_text_with_an_explicit_offset() -> None:
    stamps = pa.chunked_array(
        [pa.array([dt.datetime(2026, 1, 1, 21, 30, 0, 123456), None], pa.timestamp("us"))]
    ).cast(pa.timestamp("us", tz="UTC"))
    assert utc_timestamp_text(stamps).to_pylist() == ["2026-01-01 21:30:00.123456+00", None]


def _hashed_only_mask(seen: SeenEventIds, batch: list[str | None]) -> list[bool]:
    """The mask of the hashing path alone: every id treated as non-canonical."""
    values = np.array(batch, dtype=object)
    hashes = (
        pd.util.hash_array(values, hash_key=key, categorize=False) for key in EVENT_ID_HASH_KEYS
    )
    return seen._hashed.first_seen(*hashes).tolist()


def test_canonical_uuids_are_decoded_exactly_and_the_rest_hashed() -> None:
    ids = pa.array([str(uuid.UUID(int=1)), "A" * 36, "x", None, "{" + str(uuid.uuid4()) + "}"])
    canonical, high, low = uuid_bits(ids)
    assert canonical.tolist() == [True, False, False, False, False]
    assert (int(high[0]), int(low[0])) == (0, 1)
    value = uuid.uuid4()
    canonical, high, low = uuid_bits(pa.array([str(value)] * 3).slice(1))
    assert canonical.tolist() == [True, True]
    assert (int(high[0]) << 64 | int(low[0])) == value.int


def test_fast_path_and_fallback_give_the_same_masks_on_mixed_batches() -> None:
    rng = random.Random(7)
    pool: list[str | None] = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(300)]
    pool += [str(uuid.UUID(int=n)) for n in range(1, 100)]  # counter ids: high half all zero
    pool += [text.upper() for text in pool[:50]] + [f"id-{n}" for n in range(100)] + [None]
    mixed, reference = SeenEventIds(), SeenEventIds()
    for _ in range(30):
        batch: list[str | None] = [rng.choice(pool) for _ in range(rng.randint(1, 80))]
        if rng.random() < 0.5:  # all canonical: the whole batch on the fast path
            batch = [text for text in batch if text and text == text.lower() and "-" in text[8:9]]
        if not batch:
            continue
        got = mixed.first_seen(
            pa.chunked_array([batch[: len(batch) // 2], batch[len(batch) // 2 :]], pa.string())
        )
        assert got.tolist() == _hashed_only_mask(reference, batch)


def test_uuid_ids_repeated_across_batches_are_dropped() -> None:
    seen = SeenEventIds()
    ids = [str(uuid.UUID(int=n + 1)) for n in range(1000)]
    assert seen.first_seen(pa.chunked_array([ids[:600]])).all()
    again = seen.first_seen(pa.chunked_array([ids[500:] + ids[999:]]))
    assert again.tolist() == [False] * 100 + [True] * 400 + [False]


def test_a_non_canonical_id_never_matches_a_canonical_one() -> None:
    seen = SeenEventIds()
    value = str(uuid.uuid4())
    assert seen.first_seen(pa.chunked_array([[value]])).tolist() == [True]
    spellings = [value.upper(), value.replace("-", ""), "{" + value + "}", " " + value[1:]]
    assert seen.first_seen(pa.chunked_array([spellings])).all()
    assert seen.first_seen(pa.chunked_array([[value, *spellings]])).tolist() == [False] * 5
