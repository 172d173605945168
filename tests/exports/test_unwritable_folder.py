"""A folder that cannot take an export or the report is one sentence naming the folder, why
and what to do (``UnwritableFolderError``), and nothing is left behind.

Tests run as root here, which ignores file permissions: the folders are made unwritable in
ways root cannot get around (a path through a regular file, a folder where the file goes,
sysfs, which refuses new entries to everyone).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion.atomic_write import UnwritableFolderError, write_atomically

SYSFS = Path("/sys")


def write_one(path: Path) -> int:
    return write_atomically(path, lambda stream: stream.write(b"x"), "use --out elsewhere")


def test_a_folder_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "exports"
    blocker.write_text("a file, not a folder")
    target = blocker / "daily" / "open_orders.csv"
    with pytest.raises(UnwritableFolderError) as caught:
        write_one(target)
    assert str(caught.value) == (
        f"Cannot write open_orders.csv into the folder {target.parent} "
        f"({blocker} is a file, not a folder): use --out elsewhere."
    )
    assert blocker.read_text() == "a file, not a folder"


def test_the_folder_itself_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("")
    with pytest.raises(
        UnwritableFolderError, match=re.escape(f"{blocker} is a file, not a folder")
    ):
        write_one(blocker / "index.html")


def test_a_folder_where_the_file_goes(tmp_path: Path) -> None:
    (tmp_path / "index.html").mkdir()
    with pytest.raises(UnwritableFolderError, match=r"index\.html is a folder, so the file cannot"):
        write_one(tmp_path / "index.html")
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary file left


@pytest.mark.skipif(not SYSFS.is_dir(), reason="needs Linux sysfs")
def test_a_folder_nobody_may_create() -> None:
    with pytest.raises(UnwritableFolderError, match=r"operation not permitted|permission denied"):
        write_one(SYSFS / "shopflow-exports" / "open_orders.csv")


def test_an_error_of_the_write_itself_is_not_blamed_on_the_folder(tmp_path: Path) -> None:
    def broken(stream: object) -> int:
        raise ConnectionResetError("the server went away")

    with pytest.raises(ConnectionResetError):
        write_atomically(tmp_path / "q.csv", broken)
    assert list(tmp_path.iterdir()) == []
