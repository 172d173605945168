"""Files written atomically: to a hidden temporary file in the final folder, then moved into
place with ``os.replace`` once complete, so a reader never sees half a file and a failure
leaves the old one (or none) behind. Exports and the report are written this way."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def write_atomically(path: Path, write: Callable[[IO[bytes]], T]) -> T:
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
        os.chmod(temporary, 0o644)  # NamedTemporaryFile creates 0600; these files are shared
        os.replace(temporary, path)
    except BaseException:
        log.debug("writing %s failed; removing %s", path, temporary)
        temporary.unlink(missing_ok=True)
        raise
    log.debug("wrote %s", path)
    return result
