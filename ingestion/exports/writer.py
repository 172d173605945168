"""Export files: timestamped names, written atomically.

A file is written to a hidden temporary file in its final folder and moved into place with
``os.replace`` only once it is complete, so a reader never sees a half-written export and a
failed query leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def export_path(out_dir: Path, name: str, extension: str, moment: datetime) -> Path:
    """``<out_dir>/<name>_<UTC timestamp>.<extension>``, e.g. ``open_orders_20261202T101500Z.csv``.

    ``moment`` must be timezone-aware; it is converted to UTC.
    """
    if moment.tzinfo is None:
        raise ValueError("the export time must be timezone-aware")
    stamp = moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return out_dir / f"{name}_{stamp}.{extension}"


def write_atomically(path: Path, write: Callable[[BinaryIO], T]) -> T:
    """Call ``write`` on a temporary file beside ``path``, then move it to ``path``.

    Returns what ``write`` returns. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, before the move)
        dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # NamedTemporaryFile creates 0600; exports are shared
        os.replace(temporary, path)
    except BaseException:
        log.debug("export to %s failed; removing %s", path, temporary)
        temporary.unlink(missing_ok=True)
        raise
    log.debug("wrote %s", path)
    return result
