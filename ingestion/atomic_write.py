"""Files written atomically: to a hidden temporary file in the final folder, then moved into
place with ``os.replace`` once complete, so a reader never sees half a file and a failure
leaves the old one (or none) behind. Exports and the report are written this way.

A folder that cannot take the file (a path through a regular file, no permission, a read-only
or full disk, a folder standing where the file goes) is one ``UnwritableFolderError``: a
sentence naming the folder, why, and what to do, never a traceback."""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

FOLDER_ERRORS = frozenset(
    {
        errno.EACCES,
        errno.EDQUOT,
        errno.EEXIST,
        errno.EISDIR,
        errno.ENAMETOOLONG,
        errno.ENOSPC,
        errno.ENOTDIR,
        errno.EPERM,
        errno.EROFS,
    }
)
"""Errors that say the folder (or the place of the file in it) cannot take the file."""
DEFAULT_ADVICE = "choose a folder you can write to"


class UnwritableFolderError(OSError):
    """The file cannot be written into its folder; the message names the folder, why and what
    to do."""


def _reason(path: Path, exc: OSError) -> str:
    """Why ``path`` could not be written: a file in the way, else the system's own words."""
    if path.is_dir() and not path.is_symlink():
        return f"{path} is a folder, so the file cannot take its place"
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, not a folder"
            break
    return (exc.strerror or str(exc)).lower()


def unwritable(path: Path, exc: OSError, advice: str = DEFAULT_ADVICE) -> UnwritableFolderError:
    """The one-sentence error for ``path`` failing with ``exc``."""
    return UnwritableFolderError(
        f"Cannot write {path.name} into the folder {path.parent} ({_reason(path, exc)}): {advice}."
    )


def write_atomically(
    path: Path, write: Callable[[IO[bytes]], T], advice: str = DEFAULT_ADVICE, mode: int = 0o644
) -> T:
    """Call ``write`` on a temporary file beside ``path``, then move it to ``path`` (with
    permissions ``mode``: readable by all unless told otherwise).

    Returns what ``write`` returns. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. A folder that cannot take the file raises
    ``UnwritableFolderError`` ending in ``advice`` (what the caller's user can do).
    """
    try:
        return _write_atomically(path, write, mode)
    except OSError as exc:
        if isinstance(exc, UnwritableFolderError) or exc.errno not in FOLDER_ERRORS:
            raise
        log.debug("cannot write %s", path, exc_info=True)
        raise unwritable(path, exc, advice) from exc


def _write_atomically(path: Path, write: Callable[[IO[bytes]], T], mode: int) -> T:
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
        os.chmod(temporary, mode)  # NamedTemporaryFile creates 0600
        os.replace(temporary, path)
    except BaseException:
        log.debug("writing %s failed; removing %s", path, temporary)
        temporary.unlink(missing_ok=True)
        raise
    log.debug("wrote %s", path)
    return result
