"""The landing folder the bounded-reader cases share: a world with a few good files, the
credentials file outside it that a link may point at, and what a case must leave behind."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.ingest_support import IngestWorld
from tests.reliability.support import CliWorld

SECRET = "pw-" + "7f3b9c1e5a"
"""Stands for the warehouse password in the local credentials file a link points at."""
SPEND_HEADER = "date,channel,campaign,spend,currency,impressions,clicks"
GOOD_FILES = ("clickstream/events_20260101_1.jsonl", "marketing_spend/spend_20260101.csv")


@dataclass(frozen=True)
class Landing:
    world: IngestWorld
    cli: CliWorld
    outside: Path
    """A folder beside the landing folder holding the 'credentials' file."""
    partly_good: set[str] = field(default_factory=set)
    """Files of earlier cases whose good lines loaded (each case checks them itself)."""

    @property
    def quarantine(self) -> Path:
        return self.world.landing.parent / "quarantine"

    def drop(self, name: str, content: bytes) -> Path:
        path = self.world.landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def events_table(self) -> tuple[int, str]:
        """Row count and digest of the events loaded (dlt's ids and load ids left out), but
        those of the ``partly_good`` files."""
        left_out = ", ".join(f"'{name}'" for name in self.partly_good) or "''"
        return self._digest(
            "select event_id, timestamp, event_name, user_identifiers__platform,"
            " user_identifiers__id, product_information__name, product_information__sku,"
            " order_id, extra_properties, source_file from raw_files.events"
            f" where source_file not in ({left_out})"
        )

    def spend_table(self) -> tuple[int, str]:
        return self._digest(
            "select date, channel, campaign, spend, currency, impressions, clicks, source_file"
            " from raw_files.marketing_spend"
        )

    def _digest(self, query: str) -> tuple[int, str]:
        row = self.world.query(
            "select count(*), coalesce(md5(string_agg(md5(r::text), '' order by md5(r::text))),"
            f" '') from ({query}) as r"
        )[0]
        return int(row[0]), str(row[1])

    def quarantined(self, name: str) -> list[str]:
        return [
            r[0]
            for r in self.world.query(
                f"select reason from raw_files.quarantined_files where file_name = '{name}'"
            )
        ]

    def rejected(self, name: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.world.query(
                "select reason, raw_payload from raw_files.rejected_records"
                f" where reason like '{name} %'"
            )
        ]

    def ingest_cli(self, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = self.cli.run("ingest", "files", timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done


def settled(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]], leaving_out: str = ""
) -> None:
    """The promise after a case: raw equals the clean run (but for the good lines of the file
    ``leaving_out``), and the next run has nothing to do: no file read, nothing new
    quarantined or rejected."""
    if leaving_out:
        landing.partly_good.add(leaving_out)
    assert (landing.events_table(), landing.spend_table()) == clean
    count = (
        "select (select count(*) from raw_files.quarantined_files),"
        " (select count(*) from raw_files.rejected_records),"
        " (select count(*) from raw_files.events)"
    )
    counts = landing.world.query(count)
    report = landing.world.ingest("files")
    assert report.ok, report.units
    assert sum(unit.files_read for unit in report.units) == 0
    assert landing.world.query(count) == counts


def quarantined_once(landing: Landing, name: str, bound: str) -> None:
    """``name`` was quarantined once, unread, with a reason naming ``bound``, and moved."""
    [reason] = landing.quarantined(name)
    assert bound in reason, reason
    assert not os.path.lexists(landing.world.landing / name)
    assert os.path.lexists(landing.quarantine / name)
