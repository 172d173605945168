"""Which landing files to read: tracked by name and content, not by modification time.

A landing file's modification time says little about whether it was read: ``mv``,
``rsync -a``, ``cp -p`` and unzip all keep an old one. So each resource keeps, in its dlt
resource state, one compact entry per file it has read: ``name -> [size, mtime_ns, ctime_ns,
digest]`` (``digest``: the first 128 bits of the content's SHA-256, as hex). A listed file is

- read when its name is not in the state (whatever its modification time);
- skipped, without opening it, when size, mtime and ctime are those recorded: the file was
  not touched since (its ctime changes with any write or ``touch`` and cannot be set back);
- otherwise hashed: read again when the content differs (a rewritten file: events are
  insert-only on ``event_id`` and spend merges on its key, so re-reading adds only what is
  new), else only its new times are recorded (the same content delivered again).

Entries of files no longer in the landing folder are dropped, so the state stays as small as
the folder. The state is committed with the load package (dlt keeps it locally only after a
successful extract, stores it in the warehouse with the load and restores it from there when
the local folder is gone), so a crash before the load never marks a file read for good.

Only regular files inside the landing folder are read: an entry that is anything else is
listed as *refused* (``landing_boundary``) and quarantined without its content being opened.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.sources.files.landing_boundary import is_sub_folder, refusal_of, refused_folder
from ingestion.sources.files.storable import storable_name

log = logging.getLogger(__name__)

FileStamp = tuple[int, int, int]
"""``(size, mtime_ns, ctime_ns)`` of a file."""
STATE_KEY = "landing_files"
DIGEST_HEX_CHARS = 32
"""128 bits of SHA-256: no two different contents of a file will share it."""


@dataclass(frozen=True)
class LandingFile:
    """A listed landing file to read."""

    path: Path
    name: str
    """Relative to the landing folder, with ``/``: ``clickstream/events_20250101_1.jsonl``."""
    stamp: FileStamp
    digest: str | None = None
    """The content's digest when listing already had to compute it, else None."""
    refused: str | None = None
    """Why the entry is not read but quarantined unopened (not a regular file inside the
    landing folder, or the file a reader crashed on), else None."""


def file_digest(path: Path) -> str:
    """The content fingerprint of a file (hashlib releases the GIL while it hashes)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:DIGEST_HEX_CHARS]


def file_stamp(path: Path) -> FileStamp:
    """Size, modification and change time (ns) of a file (of a link itself, never its target)."""
    stat = path.lstat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class LandingTracker:
    """The files of one landing sub-folder already read, kept in a dlt resource state."""

    def __init__(self, state: MutableMapping[str, Any], landing: Path, glob: str) -> None:
        """
        Args:
            state: The resource's dlt state (``dlt.current.resource_state()``).
            landing: The landing folder.
            glob: The files of this resource, relative to ``landing`` (``clickstream/*``).
        """
        self._read: dict[str, list[Any]] = state.setdefault(STATE_KEY, {})
        self._landing = landing
        self._glob = glob

    def to_read(self) -> list[LandingFile]:
        """The new and changed files, in name order; forgets files no longer there.

        Hidden files (a name starting with ``.``: still being written) are neither read nor
        recorded. Entries that are not regular files inside the landing folder come back
        refused (``LandingFile.refused``), first, to be quarantined unopened.
        """
        folder = self._landing / Path(self._glob).parent
        if (refusal := refused_folder(folder)) is not None:
            name = folder.relative_to(self._landing).as_posix()
            return [LandingFile(folder, name, file_stamp(folder), refused=refusal)]
        listed: list[LandingFile] = []
        refused: list[LandingFile] = []
        for path in sorted(self._landing.glob(self._glob)):
            if path.name.startswith("."):
                continue
            name = path.relative_to(self._landing).as_posix()
            try:
                entry = path.lstat()
            except FileNotFoundError:  # moved away while listing
                continue
            if is_sub_folder(path, entry):
                continue
            refusal = refusal_of(path, entry)
            stamp = (entry.st_size, entry.st_mtime_ns, entry.st_ctime_ns)
            file = LandingFile(path, name, stamp, refused=refusal)
            (listed if refusal is None else refused).append(file)
        present = {file.name for file in listed}
        for gone in [name for name in self._read if name not in present]:
            del self._read[gone]
        changed = [file for file in (self._changed(file) for file in listed) if file is not None]
        return refused + changed

    def _changed(self, file: LandingFile) -> LandingFile | None:
        known = self._read.get(file.name)
        if known is None:
            return file
        if tuple(known[:3]) == file.stamp:
            return None
        digest = file_digest(file.path)
        if digest == known[3]:
            log.debug("%s: touched, same content; not read again", file.name)
            self._read[file.name] = [*file.stamp, digest]
            return None
        log.info("%s: content changed since it was read; reading it again", file.name)
        return LandingFile(file.path, file.name, file.stamp, digest)

    def remember(self, file: LandingFile, digest: str) -> None:
        """Record ``file`` as read with the content whose ``digest`` is given."""
        if storable_name(file.name):
            self._read[file.name] = [*file.stamp, digest]


class FileDigests:
    """Fingerprints of the files about to be read, computed in a background thread.

    Hashing a new file overlaps with reading and loading the files before it. Use as a
    context manager.
    """

    def __init__(self, files: list[LandingFile]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-digests")
        self._pending: dict[str, Future[str]] = {
            file.name: self._pool.submit(file_digest, file.path)
            for file in files
            if file.digest is None and file.refused is None
        }

    def __enter__(self) -> FileDigests:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def of(self, file: LandingFile) -> str | None:
        """The digest of ``file``'s content; None if it could not be read (it is moved away)."""
        if file.digest is not None:
            return file.digest
        if file.refused is not None:
            return None
        try:
            return self._pending[file.name].result()
        except OSError:
            return None


def remember_read(tracker: LandingTracker, files: list[LandingFile]) -> Iterator[LandingFile]:
    """``files`` one by one; each is recorded as read once the caller is done with it.

    A file moved away while being read (quarantined) is not recorded: it is no longer in
    the landing folder, and if it comes back it is read as new. Nor is a file written to
    while it was read (it grew, or was rewritten: its stamp moved since it was listed): the
    reader may have missed the end, and its digest may be of the new content, which would
    then pass for read; the next run reads it whole again (events are insert-only and spend
    merges, so what was loaded is not doubled).
    """
    with FileDigests(files) as digests:
        for file in files:
            yield file
            if file.refused is not None or not file.path.exists():
                continue
            try:
                changed = file_stamp(file.path) != file.stamp
            except FileNotFoundError:
                continue
            if changed:
                log.info("%s: written to while it was read; read again next run", file.name)
                continue
            digest = digests.of(file)
            if digest is not None:
                tracker.remember(file, digest)
