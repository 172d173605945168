"""The landing folder's boundary: only regular files inside it are ever opened.

Every entry is looked at with ``lstat`` (the entry itself, never what it points to) and any
entry that is not a plain regular file is refused, to be quarantined without its content
being opened:

- a symbolic link, wherever it points: following one once put the warehouse password (a link
  to the local credentials file) into ``rejected_records``, and a link inside the folder
  would read one file twice. *Decision*: no link is followed, not even one that stays
  inside; a delivery is a file, not a pointer to one;
- a regular file with more than one hard link: it may be a second name of any file on the
  same file system (a hard link cannot be told apart from the original), so deliver a copy;
- a named pipe (opening one would block the run until a writer comes), a socket, a device;
- a directory named like a file (``events_x.jsonl/``); other sub-folders are not this
  resource's and are left alone;
- a resource folder (``clickstream/``) that is a link or not a folder: its entries would lie
  outside the landing folder, so nothing in it is listed and the link itself is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DELIVER = "deliver the file itself"


def refusal_of(path: Path, entry: os.stat_result) -> str | None:
    """Why a landing entry (``entry``: its ``lstat``) is not read, or None for a regular file."""
    mode = entry.st_mode
    if stat.S_ISLNK(mode):
        return f"a symbolic link, not a regular file: links are never followed ({DELIVER})"
    if stat.S_ISREG(mode):
        if entry.st_nlink > 1:
            return (
                f"a regular file with {entry.st_nlink} hard links, which may be a second name "
                "of a file outside the landing folder: deliver a copy"
            )
        return None
    if stat.S_ISDIR(mode):
        return f"a directory named like a file, not a regular file ({DELIVER})"
    if stat.S_ISFIFO(mode):
        return (
            f"a named pipe (FIFO), not a regular file: reading it could block the run ({DELIVER})"
        )
    if stat.S_ISSOCK(mode):
        return f"a socket, not a regular file ({DELIVER})"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"a device file, not a regular file ({DELIVER})"
    return f"not a regular file (mode {stat.filemode(mode)}) ({DELIVER})"


def is_sub_folder(path: Path, entry: os.stat_result) -> bool:
    """A directory whose name has no file suffix: not a delivery, left alone."""
    return stat.S_ISDIR(entry.st_mode) and not path.suffix


def refused_folder(folder: Path) -> str | None:
    """Why a resource's folder is not listed (a link, or not a folder), or None."""
    try:
        entry = folder.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(entry.st_mode):
        return (
            "a symbolic link in place of the resource's folder: its files would lie outside "
            "the landing folder, so none is read (make it a real folder)"
        )
    if not stat.S_ISDIR(entry.st_mode):
        return "not a folder, in place of the resource's folder (make it a real folder)"
    return None


def landing_problem(landing: Path) -> str | None:
    """One sentence when the landing folder cannot be used as one, else None."""
    if landing.is_dir():
        return None
    if landing.exists() or landing.is_symlink():
        return (
            f"The landing folder {landing} is not a folder (it is a file or a broken link): "
            "point SHOPFLOW_LANDING_DIR at a folder, or move that file away."
        )
    return None
